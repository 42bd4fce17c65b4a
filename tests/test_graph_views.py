"""What the Graph and Node pages draw, decided on the server (kg/views.py): the default content,
label priorities, expansions that never move what was drawn, and a node page's capped neighbourhood."""

from __future__ import annotations

import pytest

from kg.views import DEFAULT_KINDS, HOOD_NODES, PM, graph_view, neighbourhood
from tests.survey_expectations import MODELS


@pytest.fixture(scope="module")
def default(kg):
    return graph_view(kg)


def test_the_default_view_is_the_models_with_the_mechanisms_and_weaknesses_between_them(default):
    assert DEFAULT_KINDS == ("model", "mechanism", "weakness")
    assert {n["kind"] for n in default.nodes} == set(DEFAULT_KINDS)
    assert len([n for n in default.nodes if n["kind"] == "model"]) == len(MODELS)


def test_models_outrank_every_other_label_so_they_are_placed_first(default):
    lowest_model = min(n["priority"] for n in default.nodes if n["kind"] == "model")
    assert all(n["priority"] < lowest_model for n in default.nodes if n["kind"] != "model")


def test_expanding_a_node_adds_its_neighbours_around_it_and_keeps_every_position(kg, default):
    xlnet = PM + "XLNet"
    grown = graph_view(kg, expand=(xlnet,))
    before = {n["id"]: (n["x"], n["y"]) for n in default.nodes}
    after = {n["id"]: (n["x"], n["y"]) for n in grown.nodes}
    assert set(after) > set(before)
    assert all(after[i] == p for i, p in before.items()), "an expansion moved a node already drawn"
    added = [n for n in grown.nodes if n.get("added")]
    assert {n["id"] for n in added} == set(after) - set(before)
    assert "permutation-lm" in {n["id"] for n in added}   # XLNet's objective, not a default kind
    x0, y0 = after["XLNet"]
    assert all(((n["x"] - x0) ** 2 + (n["y"] - y0) ** 2) ** 0.5 < 200 for n in added
               if any({e["from"], e["to"]} == {"XLNet", n["id"]} for e in grown.edges))


def test_a_search_hit_outside_the_filters_is_drawn_with_the_view(kg, default):
    v = graph_view(kg, include=(PM + "permutation-lm",))
    assert "permutation-lm" in {n["id"] for n in v.nodes}
    assert len(v.nodes) == len(default.nodes) + 1


@pytest.mark.parametrize("node", ["BERT", "XLNet", "permutation-lm", "masked-language-model"])
def test_a_node_page_draws_at_most_16_nearest_neighbours_and_counts_them_all(kg, node):
    hood = neighbourhood(kg, PM + node)
    ids = [n["id"] for n in hood.nodes]
    assert node in ids and len(ids) <= HOOD_NODES == 16
    assert hood.capped == (hood.total_nodes > HOOD_NODES)


def test_bert_s_neighbourhood_takes_turns_between_kinds_instead_of_only_its_thirteen_successors(kg):
    hood = neighbourhood(kg, PM + "BERT")
    kinds = [n["kind"] for n in hood.nodes if n["id"] != "BERT"]
    assert hood.total_nodes > 40 and len(kinds) == 15
    assert kinds.count("model") <= 4
    assert {"mechanism", "weakness", "objective"} <= set(kinds)
