"""Tracing weakness -> fix -> model chains with their evidence; finding nodes by any label."""

from __future__ import annotations

import pytest

from kg.nodes import NodeNotFound, describe, normalize, resolve, search
from kg.project import semantic_graph, to_networkx
from kg.trace import between, fixes, format_chain


def test_bert_to_xlnet_first_gives_the_chain_of_question_11_with_evidence(kg):
    chains = between(kg, "BERT", "XLNet")
    first = chains[0]
    assert first.text() == "BERT → Independence assumption → Permutation language modeling → XLNet"
    assert [h.label for h in first.hops] == ["has weakness", "is addressed by", "introduced by"]
    assert all(h.evidence_kind == "backs" and h.evidence for h in first.hops)
    assert [r.id for r in first.hops[0].evidence] == ["Q7.2"]
    assert {r.id for r in first.hops[1].evidence} == {"Q14.6", "Q16.1"}
    assert {r.section for r in first.hops[2].evidence} == {"Q3", "Q17"}
    # the other reasons XLNet answers BERT are there too
    texts = {c.text() for c in chains}
    assert "BERT → Pretrain-finetune discrepancy → Permutation language modeling → XLNet" in texts
    assert "BERT → Fixed-length context → Segment-level recurrence → XLNet" in texts
    assert all(c.kind == "fix" for c in chains)


def test_the_printed_trace_shows_each_hop_with_claim_and_section(kg):
    text = format_chain(between(kg, "BERT", "XLNet")[0], number=1)
    assert "1. BERT → Independence assumption" in text
    assert "BERT —has weakness→ Independence assumption" in text
    assert "Q7.2 [section Q7]" in text and "Q3.3 [section Q3]" in text


def test_all_fixes_from_a_model(kg):
    chains = fixes(kg, "BERT")
    weaknesses = {c.nodes[1].label for c in chains}
    assert len(weaknesses) == 9
    assert "BERT → Static masking → Dynamic masking → RoBERTa" in {c.text() for c in chains}
    assert all(c.hops[0].label == "has weakness" for c in chains)


def test_all_fixes_from_a_weakness_and_inherited_weaknesses(kg):
    chains = {c.text() for c in fixes(kg, "catastrophic forgetting")}
    assert chains == {
        "Catastrophic forgetting → Gradual unfreezing → ULMFiT",
        "Catastrophic forgetting → Gradual unfreezing → SiATL",
        "Catastrophic forgetting → Auxiliary LM objective → GPT",
        "Catastrophic forgetting → Auxiliary LM objective → SiATL",
        "Catastrophic forgetting → Continual multi-task pre-training → ERNIE 2.0",
    }
    inherited = {c.text() for c in fixes(kg, "XLNet", inherited=True)}
    assert "XLNet → Permutation language modeling → Target position unawareness → Two-stream self-attention → XLNet" in inherited


def test_nodes_without_a_fix_chain_get_their_shortest_connection(kg):
    chains = between(kg, "Microsoft", "Baidu")
    assert chains and all(c.kind == "connection" for c in chains)
    assert all(c.nodes[0].id == "org-microsoft" and c.nodes[-1].id == "org-baidu" for c in chains)


@pytest.mark.parametrize("text, expected", [
    ("排列语言模型", "permutation-lm"), ("排列語言模型", "permutation-lm"), ("PERMUTATION LM", "permutation-lm"),
    ("permutaton languge model", "permutation-lm"), ("xlnet", "XLNet"), ("ERNIE（清华）", "ERNIE-THU"),
    ("災難性遺忘", "catastrophic-forgetting"), ("Q17.6", "claim-Q17.6"), ("two stream", "two-stream-self-attention"),
])
def test_search_finds_nodes_by_english_or_chinese_labels_despite_typos(kg, text, expected):
    assert search(kg, text)[0].id == expected


def test_unknown_names_suggest_the_closest_nodes(kg):
    with pytest.raises(NodeNotFound, match="Did you mean") as err:
        resolve(kg, "Transformr")
    assert err.value.suggestions[0].id == "Transformer"


def test_describe_shows_relations_both_ways_and_the_claims(kg):
    d = describe(kg, "permutation-lm")
    assert d.node.labels == {"en": "Permutation language modeling", "zh-Hans": "排列语言模型", "zh-Hant": "排列語言模型"}
    out = {(r.label, r.node.id) for r in d.outgoing}
    inc = {(r.label, r.node.id) for r in d.incoming}
    assert ("introduced by", "XLNet") in out and ("addresses", "independence-assumption") in out
    assert ("is the objective of", "XLNet") in inc
    assert {"Q17.3", "Q17.4", "Q17.5"} <= {c.id for c in d.claims}
    assert "factorisation" in d.definition


def test_networkx_projection_has_no_type_hubs_and_keeps_predicates(kg):
    g = to_networkx(kg)
    assert "https://w3id.org/plm-map/ontology#Model" not in g
    assert g.nodes["https://w3id.org/plm-map/id/XLNet"]["kind"] == "model"
    keys = set(g["https://w3id.org/plm-map/id/permutation-lm"]["https://w3id.org/plm-map/id/XLNet"])
    assert keys == {"https://w3id.org/plm-map/ontology#introducedBy", "https://w3id.org/plm-map/ontology#usedBy"}
    assert not any(d["kind"] == "claim" for _, d in semantic_graph(kg).nodes(data=True))


@pytest.mark.parametrize("text", ["双流", "雙流", "query stream"])
def test_search_finds_descriptions_and_claims_below_every_name(kg, text):
    hits = search(kg, text)
    ids = [h.id for h in hits]
    assert ids[0] == "two-stream-self-attention"
    assert "claim-Q17.7" in ids                           # its statement says it, in every language
    names = [h for h in hits if h.score > 70]
    assert all(h.score > 70 for h in hits[:len(names)]) and {h.score for h in hits[len(names):]} <= {70.0}
    found_by_text = next(h for h in hits if h.id == "claim-Q17.7")
    assert normalize(text) in normalize(found_by_text.matched)             # shown around the match, either script
    assert len(found_by_text.matched) <= 2 + 20 + len(text) + 40


def test_a_short_search_looks_at_names_only(kg):
    assert all(h.score > 70 for h in search(kg, "LM", limit=50))
    assert all(h.score > 70 for h in search(kg, "掩", limit=50))
