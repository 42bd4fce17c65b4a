"""What the SPARQL editor completes, computed from the loaded graph (a user's own graph or an endpoint
gets its own vocabulary, not ours):

    prefixes    the prefixes declared for every query (kg.vocab.PREFIXES), with their namespaces
    classes     everything typed owl:Class or rdfs:Class, and every class some node is an instance of
    properties  everything typed as a property (rdf:Property, owl:ObjectProperty, DatatypeProperty,
                AnnotationProperty), and every predicate the graph uses
    nodes       every subject with a skos:prefLabel or rdfs:label, by its labels in every language
                (English, 简体, 繁體), so that `pm:排列` or `pm:perm` finds pm:permutation-lm

Each term carries its IRI, its short form when a declared prefix covers it, its labels (a few, cut)
and a comment or definition (cut). The lists are capped (MAX_TERMS each; the editor is told how many
were left out) and every text is cut, so a hostile or huge graph cannot make the page heavy.
"""

from __future__ import annotations

from .backends import Backend
from .limits import clip
from .vocab import PREFIXES

MAX_TERMS = 3000        # per list: classes, properties, nodes
MAX_LABELS = 4          # labels kept per term
LABEL_CHARS = 80
COMMENT_CHARS = 240
LANG_ORDER = {"en": 0, "": 1, "zh-hans": 2, "zh-hant": 3}


def _short(iri: str) -> str | None:
    """`plm:improvesOn` for an IRI under a declared prefix whose rest is a valid local name."""
    for prefix, ns in PREFIXES.items():
        rest = iri[len(ns):]
        if iri.startswith(ns) and rest and all(c.isalnum() or c in "_-." for c in rest) and rest[-1] != ".":
            return f"{prefix}:{rest}"
    return None


def _terms(backend: Backend, where: str) -> tuple[list[dict], int]:
    """Terms (?t) matching `where`, with their labels and comment; (terms, how many were left out)."""
    rows = backend.select(f"""
        SELECT ?t (SAMPLE(?c) AS ?comment) (GROUP_CONCAT(DISTINCT CONCAT(LCASE(LANG(?l)), "\\u001e", ?k, STR(?l)); SEPARATOR="\\u001f") AS ?labels) WHERE {{
          {{ SELECT DISTINCT ?t WHERE {{ {where} FILTER(isIRI(?t)) }} }}
          OPTIONAL {{ {{ ?t skos:prefLabel ?l BIND("0" AS ?k) }} UNION {{ ?t rdfs:label ?l BIND("1" AS ?k) }}
                     UNION {{ ?t skos:altLabel ?l BIND("2" AS ?k) }} }}
          OPTIONAL {{ ?t rdfs:comment|skos:definition ?c FILTER(langMatches(lang(?c), "en") || lang(?c) = "") }}
        }} GROUP BY ?t ORDER BY ?t""").rows
    out = []
    for t, comment, labels in rows[:MAX_TERMS]:
        tagged = [x.partition("\u001e")[::2] for x in (labels.value if labels else "").split("\u001f") if x]
        tagged = [(lang, rest[:1], rest[1:]) for lang, rest in tagged]   # (language, 0 pref / 1 label / 2 alt, text)
        # one label of each language first (English, then Chinese), then the other names
        tagged.sort(key=lambda lt: (LANG_ORDER.get(lt[0], len(LANG_ORDER)), lt[0], lt[1], lt[2]))
        firsts = [lt for i, lt in enumerate(tagged) if i == 0 or tagged[i - 1][0] != lt[0]]
        names = [clip(x, LABEL_CHARS) for x in dict.fromkeys(lt[2] for lt in firsts + tagged) if x]
        out.append({"iri": t.value, "short": _short(t.value), "labels": names[:MAX_LABELS],
                    "comment": clip(comment.value, COMMENT_CHARS) if comment else ""})
    return out, max(0, len(rows) - MAX_TERMS)


def vocabulary(backend: Backend) -> dict:
    """The editor's completions for this graph (built once per backend)."""
    def build() -> dict:
        classes, classes_left = _terms(backend, "{ ?t a owl:Class } UNION { ?t a rdfs:Class } UNION { [] a ?t }")
        properties, properties_left = _terms(backend, """
            { ?t a rdf:Property } UNION { ?t a owl:ObjectProperty } UNION { ?t a owl:DatatypeProperty }
            UNION { ?t a owl:AnnotationProperty } UNION { [] ?t [] }""")
        known = {t["iri"] for t in classes + properties}
        nodes, nodes_left = _terms(backend, "?t skos:prefLabel|rdfs:label []")
        nodes = [n for n in nodes if n["iri"] not in known]
        return {
            "prefixes": [{"prefix": p, "iri": ns} for p, ns in PREFIXES.items()],
            "classes": classes, "properties": properties, "nodes": nodes,
            "left_out": {"classes": classes_left, "properties": properties_left, "nodes": nodes_left},
        }

    return backend.memo("completion.vocabulary", build)
