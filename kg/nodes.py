"""The graph's nodes: their kinds and labels, finding one by name, search, and describing one.

All of it is built from SPARQL through a Backend, so it works on the embedded graph and on a
remote endpoint alike; each index is built once per backend.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from .backends import Backend
from .language import DEFAULT, pick, spelling
from .limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, MAX_TEXT_CHARS, clip
from .vocab import KINDS, PLM, PM, local_name, shorten


class NodeNotFound(LookupError):
    """No node matches the name; `suggestions` holds the closest labels."""

    def __init__(self, name: str, suggestions: list["Hit"]):
        self.name, self.suggestions = name, suggestions
        hint = ""
        if suggestions:
            hint = " Did you mean: " + ", ".join(f"{clip(h.label, 80)} ({clip(h.id, 80)})"
                                                 for h in suggestions[:5]) + "?"
        super().__init__(f"No node called {name!r}.{hint}")


class NameTooLong(NodeNotFound):
    """A name longer than MAX_INPUT_CHARS: no node has one, so it is refused before any matching
    (a NodeNotFound, so every caller that reports unknown names reports this one too)."""

    def __init__(self, name: str):
        LookupError.__init__(self, f"A node name is at most {MAX_INPUT_CHARS:,} characters; "
                                   f"this one has {len(name):,}.")
        self.name, self.suggestions = clip(name, MAX_INPUT_CHARS), []


@dataclass
class Node:
    iri: str
    kinds: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # lang -> preferred label
    alt_labels: list[str] = field(default_factory=list)
    identifier: str | None = None

    @property
    def id(self) -> str:
        return local_name(self.iri)

    @property
    def kind(self) -> str:
        return self.kinds[0] if self.kinds else "resource"

    @property
    def label(self) -> str:
        return self.labels.get("en") or self.labels.get("") or self.identifier or self.id

    def name(self, lang: str = DEFAULT) -> str:
        """The node's label for a reader of `lang` (kg.language.pick), else its English label."""
        return pick(self.labels, lang) or self.label


@dataclass
class Hit:
    iri: str
    id: str
    label: str
    kind: str
    matched: str
    score: float



def normalize(text: str) -> str:
    """The form searches compare (kg.textmatch.fold: width, case, spaces, simplified/traditional and
    the field's variant words)."""
    from .textmatch import fold

    return fold(text)


_KIND_ORDER = {cls: i for i, (cls, _) in enumerate(KINDS)}
_KIND_NAME = dict(KINDS)


def index(backend: Backend) -> dict[str, Node]:
    """Every subject of the graph with its kinds and labels, keyed by IRI."""

    def build() -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        types = backend.select("SELECT ?n ?t WHERE { ?n a ?t FILTER(isIRI(?n)) }")
        for n, t in types.rows:
            node = nodes.setdefault(n.value, Node(n.value))
            if t.value.startswith(PLM) and t.value[len(PLM):] in _KIND_NAME:
                node.kinds.append(t.value[len(PLM):])
        for node in nodes.values():
            node.kinds = [_KIND_NAME[k] for k in sorted(node.kinds, key=_KIND_ORDER.get)]
        labels = backend.select(
            "SELECT ?n ?p ?l WHERE { VALUES ?p { skos:prefLabel skos:altLabel rdfs:label dcterms:identifier "
            "dcterms:title } ?n ?p ?l FILTER(isIRI(?n)) }"
        )
        for n, p, lit in labels.rows:
            node = nodes.setdefault(n.value, Node(n.value))
            prop = shorten(p.value)
            if prop == "skos:altLabel":
                node.alt_labels.append(lit.value)
            elif prop == "dcterms:identifier":
                node.identifier = lit.value
            elif prop == "dcterms:title":
                node.labels.setdefault(spelling(lit.lang), lit.value)
            elif prop in ("skos:prefLabel", "rdfs:label"):
                node.labels.setdefault(spelling(lit.lang), lit.value)
        return nodes

    return backend.memo("nodes.index", build)


def _names(node: Node) -> list[str]:
    first = [node.labels[k] for k in ("en", "zh-Hans", "zh-Hant") if k in node.labels]  # a tie keeps the earlier
    names = first + [v for k, v in node.labels.items() if k not in ("en", "zh-Hans", "zh-Hant")] + node.alt_labels + [node.id]
    if node.identifier:
        names.append(node.identifier)
    return names


PINYIN_MARK = "\x00pinyin:"   # starts a name's pinyin form (no folded text holds a NUL)
TEXT_MARK = "\x00text:"       # starts a description's or a claim's folded text
MIN_TEXT_QUERY = {"cjk": 2, "other": 4}   # shorter searches match names only, never running text


def _texts(backend: Backend) -> dict[str, list[str]]:
    """Each node's descriptions and statements (skos:definition, schema:text) in every language."""

    order = {"en": 0, "zh-Hans": 1, "zh-Hant": 2}   # a tie between two texts keeps the earlier

    def build():
        found: dict[str, list[tuple[int, str]]] = {}
        for n, d in backend.select("SELECT ?n ?d WHERE { VALUES ?p { skos:definition schema:text } ?n ?p ?d "
                                   "FILTER(isIRI(?n) && isLiteral(?d)) }").rows:
            found.setdefault(n.value, []).append((order.get(spelling(d.lang), 3), d.value))
        return {n: [text for _, text in sorted(pairs)] for n, pairs in found.items()}

    return backend.memo("nodes.texts", build)


def _search_names(backend: Backend, spoken: bool = False) -> list[tuple[Node, list[tuple[str, str]]]]:
    """Every node with its names and their normalized forms, each cut to MAX_LABEL_CHARS: a
    search is at most MAX_INPUT_CHARS long, so nothing beyond can match, and a megabyte label
    must not be normalized and fuzzy-matched on every keystroke. A cut form ends in "…", which no
    normalized search contains (NFKC spells it "..."), so it is never an exact match."""

    from .textmatch import has_chinese, pinyin

    def forms(name: str) -> list[tuple[str, str]]:
        cut = name if len(name) <= MAX_LABEL_CHARS else name[:MAX_LABEL_CHARS]
        out = [(name, normalize(cut) + ("" if cut is name else "…"))]
        if spoken and has_chinese(cut):   # its pinyin too, marked so that a search ranks it as a pinyin match
            out.append((name, PINYIN_MARK + pinyin(cut)))
        return out

    def build():
        return [(node, [form for name in _names(node) for form in forms(name)]) for node in index(backend).values()]

    if spoken:   # the pinyin forms are built on the first pinyin search, not before every other one
        return backend.memo("nodes.search_names_pinyin", build)
    return backend.memo("nodes.search_names", build)


def _search_texts(backend: Backend) -> list[tuple[Node, list[tuple[str, str]]]]:
    """Every node's descriptions and statements with their normalized forms (cut to MAX_TEXT_CHARS),
    built on the first search long enough to look in running text, not before a shorter one."""

    def build():
        texts, nodes = _texts(backend), index(backend)
        return [(nodes[iri], [(text, TEXT_MARK + normalize(text[:MAX_TEXT_CHARS])) for text in found])
                for iri, found in texts.items() if iri in nodes]

    return backend.memo("nodes.search_texts", build)


def search(backend: Backend, text: str, *, limit: int = 10, kinds: set[str] | None = None) -> list[Hit]:
    """Nodes whose labels (English or Chinese, either script, any alias) match `text`, then those
    whose description or statement (any language) contains it.

    Case-insensitive, tolerant of small typos: exact matches rank first, then prefixes, then
    substrings, then fuzzy matches (rapidfuzz) above a similarity cutoff, then pinyin matches;
    below every match of a name, the nodes whose running text holds the search (a search of two
    Chinese characters or four other ones at least). Only the first MAX_INPUT_CHARS characters of
    `text` are searched for (callers say so when they cut).
    """
    from rapidfuzz import fuzz

    from .textmatch import has_chinese, pinyin_query

    query = normalize(text[:MAX_INPUT_CHARS])
    if not query:
        return []
    spoken = pinyin_query(text[:MAX_INPUT_CHARS])
    wordy = len(query) >= (MIN_TEXT_QUERY["cjk"] if has_chinese(query) else MIN_TEXT_QUERY["other"])
    best: dict[str, Hit] = {}
    candidates = _search_names(backend, spoken=bool(spoken))
    if wordy:   # then the running text, below every name
        candidates = [*candidates, *_search_texts(backend)]
    for node, names in candidates:
        if kinds and node.kind not in kinds:
            continue
        for name, cand in names:
            if cand.startswith(TEXT_MARK):   # a description or statement: found, never fuzzily, below the names
                at = cand.find(query) if wordy else -1
                if at < 0:
                    continue
                score = 70.0
                at -= len(TEXT_MARK)   # where it is in the text (folding keeps our texts' lengths): shown around it
                name = ("…" if at > 20 else "") + name[max(0, at - 20):at + len(query) + 40] + \
                    ("…" if at + len(query) + 40 < len(name) else "")
            elif cand.startswith(PINYIN_MARK):   # pailie finds 排列语言模型, below any match of the text itself
                if not spoken or spoken not in cand:
                    continue
                score = 88.0 - min(len(cand) - len(PINYIN_MARK) - len(spoken), 40) * 0.1
            elif cand == query:
                score = 100.0
            elif cand.startswith(query):
                score = 96.0 - min(len(cand) - len(query), 20) * 0.1
            elif query in cand:
                score = 90.0 - min(len(cand) - len(query), 40) * 0.1
            else:
                score = fuzz.ratio(query, cand)
                if len(query) >= 4 and len(cand) > len(query):
                    score = max(score, fuzz.partial_ratio(query, cand) - 5)
                if score < 80:
                    continue
                score = min(score, 89.0)
            hit = best.get(node.iri)
            if hit is None or score > hit.score:
                best[node.iri] = Hit(node.iri, node.id, node.label, node.kind, name, score)
    kind_rank = {name: i for i, (_, name) in enumerate(KINDS)}
    hits = sorted(best.values(), key=lambda h: (-h.score, kind_rank.get(h.kind, 99), h.label))
    return hits[:limit]


def resolve(backend: Backend, name: str) -> Node:
    """The node a user means by `name`: an IRI, `pm:X`, a local id, a claim id or an exact label.

    Raises:
        NodeNotFound: with the closest matches as suggestions.
        NameTooLong: for a name longer than MAX_INPUT_CHARS (checked before anything else).
    """
    if len(name) > MAX_INPUT_CHARS:
        raise NameTooLong(name)
    nodes = index(backend)
    name = name.strip()
    for iri in (name, PM + name, PM + name.removeprefix("pm:"), PM + "claim-" + name):
        if iri in nodes:
            return nodes[iri]
    hits = search(backend, name, limit=5)
    if hits and hits[0].score == 100.0:
        exact = [h for h in hits if h.score == 100.0]
        return nodes[exact[0].iri]
    raise NodeNotFound(name, hits)


# ---------------------------------------------------------------------------------------------
# Describe
# ---------------------------------------------------------------------------------------------


@dataclass
class Relation:
    predicate: str      # IRI
    label: str          # how to read it from the described node, in English
    node: Node | None   # the node at the other end (None for a blank node)
    labels: dict[str, str] = field(default_factory=dict)   # lang -> label (kg.language.LANGUAGES)

    def name(self, lang: str = DEFAULT) -> str:
        return pick(self.labels, lang) or self.label


@dataclass
class ClaimRef:
    iri: str
    id: str
    section: str
    text: str           # the English statement
    papers: list[tuple[str, str, str | None]] = field(default_factory=list)  # (iri, title, arXiv id)
    texts: dict[str, str] = field(default_factory=dict)    # lang -> statement

    def text_in(self, lang: str = DEFAULT) -> str:
        return pick(self.texts, lang) or self.text


@dataclass
class Description:
    node: Node
    definition: str | None                 # in English
    facts: list[tuple[str, str]]          # (property, value) for literal-valued properties
    outgoing: list[Relation]
    incoming: list[Relation]
    claims: list[ClaimRef]                 # claims about the node
    contrasts: list[tuple[ClaimRef, ClaimRef]]
    definitions: dict[str, str] = field(default_factory=dict)   # lang -> description

    def definition_in(self, lang: str = DEFAULT) -> str | None:
        return pick(self.definitions, lang) or self.definition


def _property_labels(backend: Backend) -> dict[str, dict[str, dict[str, str]]]:
    """Per property, its labels read forwards and backwards: {iri: {"forward"|"inverse": {lang: label}}},
    from the ontology's rdfs:label and plm:inverseLabel (the properties of other vocabularies the
    graph uses are labelled there too)."""

    def build():
        out: dict[str, dict[str, dict[str, str]]] = {}
        for p, prop, lab in backend.select(
            "SELECT ?p ?q ?l WHERE { VALUES ?q { rdfs:label plm:inverseLabel } ?p ?q ?l FILTER(isIRI(?p)) }"
        ).rows:
            way = "forward" if prop.value.endswith("#label") else "inverse"
            out.setdefault(p.value, {"forward": {}, "inverse": {}})[way].setdefault(spelling(lab.lang), lab.value)
        return out

    return backend.memo("nodes.property_labels", build)


def property_labels(backend: Backend, predicate: str, inverse: bool = False) -> dict[str, str]:
    """A property's label in every language it has one ({lang: label}), read from its object's side
    when `inverse`; a property the ontology does not label is named by its prefixed name."""
    found = _property_labels(backend).get(predicate)
    if found is None or not found["forward"]:
        name = shorten(predicate)
        return {"en": f"is {name} of" if inverse else name}
    if not inverse:
        return dict(found["forward"])
    if found["inverse"]:
        return dict(found["inverse"])
    return {"en": f"is {pick(found['forward'], 'en')} of"}


def property_label(backend: Backend, predicate: str, inverse: bool = False, lang: str = DEFAULT) -> str:
    """A property's label for a reader of `lang` (see property_labels)."""
    return pick(property_labels(backend, predicate, inverse), lang) or shorten(predicate)


def claims(backend: Backend) -> dict[str, ClaimRef]:
    """Every claim, keyed by IRI, with its section and cited papers."""

    def build():
        out: dict[str, ClaimRef] = {}
        rows = backend.select(
            "SELECT ?c ?id ?sid ?text WHERE { ?c a plm:Claim ; dcterms:identifier ?id ; schema:text ?text ; "
            "plm:section/dcterms:identifier ?sid }"
        ).rows
        for c, cid, sid, text in rows:
            ref = out.setdefault(c.value, ClaimRef(c.value, cid.value, sid.value, ""))
            ref.texts.setdefault(spelling(text.lang), text.value)
        for ref in out.values():
            ref.text = pick(ref.texts, "en") or ""
        for c, w, title, arxiv in backend.select(
            "SELECT ?c ?w ?title ?arxiv WHERE { ?c a plm:Claim ; cito:cites ?w . ?w dcterms:title ?title "
            "OPTIONAL { ?w plm:arxivId ?arxiv } }"
        ).rows:
            if c.value in out:
                out[c.value].papers.append((w.value, title.value, arxiv.value if arxiv else None))
        return out

    return backend.memo("nodes.claims", build)


def claim_sort_key(ref: ClaimRef) -> tuple:
    section, _, number = ref.id.partition(".")
    return (section == "F", int(section[1:]) if section[1:].isdigit() else 0, int(number or 0))


def describe(backend: Backend, name: str, *, lang: str = DEFAULT) -> Description:
    """A node's labels, description, facts, relations both ways and the claims about it (the facts'
    property names in `lang`; everything else carries every language)."""
    node = resolve(backend, name)
    nodes = index(backend)
    iri = f"<{node.iri}>"
    out_rows = backend.select(f"SELECT ?p ?o WHERE {{ {iri} ?p ?o }}").rows
    in_rows = backend.select(f"SELECT ?s ?p WHERE {{ ?s ?p {iri} FILTER(isIRI(?s)) }}").rows
    definitions: dict[str, str] = {}
    facts, outgoing, incoming = [], [], []
    skip = {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2004/02/skos/core#prefLabel",
            "http://www.w3.org/2004/02/skos/core#altLabel", "http://www.w3.org/2004/02/skos/core#inScheme"}
    for p, o in out_rows:
        if p.value in skip:
            continue
        if p.value in ("http://www.w3.org/2004/02/skos/core#definition", "https://schema.org/text"):
            definitions.setdefault(spelling(o.lang), o.value)  # a concept's description, or a claim's statement
        elif o.kind == "literal":
            facts.append((property_label(backend, p.value, lang=lang), o.value + (f" @{o.lang}" if o.lang else "")))
        elif o.kind == "uri" and o.value in nodes:
            outgoing.append(Relation(p.value, property_label(backend, p.value), nodes[o.value],
                                     property_labels(backend, p.value)))
        elif o.kind == "uri":
            facts.append((property_label(backend, p.value, lang=lang), o.value))
    for s, p in in_rows:
        if p.value in skip or s.value not in nodes:
            continue
        incoming.append(Relation(p.value, property_label(backend, p.value, inverse=True), nodes[s.value],
                                 property_labels(backend, p.value, inverse=True)))
    all_claims = claims(backend)
    about = backend.select(f"SELECT ?c WHERE {{ ?c plm:about {iri} }}").rows
    refs = sorted((all_claims[c.value] for (c,) in about if c.value in all_claims), key=claim_sort_key)
    if "claim" in node.kinds or node.iri in all_claims:
        refs = []
    contrast_rows = backend.select(
        f"SELECT ?a ?b WHERE {{ ?a plm:contrastsWith ?b . {{ ?a plm:about {iri} }} UNION {{ VALUES ?a {{ {iri} }} }} }}"
    ).rows
    contrasts = [(all_claims[a.value], all_claims[b.value]) for a, b in contrast_rows
                 if a.value in all_claims and b.value in all_claims]
    order = lambda r: (r.label, r.node.label if r.node else "")  # noqa: E731
    return Description(node, pick(definitions, "en"), sorted(facts), sorted(outgoing, key=order),
                       sorted(incoming, key=order), refs, contrasts, definitions)


def backed_relations(backend: Backend, claim: str, *, lang: str = DEFAULT) -> list[tuple[Node, str, Node]]:
    """The relations of the graph a claim is the evidence for (plm:backs), as (subject, label, object),
    the label in `lang`."""
    node = resolve(backend, claim)
    nodes = index(backend)
    rows = backend.select(
        f"SELECT ?s ?p ?o WHERE {{ <{node.iri}> plm:backs ?st . ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }}"
    ).rows
    out = [(nodes[s.value], property_label(backend, p.value, lang=lang), nodes[o.value]) for s, p, o in rows
           if s.value in nodes and o.value in nodes]
    return sorted(out, key=lambda t: (t[1], t[0].label, t[2].label))
