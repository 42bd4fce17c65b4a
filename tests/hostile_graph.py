"""A hostile graph for the tests: the survey plus one model (and its weakness, fix, section, claim,
paper and verification finding) whose texts are a megabyte long and carry HTML, a Markdown image
pointing at a local beacon, a javascript: link, terminal escape sequences and a right-to-left
override. Every page and every command meets it; none may run it, fetch it or print it whole."""

from __future__ import annotations

import os
from pathlib import Path

from kg.store import DATA_DIR, GRAPH_FILES, VERIFICATION_FILE

MEGABYTE = 1_000_000
TERMINAL = "\x1b]0;pwned\x07\x1b[31m"          # an OSC title change, then red text


def hostile_parts(beacon: str) -> list[str]:
    """The hostile strings, each on its own (alt labels) and all together (labels, descriptions),
    the shortest first, so that even a label cut at 200 characters still carries most of them."""
    return [
        TERMINAL + "red",
        "\u202eevil right-to-left",
        f"![t]({beacon})",
        "[click](javascript:document.body.dataset.pwned='link')",
        "<img src=x onerror=\"document.body.dataset.pwned='img'\">",
        "x href <img src=x onerror=\"document.body.dataset.pwned='href'\">",
        "</script><script>document.body.dataset.pwned='script'</script>",
    ]


def _literal(text: str) -> str:
    """A Turtle long string literal holding `text` (ECHAR escapes for the characters it must escape)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")
    out = "".join(c if ord(c) >= 0x20 or c == "\t" else f"\\u{ord(c):04X}" for c in out)
    return f'"{out}"'


def hostile_ttl(beacon: str) -> str:
    parts = hostile_parts(beacon)
    huge = " ".join(parts) + " " + "A" * MEGABYTE            # a megabyte that starts with every attack
    big = _literal(huge)
    alt = " , ".join(_literal(p) + "@en" for p in parts)
    return f"""
@prefix plm:     <https://w3id.org/plm-map/ontology#> .
@prefix pm:      <https://w3id.org/plm-map/id/> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema:  <https://schema.org/> .
@prefix cito:    <http://purl.org/spar/cito/> .
@prefix rdf:     <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .

pm:hostile a plm:Model ; skos:prefLabel {big}@en , {big}@zh-Hans ; skos:altLabel {alt} ;
    skos:definition {big}@en ; dcterms:issued "2019"^^xsd:gYear ; dcterms:creator pm:org-hostile ;
    plm:objective pm:autoencoding-lm ; plm:improvesOn pm:BERT ; plm:hasWeakness pm:hostile-weakness ;
    plm:hostileRelation pm:BERT ; plm:hostileFact {big} .
plm:hostileRelation rdfs:label {big} .
plm:hostileFact rdfs:label {big} .
pm:org-hostile a plm:Organisation ; skos:prefLabel {big}@en .
pm:hostile-weakness a plm:Weakness ; skos:prefLabel {big}@en ; skos:definition {big}@en .
pm:hostile-fix a plm:Mechanism ; skos:prefLabel {big}@en ; plm:addresses pm:hostile-weakness ;
    plm:introducedBy pm:hostile .
pm:section-Q99 a plm:Section ; dcterms:identifier "Q99" ; schema:position 99 ; skos:prefLabel {big}@en ;
    plm:question {big}@en , {big}@zh-Hans .
pm:claim-Q99.1 a plm:Claim ; dcterms:identifier "Q99.1" ; plm:section pm:section-Q99 ; schema:text {big}@en ;
    plm:about pm:hostile , pm:hostile-weakness ; cito:cites pm:paper-hostile ; plm:checkedBy pm:demo-hostile ;
    plm:backs [ rdf:subject pm:hostile ; rdf:predicate plm:hasWeakness ; rdf:object pm:hostile-weakness ] .
pm:paper-hostile a plm:Paper ; dcterms:title {big} ; plm:arxivId "javascript:alert(1)" .
pm:demo-hostile a plm:Demo ; plm:demoId "hostile" ; skos:prefLabel {big}@en .
"""


def hostile_trig(beacon: str) -> str:
    big = _literal(" ".join(hostile_parts(beacon)) + " " + "A" * MEGABYTE)
    return f"""
@prefix plm:    <https://w3id.org/plm-map/ontology#> .
@prefix pm:     <https://w3id.org/plm-map/id/> .
@prefix prov:   <http://www.w3.org/ns/prov#> .
@prefix schema: <https://schema.org/> .
@prefix xsd:    <http://www.w3.org/2001/XMLSchema#> .

<https://w3id.org/plm-map/graph/verification> {{
  <https://w3id.org/plm-map/run/hostile> a plm:DemoRun , prov:Activity ; prov:used pm:demo-hostile .
  <https://w3id.org/plm-map/run/hostile/Q99.1> a plm:Finding ; prov:wasGeneratedBy <https://w3id.org/plm-map/run/hostile> ;
    plm:onClaim pm:claim-Q99.1 ; plm:verdict "supports" ; schema:description {big} ;
    plm:keyMetric {big} ; plm:keyValue "1.5"^^xsd:double .
}}
"""


def write_hostile_graph(directory: Path, beacon: str = "http://127.0.0.1:9/beacon") -> list[Path]:
    """The survey's files, the last verification run (if any) and the hostile files written to
    `directory`, as a list of paths (for EmbeddedBackend(sources=...))."""
    ttl, trig = Path(directory) / "hostile.ttl", Path(directory) / "hostile.trig"
    ttl.write_text(hostile_ttl(beacon), encoding="utf-8")
    trig.write_text(hostile_trig(beacon), encoding="utf-8")
    survey = [DATA_DIR / name for name in GRAPH_FILES]
    return survey + ([VERIFICATION_FILE] if VERIFICATION_FILE.exists() else []) + [ttl, trig]


def graph_env(paths: list[Path]) -> str:
    """The value of PLM_MAP_GRAPH that loads `paths`."""
    return os.pathsep.join(str(p) for p in paths)
