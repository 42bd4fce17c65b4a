"""The editor's completions come from the loaded graph: the ontology's properties and classes with their
labels and comments, the nodes with their labels in English and both Chinese scripts, the declared
prefixes; another graph gets its own."""

from __future__ import annotations

from kg.backends import EmbeddedBackend
from kg.completion import vocabulary
from kg.vocab import PREFIXES


def by_short(terms: list[dict]) -> dict[str, dict]:
    return {t["short"]: t for t in terms if t["short"]}


def test_the_ontology_properties_and_classes_come_with_their_labels_and_comments(kg):
    v = vocabulary(kg)
    improves = by_short(v["properties"])["plm:improvesOn"]
    assert improves["labels"][0] == "improves on" and "improvement" in improves["comment"]
    assert "plm:Model" in by_short(v["classes"]) and "skos:prefLabel" in by_short(v["properties"])
    assert [p["prefix"] for p in v["prefixes"]] == list(PREFIXES)


def test_a_node_carries_its_english_and_chinese_labels_english_first(kg):
    node = by_short(vocabulary(kg)["nodes"])["pm:permutation-lm"]
    assert node["labels"][0] == "Permutation language modeling"
    assert {"排列语言模型", "排列語言模型"} <= set(node["labels"])
    assert node["comment"].startswith("XLNet")


def test_another_graph_gets_its_own_vocabulary(tmp_path):
    path = tmp_path / "tiny.ttl"
    path.write_text("""@prefix pm: <https://w3id.org/plm-map/id/> . @prefix ex: <https://example.org/> .
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        pm:tiny a ex:Thing ; skos:prefLabel "Tiny"@en , "小"@zh-Hans ; ex:size 1 .""")
    other = EmbeddedBackend(sources=[path], workers=1)
    try:
        v = vocabulary(other)
        assert set(by_short(v["nodes"])) == {"pm:tiny"} and by_short(v["nodes"])["pm:tiny"]["labels"] == ["Tiny", "小"]
        assert "https://example.org/size" in {p["iri"] for p in v["properties"]}
        assert "https://example.org/Thing" in {c["iri"] for c in v["classes"]}
        assert "plm:improvesOn" not in by_short(v["properties"])
    finally:
        other.close()
