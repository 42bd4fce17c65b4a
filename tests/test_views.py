"""What the Compare and Questions pages show, checked against the survey (no Streamlit)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from kg import views
from kg.backends import EmbeddedBackend
from kg.store import DATA_DIR, GRAPH_FILES
from tests.survey_expectations import MODELS

HOSTILE_TTL = """
@prefix plm:     <https://w3id.org/plm-map/ontology#> .
@prefix pm:      <https://w3id.org/plm-map/id/> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema:  <https://schema.org/> .
@prefix cito:    <http://purl.org/spar/cito/> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

pm:Evil a plm:Model ; skos:prefLabel "<img src=x onerror=alert(1)>"@en , "![t](http://127.0.0.1:1/b)"@zh-Hans ;
    dcterms:issued "2019"^^xsd:gYear ; dcterms:creator pm:org-evil ; plm:objective pm:autoencoding-lm ;
    plm:improvesOn pm:BERT ; plm:hasWeakness pm:evil-weakness .
pm:org-evil a plm:Organisation ; skos:prefLabel "=HYPERLINK(\\"http://127.0.0.1:1/x\\")"@en .
pm:evil-weakness a plm:Weakness ; skos:prefLabel "![t](http://127.0.0.1:1/b)"@en .
pm:BERT skos:altLabel "<img src=x onerror=alert(4)>"@en .
pm:section-Q99 a plm:Section ; dcterms:identifier "Q99" ; schema:position 99 ;
    skos:prefLabel "<img src=x onerror=alert(3)> Q99"@en ;
    plm:question "![q](http://127.0.0.1:1/q) <b>why</b>?"@en , "<script>alert(5)</script>"@zh-Hans ,
        "![z](http://127.0.0.1:1/z)"@zh-Hant .
pm:claim-Q99.1 a plm:Claim ; dcterms:identifier "Q99.1" ; plm:section pm:section-Q99 ;
    schema:text "<script>alert(1)</script> [click](javascript:alert(1)) ![t](http://127.0.0.1:1/b)"@en ;
    plm:about pm:Evil , pm:evil-weakness ; cito:cites pm:paper-evil ; plm:checkedBy pm:demo-evil .
pm:paper-evil a plm:Paper ; dcterms:title "<b>bold</b> ![p](http://127.0.0.1:1/p)" ; plm:arxivId "javascript:alert(1)" .
pm:demo-evil a plm:Demo ; plm:demoId "evil](javascript:alert(1))" ; skos:prefLabel "<img src=x onerror=alert(2)>"@en .
"""


def hostile_sources(tmp_path) -> list:
    """The survey's files plus a Turtle file of hostile labels (used by the AppTest too)."""
    extra = tmp_path / "hostile.ttl"
    extra.write_text(HOSTILE_TTL, encoding="utf-8")
    return [DATA_DIR / name for name in GRAPH_FILES] + [extra]


# --------------------------------------------------------------------------------------------- compare


@pytest.fixture(scope="module")
def rows(kg):
    return {r["model"]: r for r in views.compare_rows(kg)}


def test_one_row_per_model(rows):
    assert len(rows) == 21
    assert {m["name"] for m in MODELS} <= set(rows)


def test_rows_match_the_survey(rows):
    for m in MODELS:
        row = rows[m["name"]]
        assert row["year"] == m["year"], m["name"]
        for value in m.get("extractor", []):  # the survey's RNN is the graph's LSTM or AWD-LSTM (narrower)
            allowed = {"RNN", "LSTM", "AWD-LSTM"} if value == "RNN" else {value}
            assert allowed & set(row["extractor"]), (m["name"], value)
        for value in m.get("objective", []):
            assert value in row["objective"], (m["name"], value)
        for value in m.get("representation", []):
            assert any(value in v.casefold() for v in row["representation"]), m["name"]
        for value in m.get("improves", []):
            assert value in row["improves_on"], m["name"]
        for value in m.get("direction", []):
            assert any(value.casefold() in v.casefold() for v in row["direction"]), m["name"]


def test_bert_and_xlnet(rows):
    bert, xlnet = rows["BERT"], rows["XLNet"]
    assert bert["extractor"] == ["Transformer"]
    assert bert["objective"] == ["Autoencoding LM"]
    assert "bidirectional" in bert["representation"][0].casefold()
    assert bert["organisation"] == ["Google"] and bert["year"] == 2018
    assert bert["mechanisms"] == ["Basic-level masking", "Masked language model", "Next sentence prediction"]
    assert len(bert["weaknesses"]) == 9 and "Fixed-length context" in bert["weaknesses"]
    assert bert["page"] == "/node?node=BERT"
    assert xlnet["organisation"] == ["Carnegie Mellon University", "Google Brain"]
    assert xlnet["improves_on"] == ["BERT", "Transformer-XL"]
    assert xlnet["improves_on_ids"] == ["BERT", "Transformer-XL"]
    assert "Two-stream self-attention" in xlnet["mechanisms"]
    assert xlnet["extractor"] == ["Transformer-XL"]


def test_rows_sorted_by_year(kg):
    years = [r["year"] for r in views.compare_rows(kg)]
    assert years == sorted(years) and years[0] == 2003 and years[-1] == 2019


def test_filters(kg):
    rows = views.compare_rows(kg)
    options = views.compare_options(rows)
    assert "Transformer" in options["extractor"] and "Google Brain" in options["organisation"]
    assert [r["model"] for r in views.filter_compare(rows, objective=["Permutation language modeling"])] == ["XLNet"]
    baidu = views.filter_compare(rows, text="baidu")
    assert {r["model"] for r in baidu} == {"ERNIE 1.0", "ERNIE 2.0"}
    assert {r["model"] for r in views.filter_compare(rows, text="清华")} == {"ERNIE (THU)"}
    old = views.filter_compare(rows, years=(2003, 2017))
    assert {r["model"] for r in old} == {"NNLM", "word2vec", "NADE", "Transformer"}
    both = views.filter_compare(rows, extractor=["Transformer"], direction=["Masking"], years=(2019, 2019))
    assert {r["model"] for r in both} == {"BERT-WWM", "ERNIE 1.0", "ERNIE (THU)", "ERNIE 2.0", "SpanBERT"}
    assert views.filter_compare(rows, extractor=[]) == rows
    with pytest.raises(ValueError):
        views.filter_compare(rows, colour=["red"])


def test_downloads(kg):
    rows = views.compare_rows(kg)
    table = list(csv.reader(io.StringIO(views.compare_csv(rows))))
    assert table[0] == list(views.COMPARE_COLUMNS.values()) and len(table) == 22
    xlnet = dict(zip(table[0], next(r for r in table if r[0] == "XLNet")))
    assert xlnet["Organisation"] == "Carnegie Mellon University; Google Brain"
    assert xlnet["Page"] == "/node?node=XLNet"
    data = json.loads(views.compare_json(rows))
    assert len(data) == 21 and next(d for d in data if d["id"] == "XLNet")["improves_on"] == ["BERT", "Transformer-XL"]


def test_guard_cell():
    assert views.guard_cell("=1+1") == "'=1+1"
    assert views.guard_cell("+A") == "'+A" and views.guard_cell("-1") == "'-1" and views.guard_cell("@x") == "'@x"
    assert views.guard_cell("BERT") == "BERT" and views.guard_cell(None) == "" and views.guard_cell(2019) == "2019"




def test_sections_in_reading_order(kg):
    secs = views.sections(kg)
    assert [s.id for s in secs] == [f"Q{i}" for i in range(1, 19)] + ["future"]
    assert [s.position for s in secs] == list(range(1, 20))
    for s in secs:
        assert s.question.get("en") and s.question.get("zh-Hans") and s.question.get("zh-Hant"), s.id
        assert s.claims, s.id
    assert sum(len(s.claims) for s in secs) == 120


def test_q17(kg):
    q17 = next(s for s in views.sections(kg) if s.id == "Q17")
    assert q17.label == "Q17 Why XLNet works" and "XLNet" in q17.question["zh-Hans"]
    assert [c.id for c in q17.claims] == [f"Q17.{i}" for i in range(1, 9)]
    for claim in q17.claims:
        assert claim.entities and claim.text and claim.papers, claim.id
    q172 = q17.claims[1]
    assert {n.id for n in q172.entities} == {"XLNet", "permutation-lm", "NADE"}
    assert {p[2] for p in q172.papers} == {"1906.08237", "1605.02226"}
    demos = {d.id for c in q17.claims for d in c.demos}
    assert demos and all(d.node_id == "demo-" + d.id for c in q17.claims for d in c.demos)


def test_every_checked_claim_lists_its_demos(kg):
    from mechanisms import for_claim

    for sec in views.sections(kg):
        for claim in sec.claims:
            assert {d.id for d in claim.demos} == {d.id for d in for_claim(claim.id)}, claim.id


def test_find_and_filter_sections(kg):
    secs = views.sections(kg)
    for name in ("Q17", "q17", "17", "section-Q17"):
        assert views.find_section(secs, name) == "Q17"
    assert views.find_section(secs, "future") == "future"
    assert views.find_section(secs, "Q42") is None and views.find_section(secs, None) is None
    assert [s.id for s in views.filter_sections(secs, section="Q5")] == ["Q5"]
    found = views.filter_sections(secs, text="two-stream")
    shown = [c for s in found for c in s.claims]
    assert {"Q17.6", "Q17.7"} <= {c.id for c in shown}
    for c in shown:
        assert "two-stream" in " ".join([c.text, *(n.label for n in c.entities), *(d.title for d in c.demos)]).casefold()
    assert len(views.filter_sections(secs, text="缺少目标位置信息")[0].claims) == 8  # Q17's Chinese question
    assert len(views.filter_sections(secs, text="為何如此有效")[0].claims) == 8    # the survey's heading, traditional
    assert {"Q3", "Q16", "Q17"} <= {s.id for s in views.filter_sections(secs, text="排列语言模型")}   # claim text in Chinese
    assert views.filter_sections(secs, text="no such words anywhere") == []


def test_arxiv_url():
    assert views.arxiv_url("1906.08237") == "https://arxiv.org/abs/1906.08237"
    assert views.arxiv_url("cs/0112017v2") == "https://arxiv.org/abs/cs/0112017v2"
    for bad in (None, "", "javascript:alert(1)", "1906.08237) ![x](http://h/b", "../../etc"):
        assert views.arxiv_url(bad) is None


# --------------------------------------------------------------------------------------------- hostile labels


def test_hostile_labels_stay_plain_data(tmp_path):
    backend = EmbeddedBackend(sources=hostile_sources(tmp_path))
    try:
        rows = {r["id"]: r for r in views.compare_rows(backend)}
        evil = rows["Evil"]
        assert evil["model"] == "<img src=x onerror=alert(1)>"
        assert evil["page"] == "/node?node=Evil"
        table = list(csv.reader(io.StringIO(views.compare_csv(list(rows.values())))))
        cell = dict(zip(table[0], next(r for r in table if r[0].startswith("<img"))))["Organisation"]
        assert cell.startswith("'=HYPERLINK")          # a spreadsheet shows it as text
        from kg.family import family_tree

        tree = family_tree(backend, "direction")
        assert ("BERT", "Evil") in {(link.source, link.target) for link in tree.links}
        assert "<img src=x onerror=alert(1)>" in {m.label for m in tree.models}
        q99 = next(s for s in views.sections(backend) if s.id == "Q99")
        assert [s.id for s in views.sections(backend)][-1] == "Q99"
        (claim,) = q99.claims
        assert claim.papers[0][2] == "javascript:alert(1)" and views.arxiv_url(claim.papers[0][2]) is None
        assert [d.node_id for d in claim.demos] == ["demo-evil"]
    finally:
        backend.close()


def test_the_views_cut_and_escape_megabyte_labels_but_downloads_keep_them(tmp_path):
    from tests.hostile_graph import MEGABYTE, write_hostile_graph

    backend = EmbeddedBackend(sources=write_hostile_graph(tmp_path))
    try:
        view = views.graph_view(backend)
        assert max(len(n["title"]) for n in view.nodes) < 600 and max(len(n["label"]) for n in view.nodes) < 80
        hostile = next(n for n in view.nodes if n["id"] == "hostile")
        assert "\x1b" not in hostile["title"] and "\\x1b]0;pwned" in hostile["title"]
        from kg.family import family_tree

        assert max(len(m.label) for m in family_tree(backend, "direction").models) <= 250
        rows = views.compare_rows(backend)
        shown = {r["page"]: r for r in views.compare_records(rows, limit=2000)}
        assert shown["/node?node=hostile"]["model"].endswith("… (cut at 2,000 characters)")
        assert len(views.compare_csv(rows)) > MEGABYTE                 # the download is the data, whole
        assert views.find_section(views.sections(backend), "Q99" + " " * 300) is None
    finally:
        backend.close()


def test_the_graph_layout_is_computed_here_and_the_same_on_every_call(kg):
    from kg.views import graph_view, layout

    first, again = graph_view(kg), graph_view(kg)
    assert all("x" in n and "y" in n for n in first.nodes)
    assert [(n["id"], n["x"], n["y"]) for n in first.nodes] == [(n["id"], n["x"], n["y"]) for n in again.nodes]
    ids, edges = ["a", "b", "c"], [("a", "b"), ("b", "c")]
    assert layout(ids, edges) == layout(list(reversed(ids)), list(reversed(edges)))  # order does not matter
    assert len({layout(ids, edges)[i] for i in ids}) == 3
