"""The content rules of `kg validate` (kg/validate.py, and the claim shape of data/shapes.ttl).

Each rule holds on the survey's graph, and fails on a small graph that breaks it, with a message
that names the offending nodes. The traces keep the same promise: no chain offers the cause of a
weakness, or a model that still has it, as its fix.
"""

from __future__ import annotations

import pytest

from kg.backends import EmbeddedBackend
from kg.store import DATA_DIR, GRAPH_FILES
from kg.trace import between, fixes
from kg.validate import RULES, check_rules, validate

PREFIXES = """
@prefix plm:     <https://w3id.org/plm-map/ontology#> .
@prefix pm:      <https://w3id.org/plm-map/id/> .
@prefix rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema:  <https://schema.org/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
"""

RULE = {r.id: r for r in RULES}


@pytest.fixture
def graph(tmp_path):
    """graph(turtle, with_survey=False): a backend over a small graph (optionally on top of the survey's)."""
    opened = []

    def make(turtle: str, *, with_survey: bool = False) -> EmbeddedBackend:
        path = tmp_path / f"small-{len(opened)}.ttl"
        path.write_text(PREFIXES + turtle, encoding="utf-8")
        sources = ([DATA_DIR / f for f in GRAPH_FILES] if with_survey else []) + [path]
        backend = EmbeddedBackend(sources=sources)
        opened.append(backend)
        return backend

    yield make
    for backend in opened:
        backend.close()


def broken(backend, rule: str) -> list[str]:
    return [v.message for v in check_rules(backend, [RULE[rule]])]


# ------------------------------------------------------------------------- the survey's graph keeps them all


def test_the_survey_graph_keeps_every_content_rule_and_shape(kg):
    assert check_rules(kg) == []
    report = validate(kg)
    assert report.conforms, report.text()
    assert set(report.rules) == {"fix-is-not-the-cause", "fix-is-backed", "introduced-first", "organisation-of-paper"}
    assert "4 content rules" in report.text()


# ------------------------------------------------------------------------- a fix is never the cause


BERT_MASK = """
pm:masked-language-model a plm:Mechanism ; skos:prefLabel "Masked language model"@en ;
    plm:hasWeakness pm:pretrain-finetune-discrepancy ; plm:eases pm:pretrain-finetune-discrepancy .
pm:pretrain-finetune-discrepancy a plm:Weakness ; skos:prefLabel "Pretrain-finetune discrepancy"@en .
pm:claim-Q3.7 a plm:Claim ; plm:about pm:masked-language-model ;
    plm:backs [ rdf:subject pm:masked-language-model ; rdf:predicate plm:eases ; rdf:object pm:pretrain-finetune-discrepancy ] .
"""


def test_the_mechanism_that_causes_a_weakness_is_not_its_fix(graph):
    (message,) = broken(graph(BERT_MASK), "fix-is-not-the-cause")
    assert "Masked language model (pm:masked-language-model) eases Pretrain-finetune discrepancy " \
           "(pm:pretrain-finetune-discrepancy), but it has that weakness itself" in message


def test_a_fix_that_is_not_the_cause_passes(graph):
    fine = BERT_MASK.replace("plm:eases pm:pretrain-finetune-discrepancy .", ".").replace(
        "rdf:predicate plm:eases", "rdf:predicate plm:hasWeakness")
    assert broken(graph(fine), "fix-is-not-the-cause") == []


def test_kg_validate_reports_the_rule_and_the_nodes(graph):
    report = validate(graph(BERT_MASK))
    assert not report.conforms
    line = next(x for x in report.text().splitlines() if "[fix-is-not-the-cause]" in x)
    assert line.lstrip().startswith("pm:masked-language-model  [fix-is-not-the-cause] plm:eases:")


def test_no_trace_of_bert_offers_the_cause_of_a_weakness_as_its_fix(kg):
    chains = fixes(kg, "BERT", inherited=True)
    causes = {(s.value, w.value) for s, w in kg.select("SELECT ?s ?w WHERE { ?s plm:hasWeakness ?w }").rows}
    for chain in chains:
        weakness = next(i for i, n in enumerate(chain.nodes) if n.kind == "weakness")
        fix = chain.nodes[weakness + 1]
        assert (fix.iri, chain.nodes[weakness].iri) not in causes, chain.text()
    texts = {c.text() for c in chains}
    assert "BERT → Pretrain-finetune discrepancy → Masked language model → BERT" not in texts
    assert "BERT → Pretrain-finetune discrepancy → Permutation language modeling → XLNet" in texts


def test_a_trace_skips_a_cause_offered_as_a_fix_even_when_the_graph_states_it(graph):
    # the old edge, put back on top of the survey's graph: the rule refuses it and the trace ignores it
    backend = graph("pm:masked-language-model plm:eases pm:pretrain-finetune-discrepancy .", with_survey=True)
    assert len(broken(backend, "fix-is-not-the-cause")) == 1
    texts = {c.text() for c in fixes(backend, "BERT")}
    assert not any("Pretrain-finetune discrepancy → Masked language model" in t for t in texts)
    offered = [c.text() for c in between(backend, "pretrain-finetune-discrepancy", "BERT") if c.kind == "fix"]
    assert not any(t.startswith("Pretrain-finetune discrepancy → Masked language model") for t in offered)


def test_bert_to_xlnet_still_traces_through_the_independence_assumption(kg):
    chains = between(kg, "BERT", "XLNet")
    assert chains[0].text() == "BERT → Independence assumption → Permutation language modeling → XLNet"
    assert all(c.kind == "fix" for c in chains)


def test_a_model_that_still_has_the_weakness_does_not_bring_its_fix(kg):
    # SiATL puts self-attention on an LSTM: it keeps the LSTM's long-range dependency failure
    texts = {c.text() for c in fixes(kg, "ELMo")}
    assert "ELMo → Long-range dependency failure → Self-attention → Transformer" in texts
    assert not any(t.endswith("Self-attention → SiATL") for t in texts)
    assert not any("SiATL" in c.text() for c in between(kg, "ELMo", "SiATL") if c.kind == "fix")


# ------------------------------------------------------------------------- every fix has its claim


UNBACKED = """
pm:span-masking a plm:Mechanism ; skos:prefLabel "Span masking"@en ;
    plm:eases pm:independence-assumption ; plm:addresses pm:shallow-masking-semantics .
pm:independence-assumption a plm:Weakness ; skos:prefLabel "Independence assumption"@en .
pm:shallow-masking-semantics a plm:Weakness ; skos:prefLabel "Shallow masking semantics"@en .
pm:SpanBERT a plm:Model ; skos:prefLabel "SpanBERT"@en .
pm:claim-Q1.9 a plm:Claim ; plm:about pm:SpanBERT ;
    plm:backs [ rdf:subject pm:span-masking ; rdf:predicate plm:eases ; rdf:object pm:independence-assumption ] .
pm:claim-Q14.4 a plm:Claim ; plm:about pm:span-masking ;
    plm:backs [ rdf:subject pm:span-masking ; rdf:predicate plm:addresses ; rdf:object pm:shallow-masking-semantics ] .
"""


def test_every_fix_is_backed_by_a_claim_that_speaks_of_it(graph):
    # Q1.9 backs "eases" but speaks of neither end; Q14.4 backs "addresses" and is about span masking
    (message,) = broken(graph(UNBACKED), "fix-is-backed")
    assert message.startswith("Span masking (pm:span-masking) eases Independence assumption "
                              "(pm:independence-assumption), but no claim about either of them backs it")


def test_a_fix_with_no_claim_at_all_is_refused(graph):
    bare = UNBACKED.split("pm:claim-Q1.9")[0]
    assert len(broken(graph(bare), "fix-is-backed")) == 2


# ------------------------------------------------------------------------- introduced by the first user


EARLIER_USER = """
pm:self-attention a plm:Mechanism ; skos:prefLabel "Self-attention"@en ;
    plm:introducedBy pm:Transformer ; plm:usedBy pm:Transformer , pm:LSTMN .
pm:Transformer a plm:Model ; skos:prefLabel "Transformer"@en ; dcterms:issued "2017"^^xsd:gYear ; plm:paper pm:p1 .
pm:p1 a plm:Paper ; dcterms:date "2017-06"^^xsd:gYearMonth ; plm:arxivId "1706.03762" .
pm:LSTMN a plm:Model ; skos:prefLabel "LSTMN"@en ; dcterms:issued "2016"^^xsd:gYear ; plm:paper pm:p2 .
pm:p2 a plm:Paper ; dcterms:date "2016-01"^^xsd:gYearMonth ; plm:arxivId "1601.06733" .
"""


def test_a_mechanism_is_not_introduced_by_a_model_later_than_one_that_uses_it(graph):
    (message,) = broken(graph(EARLIER_USER), "introduced-first")
    assert message.startswith("Self-attention (pm:self-attention) is introduced by Transformer (pm:Transformer) "
                              "(2017-06, arXiv 1706.03762), but LSTMN (pm:LSTMN) (2016-01, arXiv 1601.06733), "
                              "which uses it, appeared earlier")


def test_within_a_month_the_arxiv_numbers_tell_which_came_first(graph):
    same_month = """
pm:nsp-removal a plm:Mechanism ; skos:prefLabel "NSP removal"@en ; plm:introducedBy pm:RoBERTa ;
    plm:usedBy pm:RoBERTa , pm:SpanBERT .
pm:RoBERTa a plm:Model ; skos:prefLabel "RoBERTa"@en ; plm:paper pm:p1 .
pm:p1 a plm:Paper ; dcterms:date "2019-07"^^xsd:gYearMonth ; plm:arxivId "1907.11692" .
pm:SpanBERT a plm:Model ; skos:prefLabel "SpanBERT"@en ; plm:paper pm:p2 .
pm:p2 a plm:Paper ; dcterms:date "2019-07"^^xsd:gYearMonth ; plm:arxivId "1907.10529" .
"""
    (message,) = broken(graph(same_month), "introduced-first")
    assert "NSP removal (pm:nsp-removal) is introduced by RoBERTa" in message and "SpanBERT (pm:SpanBERT)" in message
    # the other way round is right: the introducer came first
    fixed = same_month.replace("plm:introducedBy pm:RoBERTa", "plm:introducedBy pm:SpanBERT")
    assert broken(graph(fixed), "introduced-first") == []


def test_a_model_known_only_by_its_year_is_compared_by_year(graph):
    by_year = EARLIER_USER.replace(' ; plm:paper pm:p2 .', ' .').replace(' ; plm:paper pm:p1 .', ' .')
    assert len(broken(graph(by_year), "introduced-first")) == 1
    same_year = by_year.replace('"2016"^^xsd:gYear', '"2017"^^xsd:gYear')
    assert broken(graph(same_year), "introduced-first") == []   # the same year tells nothing


# ------------------------------------------------------------------------- a model's organisation is its paper's


WRONG_ORGANISATION = """
pm:BERT-WWM a plm:Model ; skos:prefLabel "BERT-WWM"@en ; dcterms:creator pm:org-google ; plm:paper pm:paper-1906.08101 .
pm:paper-1906.08101 a plm:Paper ; dcterms:title "Pre-Training with Whole Word Masking for Chinese BERT" ;
    dcterms:creator pm:org-hit , pm:org-iflytek .
pm:org-google a plm:Organisation ; skos:prefLabel "Google"@en .
pm:org-hit a plm:Organisation ; skos:prefLabel "Harbin Institute of Technology"@en .
pm:org-iflytek a plm:Organisation ; skos:prefLabel "iFLYTEK"@en .
"""


def test_every_organisation_of_a_model_is_one_of_its_papers(graph):
    (message,) = broken(graph(WRONG_ORGANISATION), "organisation-of-paper")
    assert message.startswith(
        "BERT-WWM (pm:BERT-WWM) names Google (pm:org-google) as its organisation, but its paper "
        "Pre-Training with Whole Word Masking for Chinese BERT (pm:paper-1906.08101) records "
        "Harbin Institute of Technology (pm:org-hit), iFLYTEK (pm:org-iflytek) for its authors")


def test_a_paper_that_records_no_organisation_fails_too(graph):
    silent = WRONG_ORGANISATION.replace("dcterms:creator pm:org-hit , pm:org-iflytek .", "dcterms:issued 2019 .")
    (message,) = broken(graph(silent), "organisation-of-paper")
    assert "records no organisation at all" in message


def test_the_survey_graph_states_both_whole_word_masking_facts(kg):
    rows = kg.select("SELECT ?paper ?org WHERE { ?paper dcterms:creator ?org "
                     "VALUES ?paper { pm:paper-google-bert-wwm pm:paper-1906.08101 } }").rows
    orgs = {(p.value.rsplit("/", 1)[1], o.value.rsplit("/", 1)[1]) for p, o in rows}
    assert orgs == {("paper-google-bert-wwm", "org-google"), ("paper-1906.08101", "org-hit"),
                    ("paper-1906.08101", "org-iflytek")}
    (paper,) = kg.select("SELECT ?p WHERE { pm:BERT-WWM plm:paper ?p }").rows[0]
    assert paper.value.endswith("paper-google-bert-wwm")


# ------------------------------------------------------------------------- every claim is about something


def test_every_claim_is_about_at_least_one_entity(graph):
    about_nothing = """
pm:section-future a plm:Section ; dcterms:identifier "future" ; schema:position 19 ; skos:prefLabel "The future"@en ;
    plm:question "Where next?"@en , "未来?"@zh-Hans , "未來?"@zh-Hant .
pm:claim-F.2 a plm:Claim ; dcterms:identifier "F.2" ; plm:section pm:section-future ;
    schema:text "Future work will push data and compute to the extreme."@en .
"""
    report = validate(graph(about_nothing))
    (v,) = [v for v in report.violations if v.path == "plm:about"]
    assert v.focus == "pm:claim-F.2" and "is about no entity" in v.message
    fixed = about_nothing.replace('schema:text', 'plm:about pm:pre-training ;\n    schema:text') + \
        'pm:pre-training a plm:Stage .\n'
    assert [v for v in validate(graph(fixed)).violations if v.path == "plm:about"] == []


def test_the_future_claims_speak_of_their_entities(kg):
    rows = kg.select("SELECT ?id ?x WHERE { ?c dcterms:identifier ?id ; plm:about ?x "
                     "FILTER(STRSTARTS(?id, 'F.')) }").rows
    about = {}
    for cid, x in rows:
        about.setdefault(cid.value, set()).add(x.value.rsplit("/", 1)[1])
    assert about["F.2"] == {"pre-training"}
    assert about["F.3"] == {"inference"}
    assert about["F.4"] == {"direction-knowledge", "direction-tuning", "direction-masking"}


# ------------------------------------------------------------------------- the corrected facts themselves


def test_elmo_shares_the_token_representation_and_the_softmax_as_its_paper_says(kg):
    (text, said) = kg.select('SELECT ?t ?s WHERE { pm:claim-Q4.5 schema:text ?t ; plm:surveyCitation ?s '
                             'FILTER(lang(?t) = "en") }').rows[0]
    assert "token representation and the softmax layer" in text.value and "共享詞向量" in said.value
    (definition,) = kg.select('SELECT ?d WHERE { pm:ELMo skos:definition ?d FILTER(lang(?d) = "en") }').rows[0]
    assert "token representation (a character CNN) and the softmax layer" in definition.value


def test_nade_is_the_2011_aistats_model_and_the_2016_article_is_the_surveys_reference(kg):
    (year, title, cited) = kg.select(
        "SELECT ?y ?t ?ref WHERE { pm:NADE dcterms:issued ?y ; plm:paper/dcterms:title ?t . "
        "pm:paper-1605.02226 plm:surveyRef ?ref }").rows[0]
    assert (year.value, title.value, cited.value) == ("2011", "The Neural Autoregressive Distribution Estimator", "27")


def test_only_the_transformers_own_mechanisms_are_introduced_by_it(kg):
    rows = kg.select("SELECT ?m WHERE { ?m plm:introducedBy pm:Transformer }").rows
    assert {m.value.rsplit("/", 1)[1] for (m,) in rows} == {
        "scaled-dot-product-attention", "multi-head-attention", "position-wise-ffn", "sinusoidal-positional-encoding"}
    used = {m.value.rsplit("/", 1)[1] for (m,) in kg.select("SELECT ?m WHERE { ?m plm:usedBy pm:Transformer }").rows}
    assert {"self-attention", "residual-layer-norm"} <= used


def test_masking_whole_units_keeps_the_independence_assumption_and_only_the_permutation_lm_fixes_it(kg):
    rows = kg.select("SELECT ?m ?p WHERE { VALUES ?p { plm:addresses plm:eases } ?m ?p pm:independence-assumption }").rows
    assert [(m.value.rsplit("/", 1)[1], p.value.rsplit("#", 1)[1]) for m, p in rows] == [("permutation-lm", "addresses")]
    having = {m.value.rsplit("/", 1)[1] for (m,) in kg.select(
        "SELECT ?m WHERE { ?m plm:hasWeakness pm:independence-assumption }").rows}
    assert {"whole-word-masking", "phrase-level-masking", "entity-level-masking", "span-masking"} <= having
