"""The Family tree page in a real browser at 1440×900: drawn with arrowheads, every label readable
(none overlapping another, none under 11 px), the tree within the page width, an arrow's hover
naming its mechanism, a click opening the model's page, SVG and PNG exports that are valid files,
the grouping control changing the lanes, and a hostile graph drawn as text that runs nothing."""

from __future__ import annotations

import json
import re
import struct
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect

from ._helpers import SHOTS, StreamlitServer, goto, screenshot

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1440, "height": 900}
ROOT = '[data-testid="plm-family-tree"]'
# the component lives in a shadow root: find its root element from the page
FIND = """() => { const sel = '[data-testid="plm-family-tree"]';
  const walk = (node) => { const hit = node.querySelector(sel); if (hit) return hit;
    for (const el of node.querySelectorAll('*')) if (el.shadowRoot) { const r = walk(el.shadowRoot); if (r) return r; }
    return null; };
  return walk(document); }"""
MODELS = ["Transformer", "ELMo", "ULMFiT", "SiATL", "GPT", "GPT-2", "BERT", "BERT-WWM", "MASS", "UniLM", "ERNIE-1.0",
          "ERNIE-THU", "MT-DNN", "ERNIE-2.0", "SpanBERT", "RoBERTa", "Transformer-XL", "XLNet", "NADE", "NNLM",
          "word2vec"]


def open_tree(page, url: str) -> dict:
    page.set_viewport_size(VIEWPORT)
    goto(page, url + "/timeline")
    return drawn(page)


def drawn(page, lanes_were: list[str] | None = None) -> dict:
    """The data-drawn report, once settled (and, with `lanes_were`, once its lanes are others)."""
    page.wait_for_function(f"""(old) => {{ const r = ({FIND})(); if (!r || !r.dataset.drawn) return false;
        const d = JSON.parse(r.dataset.drawn); return d.settled && JSON.stringify(d.lanes) !== old; }}""",
                           arg=json.dumps(lanes_were, separators=(",", ":")) if lanes_were else None,
                           timeout=30_000)
    return json.loads(page.evaluate(f"() => ({FIND})().dataset.drawn"))


def boxes_overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def point_on(page, selector: str, back: float) -> tuple[float, float]:
    """Viewport coordinates of the point `back` px before the end of the path `selector` (scrolled into view),
    checked to be the topmost element there."""
    return tuple(page.evaluate(f"""([sel, back]) => {{ const root = ({FIND})(); const p = root.querySelector(sel);
        p.scrollIntoView({{block: 'center'}});
        const len = p.getTotalLength(); const q = p.getPointAtLength(Math.max(0, len - back));
        const m = p.getScreenCTM(); const x = m.a * q.x + m.c * q.y + m.e, y = m.b * q.x + m.d * q.y + m.f;
        const top = root.getRootNode().elementFromPoint(x, y);
        if (!top || top.getAttribute('data-edge') !== p.getAttribute('data-edge')) throw new Error('covered: ' + (top && top.outerHTML.slice(0, 80)));
        return [x, y]; }}""", [selector, back]))


def label_point(page, node_id: str) -> tuple[float, float]:
    return tuple(page.evaluate(f"""(id) => {{ const root = ({FIND})();
        const t = root.querySelector(`[data-node="${{id}}"] .label`); t.scrollIntoView({{block: 'center'}});
        const r = t.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }}""", node_id))


def test_the_tree_is_drawn_readable_with_arrowheads_within_the_page_width(page, app_url):
    d = open_tree(page, app_url)
    print(f"\nfamily tree drawn in {d['ms']} ms, {d['width']}×{d['height']} px")
    ids = [n["id"] for n in d["nodes"]]
    assert sorted(ids) == sorted(MODELS) and all(n["shown"] for n in d["nodes"])
    # every model labelled, with its name as text
    texts = page.evaluate(f"""() => Object.fromEntries([...({FIND})().querySelectorAll('[data-node]')]
        .map(g => [g.dataset.node, g.querySelector('.label').textContent]))""")
    assert texts["ERNIE-THU"] == "ERNIE (THU)" and texts["XLNet"] == "XLNet" and all(texts[i] for i in ids)
    # labels: at least 11 px high, none overlapping another
    heights = [n["labelBox"][3] for n in d["nodes"]]
    print(f"label heights {min(heights)}–{max(heights)} px")
    assert min(heights) >= 11
    boxes = [n["labelBox"] for n in d["nodes"]]
    clashes = [(ids[i], ids[j]) for i in range(len(boxes)) for j in range(i) if boxes_overlap(boxes[i], boxes[j])]
    assert not clashes, clashes
    # every text of the drawing (labels, lane names, axis, legend): at least 11 px, and no two overlapping
    every = page.evaluate(f"""() => [...({FIND})().querySelectorAll('svg text')].map(t => {{
        const r = t.getBoundingClientRect(); return [t.textContent, parseFloat(getComputedStyle(t).fontSize),
        [r.x, r.y, r.width, r.height]]; }})""")
    assert min(size for _, size, _ in every) >= 11
    clashes = [(a[0], b[0]) for i, a in enumerate(every) for b in every[:i] if boxes_overlap(a[2], b[2])]
    assert not clashes, clashes
    # within the page width: the drawing, every label, and no horizontal scroll
    assert d["svgBox"][0] >= 0 and d["svgBox"][0] + d["svgBox"][2] <= VIEWPORT["width"]
    assert all(b[0] >= d["svgBox"][0] and b[0] + b[2] <= d["svgBox"][0] + d["svgBox"][2] for b in boxes)
    assert page.evaluate("""() => { const m = document.querySelector('[data-testid="stMain"]');
        return m.scrollWidth <= m.clientWidth + 1 && document.documentElement.scrollWidth <= innerWidth + 1; }""")
    # an arrowhead (an SVG marker that exists) on every improves-on edge, 13 of them
    assert len(d["edges"]) == 13 and all(e["arrow"] for e in d["edges"])
    assert ("BERT", "RoBERTa") in {(e["from"], e["to"]) for e in d["edges"]}
    markers = page.evaluate(f"""() => {{ const root = ({FIND})();
        return [...root.querySelectorAll('.edge .line')].map(p => {{
            const m = /url\\(#([^)]+)\\)/.exec(p.getAttribute('marker-end') || '');
            const marker = m && root.querySelector('marker#' + m[1]);
            return !!(marker && marker.querySelector('path')); }}); }}""")
    assert len(markers) == 13 and all(markers)
    page.evaluate(f"() => ({FIND})().scrollIntoView({{block: 'start'}})")
    page.screenshot(path=str(SHOTS / "family-tree-1440x900.png"))
    screenshot(page, "family-tree")
    assert page.page_errors == []


def test_hovering_an_edge_names_its_mechanism_and_claim(page, app_url):
    open_tree(page, app_url)
    x, y = point_on(page, '.hit[data-edge="BERT>RoBERTa"]', 16)
    page.mouse.move(x, y)
    tip = page.locator(".plm-ft-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("RoBERTa improves on BERT")
    expect(tip).to_contain_text("Dynamic masking")
    expect(tip).to_contain_text("addresses Static masking")
    expect(tip).to_contain_text("Q1.10 (backs this link)")
    page.screenshot(path=str(SHOTS / "family-tree-hover.png"))   # as seen at 1440×900, the tooltip open
    x, y = point_on(page, '.hit[data-edge="GPT>GPT-2"]', 16)
    page.mouse.move(x, y)
    expect(tip).to_contain_text("The graph names no mechanism that GPT-2 uses and GPT does not.")
    expect(tip).to_contain_text("Q4.15")
    page.mouse.move(*label_point(page, "XLNet"))     # a model's own tooltip
    expect(tip).to_contain_text("Jun 2019")
    expect(tip).to_contain_text("Improves on: BERT, Transformer-XL")


def test_clicking_a_model_opens_its_node_page(page, app_url):
    open_tree(page, app_url)
    page.evaluate("window.__marker = 1")
    page.mouse.click(*label_point(page, "XLNet"))
    expect(page.get_by_role("heading", name="XLNet", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/node\?node=XLNet$"))
    assert page.evaluate("window.__marker") == 1     # the same session, no reload


def test_the_svg_and_png_exports_are_valid_files(page, app_url, tmp_path):
    d = open_tree(page, app_url)
    with page.expect_download() as got:
        page.get_by_role("button", name="Download SVG").click()
    svg = got.value
    assert svg.suggested_filename == "plm-family-tree.svg"
    text = open(svg.path(), encoding="utf-8").read()
    tree = ET.fromstring(text.encode("utf-8"))
    assert tree.tag == "{http://www.w3.org/2000/svg}svg"
    shown = "".join(tree.itertext())
    for name in ("BERT", "XLNet", "ERNIE (THU)", "Transformer-XL", "NNLM", "Knowledge", "2019"):
        assert name in shown, name
    assert "font-family" in text and "marker" in text and "<script" not in text
    with page.expect_download() as got:
        page.get_by_role("button", name="Download PNG").click()
    png = got.value
    assert png.suggested_filename == "plm-family-tree.png"
    data = open(png.path(), "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    assert w == 2 * d["width"] and h > 2 * d["height"]    # twice the drawing, plus its title
    assert len(data) > 20_000                                # not a blank canvas
    (SHOTS / "family-tree-export.png").write_bytes(data)


def test_the_grouping_control_changes_the_lanes(page, app_url):
    d = open_tree(page, app_url)
    assert d["lanes"][:3] == ["Foundations (before 2017)", "Other lines after BERT", "Up to BERT"]
    assert {"Knowledge", "Multi-task learning", "Generation", "Masking", "Tuning"} <= set(d["lanes"])
    page.get_by_role("radio", name="Objective", exact=True).click()
    d = drawn(page, lanes_were=d["lanes"])
    assert set(d["lanes"]) == {"Autoregressive LM", "Autoencoding LM", "Masked sequence-to-sequence pre-training",
                               "Permutation language modeling", "No objective in the graph"}
    assert sorted(n["id"] for n in d["nodes"]) == sorted(MODELS)
    screenshot(page, "family-tree-objective")
    page.get_by_role("radio", name="Feature extractor", exact=True).click()
    d = drawn(page, lanes_were=d["lanes"])
    assert {"Transformer", "LSTM", "MLP", "Transformer-XL"} <= set(d["lanes"])
    boxes = [n["labelBox"] for n in d["nodes"]]
    assert not [1 for i in range(len(boxes)) for j in range(i) if boxes_overlap(boxes[i], boxes[j])]
    screenshot(page, "family-tree-extractor")


def test_a_hostile_graph_is_drawn_as_text_and_runs_or_fetches_nothing(page, tmp_path, logserver):
    """tests/hostile_graph.py: a model (2019, no month) whose megabyte label carries markup, a beacon
    image, escape sequences and U+202E, and improves on BERT. The tree shows its label as text, cut;
    its tooltip shows the markup literally; nothing runs, nothing is fetched."""
    from tests.hostile_graph import graph_env, write_hostile_graph

    server = StreamlitServer(env={"PLM_MAP_GRAPH": graph_env(write_hostile_graph(tmp_path, logserver.url + "/beacon"))})
    server.start()
    try:
        d = open_tree(page, server.url)
        assert "hostile" in {n["id"] for n in d["nodes"]} and ("BERT", "hostile") in {(e["from"], e["to"]) for e in d["edges"]}
        label = page.evaluate(f"() => ({FIND})().querySelector('[data-node=\"hostile\"] .label').textContent")
        assert label.startswith("\\x1b]0;pwned") and "\x1b" not in label and "\u202e" not in label and len(label) < 120
        page.mouse.move(*label_point(page, "hostile"))
        tip = page.locator(".plm-ft-tip")
        expect(tip).to_contain_text("<img src=x onerror=")        # shown as text
        assert page.evaluate(f"() => ({FIND})().querySelectorAll('img, script, foreignObject').length") == 0
        assert page.evaluate("document.body.dataset.pwned") is None
        boxes = [n["labelBox"] for n in d["nodes"]]
        assert not [1 for i in range(len(boxes)) for j in range(i) if boxes_overlap(boxes[i], boxes[j])]
        with page.expect_download() as got:
            page.get_by_role("button", name="Download SVG").click()
        exported = ET.parse(got.value.path()).getroot()              # still well-formed XML
        assert label in "".join(exported.itertext()) and "\\u202e" in label   # the same text, escaped
        screenshot(page, "family-tree-hostile")
        assert page.evaluate("document.body.dataset.pwned") is None
        assert page.page_errors == []
    finally:
        server.stop()
    assert logserver.requests == []
