"""The ontology is documented term by term, and the code's vocabulary matches it."""

from __future__ import annotations

import re

import pytest

from kg.store import DATA_DIR, load_store
from kg.vocab import PLM, PLM_CLASSES, PLM_PROPERTIES, PLM_TERMS, PREFIXES


@pytest.fixture(scope="module")
def ontology():
    return load_store([DATA_DIR / "ontology.ttl"])


def declared(ontology) -> set[str]:
    rows = ontology.query(
        "SELECT DISTINCT ?t WHERE { ?t a ?k FILTER(STRSTARTS(STR(?t), STR(plm:))) }", prefixes={"plm": PLM})
    return {r[0].value[len(PLM):] for r in rows}


def test_the_code_and_the_ontology_name_the_same_terms(ontology):
    assert declared(ontology) == set(PLM_TERMS)


@pytest.mark.parametrize("term", PLM_TERMS)
def test_every_term_has_an_english_label_and_comment(ontology, term):
    q = (f"SELECT ?l ?c WHERE {{ <{PLM}{term}> rdfs:label ?l ; rdfs:comment ?c "
         "FILTER(LANG(?l) = 'en' && LANG(?c) = 'en') }")
    rows = list(ontology.query(q, prefixes=PREFIXES))
    assert len(rows) == 1 and len(rows[0][1].value) > 20


@pytest.mark.parametrize("term", PLM_CLASSES)
def test_classes_are_classes_and_properties_are_properties(ontology, term):
    assert ontology.query(f"ASK {{ <{PLM}{term}> a owl:Class }}", prefixes=PREFIXES)
    for prop in PLM_PROPERTIES:
        assert not ontology.query(f"ASK {{ <{PLM}{prop}> a owl:Class }}", prefixes=PREFIXES)


def test_the_data_uses_only_declared_plm_terms():
    used = set()
    for name in ("survey.ttl", "claims.ttl"):
        used |= set(re.findall(r"\bplm:([A-Za-z]+)", (DATA_DIR / name).read_text(encoding="utf-8")))
    assert used <= set(PLM_TERMS), used - set(PLM_TERMS)


def test_relations_between_concepts_read_both_ways(ontology):
    rows = ontology.query(
        "SELECT ?p WHERE { ?p a owl:ObjectProperty FILTER NOT EXISTS { ?p plm:inverseLabel ?i } }",
        prefixes=PREFIXES)
    assert [r[0].value for r in rows] == []
