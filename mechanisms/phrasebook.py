"""The demos' words in Chinese: a phrasebook from every English text a demo writes to its simplified
Chinese (traditional converted by kg.hant), so that the demos stay plain English code and the app
still shows a Chinese reader Chinese.

A demo writes its texts as string literals and f-strings: a plot's title and axes, a series' name, a
parameter's help, the registry's summary, a progress message, a verdict's explanation with the
numbers it rests on. `templates()` reads them from the code (Python's own parser: an f-string's
fields become `{}`), and `messages/zh-Hans.json` gives each its Chinese, whose `{0}`, `{1}` … (or
plain `{}` in order) take the English fields' values. `say(text, lang)` finds a text's template
(exactly, or by matching its fields) and writes it in `lang`; a text the phrasebook does not know
stays English. A test checks every template of the code has its entry, and nothing else does.

    python -m mechanisms.phrasebook          # the templates the catalogue lacks, and the ones it has too many
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

HERE = Path(__file__).parent
CATALOGUE = HERE / "messages" / "zh-Hans.json"
# where demos write text: these calls' positional arguments that are text a reader sees (a plot's
# title and axes, a series' name, a progress message; not a plot's kind, a parameter's name or a
# claim's id), and these keywords anywhere
POSITIONS = {"Plot": (0, 2, 3), "Series": (0,), "progress": (1,), "report": (1,)}
KEYWORDS = {"explanation", "help", "summary", "title", "x_label", "y_label", "message"}
NAMED = {"Series": {"name"}}   # keywords read only in these calls
SKIP = {"_base.py", "runner.py", "verify.py", "links.py", "__main__.py", "phrasebook.py"}
FIXED = ("starting", "done")   # the run contract's own progress messages (mechanisms/_base.py)
_FIELD = re.compile(r"\{(\d*)\}")


def _texts(node: ast.AST) -> list[str]:
    """The templates an expression can produce: a literal, an f-string (its fields as `{}`), either
    branch of `a if c else b`, and `a + b` of those (where another expression is a field)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value.replace("{", "{{").replace("}", "}}")]
    if isinstance(node, ast.JoinedStr):
        return ["".join(v.value.replace("{", "{{").replace("}", "}}") if isinstance(v, ast.Constant) else "{}"
                        for v in node.values)]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):   # text + ", ".join(…): the call is a field
        left, right = _texts(node.left) or ["{}"], _texts(node.right) or ["{}"]
        return [a + b for a in left for b in right if (a + b).replace("{}", "")]
    return []


@functools.cache
def templates() -> tuple[str, ...]:
    """Every text template the demos and the registry write, sorted."""
    found: set[str] = set(FIXED)
    for path in sorted(HERE.glob("*.py")):
        if path.name in SKIP:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda)))]:
            values, names = [], set()
            for node in ast.walk(scope):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
                given = [a for i, a in enumerate(node.args) if i in POSITIONS.get(name, ())]
                given += [k.value for k in node.keywords if k.arg in KEYWORDS | NAMED.get(name, set())]
                values += given
                names |= {v.id for v in given if isinstance(v, ast.Name)}   # `explanation=said`: said's texts
            for node in ast.walk(scope):
                if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(t, ast.Name) and t.id in names for t in targets) and node.value is not None:
                        values.append(node.value)
            for value in values:
                for text in _texts(value):
                    if any(c.isalpha() for c in text.replace("{}", "")):
                        found.add(text)
    return tuple(sorted(found))


@functools.cache
def catalogue() -> dict[str, str]:
    return json.loads(CATALOGUE.read_text(encoding="utf-8")) if CATALOGUE.exists() else {}


def fields(template: str) -> int:
    """How many fields (`{}`) a template has ({{ and }} are literal braces)."""
    return len(_FIELD.findall(template.replace("{{", "").replace("}}", "")))


@functools.cache
def _matchers() -> list[tuple[re.Pattern, str]]:
    """The catalogue's templates that have fields, as patterns, most literal text first (the most
    specific template wins)."""
    out = []
    for english, chinese in catalogue().items():
        if not fields(english):
            continue
        parts = re.split(r"\{\}", english.replace("{{", "\x00").replace("}}", "\x01"))
        literal = [re.escape(p.replace("\x00", "{").replace("\x01", "}")) for p in parts]
        out.append((re.compile("^" + "(.*?)".join(literal) + "$", re.S), chinese, sum(len(p) for p in parts)))
    out.sort(key=lambda m: -m[2])
    return [(pattern, chinese) for pattern, chinese, _ in out]


def _literal(template: str) -> str:
    return template.replace("{{", "{").replace("}}", "}")


def _fill(chinese: str, values: tuple[str, ...]) -> str:
    """The Chinese template with the English fields' values; a value that is itself a text of the
    phrasebook ("word" in "{} masking") is said in Chinese too."""
    book = catalogue()
    values = tuple(_literal(book.get(v.replace("{", "{{").replace("}", "}}"), v.replace("{", "{{").replace("}", "}}")))
                   for v in values)
    counter = iter(range(len(values)))
    text = chinese.replace("{{", "\x00").replace("}}", "\x01")
    text = _FIELD.sub(lambda m: values[int(m.group(1)) if m.group(1) else next(counter)], text)
    return text.replace("\x00", "{").replace("\x01", "}")


def say(text: str, lang: str = "en") -> str:
    """`text`, which a demo wrote in English, for a reader of `lang` ("en", "zh-Hans", "zh-Hant")."""
    if lang == "en" or not text:
        return text
    book = catalogue()
    escaped = text.replace("{", "{{").replace("}", "}}")
    found = book.get(escaped)
    if found is not None:
        out = _literal(found)
    else:
        for pattern, chinese in _matchers():
            match = pattern.match(text)
            if match:
                out = _fill(chinese, match.groups())
                break
        else:
            return text
    if lang == "zh-Hant":
        from kg.hant import to_hant

        return to_hant(out)
    return out


def main() -> int:
    have, need = set(catalogue()), set(templates())
    for text in sorted(need - have):
        print(f"missing: {text}")
    for text in sorted(have - need):
        print(f"unused: {text}")
    return 1 if need ^ have else 0


if __name__ == "__main__":
    raise SystemExit(main())
