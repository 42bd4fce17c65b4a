"""The graph page read as a user reads it, at 1440×900 in Chromium, from what the graph says it drew
(`data-drawn`, frontend/src/graph.js): labels that never collide and stay legible, a picture that
does not move, navigation (zoom, fit, search that flies, select, expand in place), permalinks that
reproduce a view, keyboard and phone use, node pages with a capped neighbourhood, and a 20,000-node
graph capped with a notice."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from ._helpers import (APP_IDLE, GRAPH, LOCAL, SHOTS, StreamlitServer, drawn, goto, label_overlaps, screenshot,
                       wait_graph)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
MODELS = {"BERT", "BERT-WWM", "ELMo", "ERNIE-1.0", "ERNIE-2.0", "ERNIE-THU", "GPT", "GPT-2", "MASS", "MT-DNN",
          "NADE", "NNLM", "RoBERTa", "SiATL", "SpanBERT", "Transformer", "Transformer-XL", "ULMFiT", "UniLM",
          "XLNet", "word2vec"}


def new_page(browser, viewport):
    """A page in a context of its own that fails the test if anything leaves 127.0.0.1."""
    ctx = browser.new_context(viewport=viewport)
    ctx.set_default_timeout(30_000)
    external: list[str] = []
    ctx.on("request", lambda r: external.append(r.url) if not r.url.startswith(LOCAL) else None)
    page = ctx.new_page()
    page.page_errors = []
    page.on("pageerror", lambda e: page.page_errors.append(str(e)))
    page.external = external
    return ctx, page


@pytest.fixture
def desktop(browser):
    ctx, page = new_page(browser, DESKTOP)
    yield page
    ctx.close()
    assert not page.external, f"a page tried to reach beyond 127.0.0.1: {page.external}"


def fresh(browser, url: str, viewport=DESKTOP):
    """A new browser context (another visitor, nothing cached in the session) on `url`."""
    ctx, page = new_page(browser, viewport)
    goto(page, url)
    return ctx, page


def rerun(page) -> None:
    page.wait_for_timeout(350)
    page.wait_for_selector(APP_IDLE, timeout=60_000)


def relative(d: dict) -> list[tuple]:
    """The drawing in the graph's own coordinates (the page above it may be laid out differently)."""
    left, top = d["stage"][0], d["stage"][1]
    out = []
    for n in d["nodes"]:
        box = n["labelBox"] and (round(n["labelBox"][0] - left, 1), round(n["labelBox"][1] - top, 1),
                                 n["labelBox"][2], n["labelBox"][3])
        centre = n["centre"] and (round(n["centre"][0] - left, 1), round(n["centre"][1] - top, 1))
        out.append((n["id"], n["shown"], box, centre))
    return sorted(out)


def centre_of(d: dict, node: str) -> tuple[float, float]:
    return next(tuple(n["centre"]) for n in d["nodes"] if n["id"] == node)


def stage_centre(d: dict) -> tuple[float, float]:
    x, y, w, h = d["stage"]
    return x + w / 2, y + h / 2


def pick(page, label: str, option: str) -> None:
    """Choose `option` in the multiselect or selectbox labelled `label`."""
    widget = page.locator('[data-testid="stMultiSelect"], [data-testid="stSelectbox"]').filter(
        has=page.get_by_text(label, exact=True))
    widget.locator("input").click()
    page.keyboard.type(option)
    expect(page.get_by_role("option", name=re.compile(re.escape(option))).first).to_be_visible()
    page.keyboard.press("Enter")
    if widget.get_attribute("data-testid") == "stMultiSelect":
        page.keyboard.press("Escape")  # close its list (a selectbox closes by itself; Escape would clear it)
    rerun(page)


def test_the_default_view_is_legible_every_label_shown_apart_and_readable(desktop, app_url):
    goto(desktop, app_url)
    d = wait_graph(desktop, min_nodes=50)
    shown = [n for n in d["nodes"] if n["shown"]]
    assert label_overlaps(d) == []
    assert len(shown) >= 20
    assert min(n["labelBox"][3] for n in shown) >= 11
    assert MODELS <= {n["id"] for n in shown}, "every model is labelled"
    box = desktop.locator(GRAPH).bounding_box()
    assert box["y"] + box["height"] <= DESKTOP["height"], "the whole map is in the first screen"
    legend = desktop.locator(f"{GRAPH} .legend span")
    assert legend.all_inner_texts() == ["model", "mechanism", "weakness"]
    colours = legend.locator("i").evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    from kg.views import KIND_COLORS

    def rgb(hex_colour: str) -> str:
        r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
        return f"rgb({r}, {g}, {b})"

    assert colours == [rgb(KIND_COLORS[k]) for k in ("model", "mechanism", "weakness")]
    screenshot(desktop, "graph-overview")
    assert desktop.page_errors == []


def test_the_picture_is_the_same_on_every_load_and_still_after_it_settles(desktop, browser, app_url):
    goto(desktop, app_url)
    wait_graph(desktop, min_nodes=50)
    desktop.wait_for_timeout(1000)
    at_one_second = drawn(desktop)
    desktop.wait_for_timeout(4000)
    assert drawn(desktop) == at_one_second, "something moved between 1 s and 5 s after the first draw"
    ctx, again = fresh(browser, app_url)
    try:
        assert relative(wait_graph(again, min_nodes=50)) == relative(at_one_second)
    finally:
        ctx.close()


HOLD_SIGMA = "globalThis.__plmGraphHold = new Promise((go) => { globalThis.__plmStartSigma = go; });"
NO_WEBGL = """(() => { const get = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    return /webgl/i.test(kind) ? null : get.call(this, kind, ...rest); }; })();"""


def grey_difference(a: bytes, b: bytes) -> tuple[float, float]:
    """Mean absolute grey-level difference of two screenshots (0-255), and the share of pixels off by > 64."""
    import io

    from PIL import Image, ImageChops

    hist = ImageChops.difference(*(Image.open(io.BytesIO(x)).convert("L") for x in (a, b))).histogram()
    total = sum(hist)
    return sum(i * n for i, n in enumerate(hist)) / total, sum(hist[65:]) / total


@pytest.mark.parametrize("path", ["/", "/?focus=XLNet"])
def test_the_first_picture_drawn_before_webgl_is_the_one_sigma_then_draws(browser, app_url, path):
    ctx, page = new_page(browser, DESKTOP)
    ctx.add_init_script(HOLD_SIGMA)   # sigma waits until the test has looked at the sketch
    try:
        goto(page, app_url + path)
        sketch = wait_graph(page, min_nodes=50, interactive=False)
        assert sketch["renderer"] == "sketch"
        frame = page.locator(f"{GRAPH} .frame")
        before = frame.screenshot()
        page.evaluate("globalThis.__plmStartSigma()")
        after = wait_graph(page, min_nodes=50)
        assert after["renderer"] == "sigma"
        assert relative(after) == relative(sketch), "a node or a label moved when sigma took over"
        # sigma's own projection puts every node where the sketch and the labels put it
        off = page.locator(GRAPH).evaluate("""(root) => {
            const r = globalThis.__plmSigma, g = r.getGraph(), d = JSON.parse(root.dataset.drawn);
            return Math.max(...d.nodes.filter((n) => n.centre).map((n) => {
              const a = g.getNodeAttributes(n.id), p = r.graphToViewport({ x: a.x, y: a.y });
              return Math.max(Math.abs(p.x + d.stage[0] - n.centre[0]), Math.abs(p.y + d.stage[1] - n.centre[1]));
            })); }""")
        assert off < 0.5
        mean, off_pixels = grey_difference(before, frame.screenshot())
        assert mean < 2.5 and off_pixels < 0.005, f"the sketch and sigma's picture differ: {mean:.2f}, {off_pixels:.2%}"
        assert page.page_errors == []
    finally:
        ctx.close()


def test_without_webgl_the_map_is_still_drawn_with_a_notice_and_the_node_list_selects(browser, app_url):
    ctx, page = new_page(browser, DESKTOP)
    ctx.add_init_script(NO_WEBGL)
    try:
        goto(page, app_url)
        d = wait_graph(page, min_nodes=50)
        assert d["renderer"] == "sketch-only"
        assert label_overlaps(d) == [] and sum(n["shown"] for n in d["nodes"]) >= 20
        expect(page.locator(f"{GRAPH} .notice")).to_contain_text("WebGL")
        page.get_by_role("button", name="Zoom in").click()
        page.wait_for_timeout(600)
        zoomed = drawn(page)
        assert zoomed["camera"]["ratio"] < 1 and label_overlaps(zoomed) == [], "the buttons still zoom the sketch"
        page.locator("details.plm-nodes summary").click()
        page.locator('details.plm-nodes button[data-node="XLNet"]').click()
        expect(page).to_have_url(re.compile(r"[?&]focus=XLNet(&|$)"))   # the click's rerun has written it
        rerun(page)                                                      # and finished drawing
        assert wait_graph(page, min_nodes=50)["selected"] == "XLNet"
    finally:
        ctx.close()


def test_zoom_buttons_and_fit_keep_labels_apart(desktop, app_url):
    goto(desktop, app_url)
    before = wait_graph(desktop, min_nodes=50)
    desktop.get_by_role("button", name="Zoom in").click()
    desktop.wait_for_timeout(700)
    zoomed = drawn(desktop)
    assert zoomed["camera"]["ratio"] < before["camera"]["ratio"]
    assert label_overlaps(zoomed) == []
    desktop.get_by_role("button", name="Zoom out").click()
    desktop.get_by_role("button", name="Zoom out").click()
    desktop.wait_for_timeout(700)
    assert drawn(desktop)["camera"]["ratio"] > before["camera"]["ratio"]
    desktop.get_by_role("button", name="Fit the whole view").click()
    desktop.wait_for_timeout(800)
    fitted = drawn(desktop)
    assert fitted["camera"]["ratio"] == pytest.approx(1.0)
    assert label_overlaps(fitted) == [] and relative(fitted) == relative(before)


def test_focus_in_the_address_selects_and_centres_the_node(desktop, app_url):
    goto(desktop, app_url + "/?focus=XLNet")
    d = wait_graph(desktop, min_nodes=10)
    assert d["selected"] == "XLNet"
    (x, y), (cx, cy) = centre_of(d, "XLNet"), stage_centre(d)
    assert abs(x - cx) < 3 and abs(y - cy) < 3
    assert next(n for n in d["nodes"] if n["id"] == "XLNet")["shown"]
    assert label_overlaps(d) == []
    expect(desktop.get_by_text("XLNet", exact=True).first).to_be_visible()
    expect(desktop.get_by_role("link", name="Open its page")).to_be_visible()
    expect(desktop.get_by_role("link", name="Trace from here")).to_be_visible()
    screenshot(desktop, "graph-focus-xlnet")


def test_search_results_are_in_the_first_screen_and_the_map_flies_to_the_best_hit(desktop, app_url):
    goto(desktop, app_url)
    wait_graph(desktop, min_nodes=50)
    search = desktop.get_by_placeholder(re.compile("^Find a node"))
    assert search.get_attribute("maxlength") == "200"
    search.fill("排列语言")
    search.press("Enter")
    rerun(desktop)
    listed = desktop.locator("details.plm-nodes summary").inner_text()   # read while the map flies
    assert re.search(r"\d", listed) and "{" not in listed, f"the node list's count is not filled in: {listed!r}"
    hit = desktop.get_by_role("button", name=re.compile("^Permutation language modeling"))
    expect(hit).to_be_visible()
    box = hit.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= DESKTOP["height"], "the results are off-screen"
    desktop.wait_for_timeout(800)  # the flight
    d = wait_graph(desktop)
    assert d["selected"] == "permutation-lm"  # an objective: not in the default kinds, added with its neighbours
    (x, y), (cx, cy) = centre_of(d, "permutation-lm"), stage_centre(d)
    assert abs(x - cx) < 3 and abs(y - cy) < 3
    expect(desktop).to_have_url(re.compile(r"[?&]focus=permutation-lm(&|$)"))
    screenshot(desktop, "graph-search")


def test_expanding_a_node_adds_its_neighbours_without_moving_anything_already_drawn(desktop, app_url):
    goto(desktop, app_url + "/?focus=XLNet")
    before = wait_graph(desktop, min_nodes=10)
    desktop.get_by_role("button", name="Expand its neighbours").click()
    rerun(desktop)
    desktop.wait_for_timeout(800)
    after = wait_graph(desktop)
    assert len(after["nodes"]) > len(before["nodes"])
    expect(desktop).to_have_url(re.compile(r"[?&]expand=XLNet(&|$)"))
    old = {n["id"]: n["centre"] for n in before["nodes"]}
    moved = [i for i, c in old.items() if c and centre_of(after, i) and
             max(abs(a - b) for a, b in zip(c, centre_of(after, i))) > 0.5]
    assert moved == [], f"expanding moved {moved}"
    assert label_overlaps(after) == []


def test_a_permalink_copied_after_changing_every_filter_reproduces_the_view(desktop, browser, app_url):
    goto(desktop, app_url)
    wait_graph(desktop, min_nodes=50)
    desktop.get_by_text(re.compile("^Filters:")).click()
    pick(desktop, "Kinds", "objective")
    pick(desktop, "Relations", "used by")
    pick(desktop, "Relations", "introduced by")
    pick(desktop, "Survey section", "Q14 · ")
    pick(desktop, "Improvement direction", "Masking")   # shown by its label; the address keeps its id
    search = desktop.get_by_placeholder(re.compile("^Find a node"))
    search.fill("SpanBERT")
    search.press("Enter")
    rerun(desktop)
    desktop.get_by_role("button", name="Expand its neighbours").click()
    rerun(desktop)
    desktop.get_by_role("button", name="Show only its neighbourhood").click()
    rerun(desktop)
    desktop.wait_for_timeout(800)
    here = wait_graph(desktop)
    expect(desktop).to_have_url(re.compile(r"[?&]center=SpanBERT(&|$)"))   # the last click's rerun has written it
    params = parse_qs(urlparse(desktop.url).query)
    assert params["kinds"] == ["model,mechanism,weakness,objective"]
    assert sorted(params["rel"]) == ["introduced by", "used by"]
    assert params["section"] == ["Q14"] and params["direction"] == ["masking"] and params["q"] == ["SpanBERT"]
    assert params["focus"] == ["SpanBERT"] and params["center"] == ["SpanBERT"] and params["expand"] == ["SpanBERT"]
    ctx, there = fresh(browser, desktop.url)
    try:
        copy = wait_graph(there)
        assert copy["selected"] == here["selected"] == "SpanBERT"
        assert relative(copy) == relative(here)
        screenshot(there, "graph-permalink")
    finally:
        ctx.close()


def test_every_node_on_screen_is_reachable_from_the_keyboard(desktop, app_url):
    goto(desktop, app_url)
    d = wait_graph(desktop, min_nodes=50)
    on_screen = {n["id"] for n in d["nodes"] if n["centre"]}
    listed = desktop.locator(f"{GRAPH} ~ details.plm-nodes button, details.plm-nodes button")
    ids = listed.evaluate_all("els => els.map(e => e.dataset.node)")
    assert set(ids) == on_screen and len(ids) == len(on_screen)
    tops = [centre_of(d, i)[1] for i in ids]
    assert all(b >= a - 40 for a, b in zip(tops, tops[1:])), "the list is in reading order (top to bottom)"
    desktop.locator("details.plm-nodes summary").press("Enter")
    button = desktop.locator('details.plm-nodes button[data-node="BERT"]')
    button.focus()
    desktop.keyboard.press("Enter")
    expect(desktop).to_have_url(re.compile(r"[?&]focus=BERT(&|$)"))   # waits for the page's rerun to write it
    rerun(desktop)
    root = desktop.locator(GRAPH)
    root.focus()
    desktop.keyboard.press("+")
    desktop.wait_for_timeout(600)
    assert drawn(desktop)["camera"]["ratio"] < 1


def test_on_a_phone_the_map_comes_first_and_the_filters_fold(browser, app_url):
    ctx, page = fresh(browser, app_url, PHONE)
    try:
        wait_graph(page, min_nodes=50)
        box = page.locator(GRAPH).bounding_box()
        assert box["y"] < PHONE["height"] / 2, f"the map starts {box['y']:.0f} px down"
        assert page.locator('[data-testid="stExpander"] details').first.get_attribute("open") is None
        assert label_overlaps(drawn(page)) == []
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "graph-phone.png"))
    finally:
        ctx.close()


def test_a_node_page_draws_its_nearest_neighbours_legibly_and_links_to_all_of_them(desktop, app_url):
    goto(desktop, app_url + "/node?node=BERT")
    d = wait_graph(desktop)
    assert len(d["nodes"]) <= 16 and d["selected"] == "BERT"
    assert label_overlaps(d) == []
    box = desktop.locator(GRAPH).bounding_box()
    for n in d["nodes"]:
        if n["shown"]:
            x, y, w, h = n["labelBox"]
            assert box["x"] <= x and x + w <= box["x"] + box["width"] and box["y"] <= y <= box["y"] + box["height"]
    expect(desktop.get_by_text(re.compile(r"The 15 nearest of its \d+ neighbours"))).to_be_visible()
    screenshot(desktop, "node-bert")
    desktop.get_by_role("link", name=re.compile(r"Show all \d+ neighbours")).click()
    rerun(desktop)
    everything = wait_graph(desktop, min_nodes=17)
    assert everything["selected"] == "BERT"
    expect(desktop).to_have_url(re.compile(r"[?&]focus=BERT(&|$)"))


def test_a_20000_node_graph_is_capped_with_a_notice(browser, tmp_path):
    from kg.synthetic import write_synthetic
    from kg.views import MAX_NODES

    path = tmp_path / "large.nt"
    write_synthetic(path, 200_000)
    server = StreamlitServer(env={"PLM_MAP_GRAPH": str(path)}).start()
    try:
        ctx, page = fresh(browser, server.url)
        try:
            d = wait_graph(page, min_nodes=50)
            assert len(d["nodes"]) <= MAX_NODES
            expect(page.get_by_text(re.compile(r"Showing the \d+ best-connected of [\d,]+ nodes"))).to_be_visible()
            assert label_overlaps(d) == []
            screenshot(page, "graph-20k")
        finally:
            ctx.close()
    finally:
        server.stop()
