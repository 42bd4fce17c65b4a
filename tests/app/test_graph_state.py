"""The graph page's address: every view has one, it reads back as the same view, and a bad value is
dropped with a reason (app_pages/graph_state.py)."""

from __future__ import annotations

import pytest

from app_pages.graph_state import GraphState, from_params, to_params

KNOWN = dict(nodes={"BERT", "XLNet", "SpanBERT"}, sections={"Q14", "Q17"}, directions={"masking"},
             relations={"used by", "introduced by"})


class Params(dict):
    """st.query_params' shape: repeated keys read with get_all."""

    def get_all(self, key):
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


def test_the_default_view_has_the_bare_address():
    assert to_params(GraphState()) == {}
    assert from_params(Params(), **KNOWN) == GraphState()


@pytest.mark.parametrize("state", [
    GraphState(kinds=("model", "objective"), relations=("introduced by", "used by"), section="Q14",
               direction="masking", q="span", focus="SpanBERT", center="BERT", depth=2, expand=("SpanBERT", "XLNet")),
    GraphState(focus="XLNet"),
    GraphState(kinds=("claim",), q="排列语言模型"),
])
def test_an_address_reads_back_as_the_view_it_was_written_from(state):
    assert from_params(Params(to_params(state)), **KNOWN) == state


def test_focus_alone_selects_a_node():
    assert from_params(Params(focus="XLNet"), **KNOWN).focus == "XLNet"


def test_values_that_name_nothing_are_dropped_with_a_reason_and_the_rest_is_kept():
    state = from_params(Params(kinds="model,wizard", focus="nobody", depth="9", section="Q99", rel=["used by", "x"]),
                        **KNOWN)
    assert state.kinds == ("model",) and state.relations == ("used by",)
    assert state.focus is None and state.depth == 1 and state.section is None
    assert {(name, value) for name, value, _ in state.problems} == {
        ("kinds", "wizard"), ("focus", "nobody"), ("depth", "9"), ("section", "Q99"), ("rel", "x")}


def test_long_values_and_long_lists_are_cut_before_they_are_read():
    state = from_params(Params(q="x" * 10_000, expand=["BERT"] * 500), **KNOWN)
    assert len(state.q) == 200 and state.expand == ("BERT",)
