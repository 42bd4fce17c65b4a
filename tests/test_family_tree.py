"""The family tree's view (kg/family.py), checked against the survey's graph (no Streamlit, no browser)."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from kg import family
from kg.backends import EmbeddedBackend
from kg.store import DATA_DIR, GRAPH_FILES
from kg.vocab import local_name
from tests.survey_expectations import MODELS

# The papers without an arXiv id, and the month each was published (JMLR 3, February 2003; AISTATS,
# April 2011; OpenAI's reports; Google's whole-word-masking release, 31 May 2019)
PUBLISHED = {"NNLM": (2003, 2), "NADE": (2011, 4), "GPT": (2018, 6), "GPT-2": (2019, 2), "BERT-WWM": (2019, 5)}
DIRECTIONS = {"direction-knowledge", "direction-multi-task", "direction-generation", "direction-masking",
              "direction-tuning"}


@pytest.fixture(scope="module")
def trees(kg):
    return {group: family.family_tree(kg, group) for group in family.GROUPS}


def arxiv_ids(kg) -> dict[str, str]:
    return {local_name(m.value): a.value for m, a in kg.select(
        "SELECT ?m ?a WHERE { ?m a plm:Model ; plm:paper/plm:arxivId ?a }").rows}


def test_every_model_of_the_survey_is_placed_once_in_every_grouping(trees):
    names = {m["name"] for m in MODELS}
    for group, tree in trees.items():
        placed = [p.id for p in tree.models]
        assert len(placed) == len(set(placed)) == 21, group
        assert {p.name for p in tree.models} == names
        assert tree.undated == [] and tree.total == 21
        lanes = {lane.key for lane in tree.lanes}
        assert all(p.lane in lanes for p in tree.models), group
        assert all(p.colour.startswith("#") and len(p.colour) == 7 for p in tree.models)


def test_months_come_from_the_papers_first_arxiv_version_or_publication(kg, trees):
    places = {p.id: p for p in trees["direction"].models}
    ids = arxiv_ids(kg)
    assert set(ids) | set(PUBLISHED) == set(places)
    for model, arxiv in ids.items():   # an arXiv id's YYMM is the month of its first version
        assert (places[model].year, places[model].month) == (2000 + int(arxiv[:2]), int(arxiv[2:4])), model
    for model, when in PUBLISHED.items():
        assert (places[model].year, places[model].month) == when, model
    # the same months as the graph states them, on the paper nodes
    stated = {local_name(m.value): d.value for m, d in kg.select(
        "SELECT ?m ?d WHERE { ?m a plm:Model ; plm:paper ?p . ?p dcterms:date ?d "
        "FILTER(DATATYPE(?d) = xsd:gYearMonth) }").rows}
    assert stated == {i: f"{p.year}-{p.month:02d}" for i, p in places.items()}
    assert places["XLNet"].month == 6 and places["BERT"].month == 10 and places["NADE"].month == 4


def test_each_papers_month_falls_in_its_year(kg):
    for (paper, year, date) in kg.select(
            "SELECT ?p ?y ?d WHERE { ?p a plm:Paper ; dcterms:issued ?y ; dcterms:date ?d }").rows:
        assert date.value.startswith(year.value + "-"), paper.value


def test_x_grows_strictly_with_the_date_and_is_proportional_to_time_after_the_break(trees):
    for tree in trees.values():
        models = tree.models
        for a in models:
            for b in models:
                if a.t < b.t:
                    assert a.x < b.x, (a.id, b.id)
                elif a.t == b.t:
                    assert a.x == b.x
        assert all(0 <= p.x <= 1 for p in models)
    axis = trees["direction"].axis
    assert axis.dense_from == 2017 and axis.break_x is not None
    dense = [p for p in trees["direction"].models if p.year >= 2017]
    # on the true-time stretch, equal gaps in time are equal gaps in x: distance ∝ time
    speeds = [(b.x - a.x) / (b.t - a.t) for a, b in zip(dense, dense[1:]) if b.t > a.t]
    assert max(speeds) - min(speeds) < 1e-4 * max(speeds)
    speed = {round(speeds[0], 6)}
    # and the compressed stretch before it is visibly slower (fewer x per month)
    old = [p for p in trees["direction"].models if p.year < 2017]
    assert [p.id for p in old] == ["NNLM", "NADE", "word2vec"]
    assert (old[1].x - old[0].x) / (old[1].t - old[0].t) < speed.pop() / 10
    assert all(p.x < axis.break_x[0] for p in old) and all(p.x > axis.break_x[1] for p in dense)


def test_every_improves_on_link_is_there_with_its_direction(kg, trees):
    graph = {(local_name(a.value), local_name(b.value)) for a, b in kg.select(
        "SELECT ?a ?b WHERE { ?a plm:improvesOn ?b . ?a a plm:Model . ?b a plm:Model }").rows}
    assert len(graph) == 13
    for tree in trees.values():
        # drawn from the model improved on (source) to the one that improves on it (target, the arrowhead)
        assert {(k.target, k.source) for k in tree.links} == graph
        when = {p.id: p.t for p in tree.models}
        assert all(when[k.source] < when[k.target] for k in tree.links)
        by_id = {p.id: p for p in tree.models}
        for k in tree.links:
            assert k.source in by_id[k.target].improves_on and k.target in by_id[k.source].improved_on_by


def test_each_link_says_which_mechanisms_carry_it_and_which_claims_back_it(trees):
    links = {(k.source, k.target): k for k in trees["direction"].links}
    roberta = links[("BERT", "RoBERTa")]
    fixes = {f.mechanism: f.weaknesses for f in roberta.mechanisms}
    assert fixes["Dynamic masking"] == [("addresses", "Static masking", "BERT", "")]
    assert fixes["NSP removal"] == [("addresses", "NSP harms pre-training", "BERT", "")]
    assert fixes["Full-length sequences"] == []            # introduced, fixes no weakness the graph names
    assert [m.fixes for m in roberta.mechanisms] == [True, True, False]   # the fixes first
    assert [(c.id, c.backs) for c in roberta.claims] == [("Q1.10", True)]
    xlnet = links[("BERT", "XLNet")]
    plm = next(f for f in xlnet.mechanisms if f.mechanism_id == "permutation-lm")
    assert plm.introduced and ("addresses", "Independence assumption", "BERT", "") in plm.weaknesses
    recurrence = next(f for f in xlnet.mechanisms if f.mechanism_id == "segment-level-recurrence")
    assert not recurrence.introduced       # XLNet takes it from Transformer-XL
    assert ("addresses", "Context fragmentation", "Transformer", "extractor") in recurrence.weaknesses
    assert xlnet.claims[0].id == "Q16.2" and xlnet.claims[0].backs
    gpt2 = links[("GPT", "GPT-2")]
    assert gpt2.mechanisms == []           # the graph names none: the page says so
    assert gpt2.claims[0].id == "Q4.15" and gpt2.claims[0].backs and not gpt2.claims[-1].backs
    for k in links.values():               # no mechanism the older model already uses
        assert k.claims, (k.source, k.target)
        assert all(c.text for c in k.claims)


def test_lanes_by_direction_with_a_lane_per_role_for_models_with_none(trees):
    tree = trees["direction"]
    lanes = [lane.key for lane in tree.lanes]
    assert lanes[:3] == ["foundations", "after_hub", "up_to_hub"] and set(lanes[3:]) == DIRECTIONS
    assert tree.hub == "BERT" and {lane.hub for lane in tree.lanes if lane.key.endswith("hub")} == {"BERT"}
    lane = {p.id: p.lane for p in tree.models}
    assert [i for i, k in lane.items() if k == "foundations"] == ["NNLM", "NADE", "word2vec"]
    assert {i for i, k in lane.items() if k == "up_to_hub"} == {"Transformer", "ULMFiT", "ELMo", "GPT", "BERT"}
    assert {i for i, k in lane.items() if k == "after_hub"} == {"Transformer-XL", "GPT-2", "SiATL", "XLNet"}
    assert lane["RoBERTa"] == "direction-tuning" and lane["MASS"] == "direction-generation"
    # a model with several directions goes in its most specific one, and keeps the others as `also`
    ernie2 = next(p for p in tree.models if p.id == "ERNIE-2.0")
    assert ernie2.lane == "direction-multi-task"
    assert set(ernie2.also) == {"direction-knowledge", "direction-masking"}
    for p in tree.models:
        assert {p.lane, *p.also} & DIRECTIONS == {f"direction-{d.split()[0].lower()}" for d in p.facts["direction"]}


def test_lanes_by_objective_and_by_extractor(trees):
    lane = {p.id: p.lane for p in trees["objective"].models}
    assert lane["BERT"] == lane["RoBERTa"] == "autoencoding-lm"
    assert lane["GPT"] == lane["ELMo"] == "autoregressive-lm"
    assert lane["XLNet"] == "permutation-lm" and lane["MASS"] == "masked-seq2seq"
    assert lane["word2vec"] == lane["Transformer"] == "none"      # no objective in the graph
    assert {lane.key for lane in trees["objective"].lanes} == {"autoregressive-lm", "autoencoding-lm",
                                                              "permutation-lm", "masked-seq2seq", "none"}
    lane = {p.id: p.lane for p in trees["extractor"].models}
    assert lane["BERT"] == lane["GPT"] == "Transformer" and lane["XLNet"] == "Transformer-XL"
    assert lane["ELMo"] == "LSTM" and lane["ULMFiT"] == "AWD-LSTM" and lane["NNLM"] == "MLP"
    assert lane["NADE"] == "none"
    assert [lane.key for lane in trees["objective"].lanes][-1] == "none"
    with pytest.raises(ValueError):
        family.family_tree(None, "organisation")


def test_the_view_is_deterministic(trees):
    again = EmbeddedBackend(sources=[DATA_DIR / f for f in GRAPH_FILES])
    try:
        for group, tree in trees.items():
            assert json.dumps(asdict(family.family_tree(again, group))) == json.dumps(asdict(tree))
    finally:
        again.close()


def test_a_model_without_a_month_or_a_year(tmp_path):
    extra = tmp_path / "extra.ttl"
    extra.write_text("""
@prefix plm: <https://w3id.org/plm-map/ontology#> . @prefix pm: <https://w3id.org/plm-map/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
pm:Yearly a plm:Model ; skos:prefLabel "<img src=x onerror=alert(1)> \\u202e""" + "A" * 500 + """"@en ;
    dcterms:issued "2019"^^xsd:gYear ; plm:improvesOn pm:BERT .
pm:Undated a plm:Model ; skos:prefLabel "Undated"@en ; plm:improvesOn pm:BERT .
""", encoding="utf-8")
    backend = EmbeddedBackend(sources=[DATA_DIR / f for f in GRAPH_FILES] + [extra])
    try:
        tree = family.family_tree(backend)
        yearly = next(p for p in tree.models if p.id == "Yearly")
        assert yearly.month is None and yearly.t == family.months(2019, None) and yearly.lane == "after_hub"
        assert len(yearly.label) < 60 and "\u202e" not in yearly.label and "\\u202e" in yearly.label
        assert yearly.label.startswith("<img src=x onerror=alert(1)>")     # text, cut: the drawing sets it as text
        assert tree.undated == ["Undated"] and ("BERT", "Yearly") in {(k.source, k.target) for k in tree.links}
    finally:
        backend.close()


def test_a_large_graph_is_capped(tmp_path):
    from kg.synthetic import write_synthetic

    path = tmp_path / "large.nt"
    write_synthetic(path, 20_000)
    backend = EmbeddedBackend(sources=[path])
    try:
        tree = family.family_tree(backend)
        assert tree.total > family.MAX_MODELS == len(tree.models)
        ids = {p.id for p in tree.models}
        assert all(k.source in ids and k.target in ids for k in tree.links)
    finally:
        backend.close()
