"""Namespaces of the graph and the ontology's terms, as plain strings (no rdflib import).

`data/ontology.ttl` is the source of truth; tests/test_ontology.py checks that every name in
`PLM_TERMS` is declared there with a label and a comment, and the other way round.
"""

PLM = "https://w3id.org/plm-map/ontology#"
PM = "https://w3id.org/plm-map/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
CITO = "http://purl.org/spar/cito/"
SH = "http://www.w3.org/ns/shacl#"

# Prefixes declared for every query (users may redeclare them) and used to shorten IRIs in output.
PREFIXES = {
    "plm": PLM, "pm": PM, "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "skos": SKOS,
    "dcterms": DCTERMS, "prov": PROV, "schema": SCHEMA, "cito": CITO,
}

PLM_CLASSES = (
    "Concept", "Model", "Mechanism", "Weakness", "FeatureExtractor", "Objective", "Stage",
    "Representation", "ImprovementDirection", "Organisation", "Paper", "Reference", "Survey",
    "Section", "Claim", "Demo", "DemoRun", "Verification", "Finding", "Measurement",
)
PLM_PROPERTIES = (
    "inverseLabel", "hasWeakness", "addresses", "eases", "usedBy", "introducedBy", "improvesOn",
    "improvementDirection", "featureExtractor", "objective", "representation", "paper",
    "longRangeRank", "perLayerComplexity", "sequentialOperations", "maximumPathLength", "computation",
    "arxivId", "surveyRef", "surveyCitation", "question", "section", "about", "backs",
    "contrastsWith", "suggestedCheck", "checkedBy", "demonstratedBy", "demoId", "module",
    "parameters", "seed", "runtimeSeconds", "measured", "onClaim", "verdict", "keyMetric", "keyValue",
    "intervalLow", "intervalHigh", "confidenceLevel", "checkKind", "criterion", "seedCount",
)
VERIFICATION_GRAPH = "https://w3id.org/plm-map/graph/verification"
PLM_TERMS = PLM_CLASSES + PLM_PROPERTIES

# The kinds a node can have, most specific first (a node typed Model and FeatureExtractor is a model).
KINDS = (
    ("Model", "model"), ("Objective", "objective"), ("Mechanism", "mechanism"), ("Weakness", "weakness"),
    ("FeatureExtractor", "extractor"), ("Stage", "stage"), ("Representation", "representation"),
    ("ImprovementDirection", "direction"), ("Claim", "claim"), ("Section", "section"), ("Paper", "paper"),
    ("Reference", "reference"), ("Organisation", "organisation"), ("Survey", "survey"), ("Demo", "demo"),
)


def shorten(iri: str) -> str:
    """`https://w3id.org/plm-map/id/BERT` -> `pm:BERT`; IRIs outside known namespaces stay whole."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def local_name(iri: str) -> str:
    """The part after the namespace: the node id used in permalinks and on the command line."""
    return iri[len(PM):] if iri.startswith(PM) else shorten(iri)


def prologue() -> str:
    """`PREFIX` lines for every namespace in PREFIXES."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
