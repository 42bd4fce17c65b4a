"""A SPARQL editor as an st.components.v2 component (inline JavaScript and CSS, nothing fetched).

A <textarea> lies over a <pre> that shows the same text coloured by a small SPARQL tokenizer
written here (keywords, variables, IRIs, prefixed names, strings, numbers, comments). The
highlighted copy is built with createElement/textContent only, so whatever a user types (or a
shared link carries) is never parsed as HTML. Line numbers sit in a gutter and the cursor's line
and column are shown under the editor, to match the line/column of a syntax error.

Keys: Tab inserts two spaces (Esc then Tab leaves the editor, for keyboard users); Ctrl+Enter or
Cmd+Enter runs the query. The text reaches Python as the state value `text` (after a short pause
in typing, and on blur); Ctrl+Enter sends the trigger `run` with the text.

Python replaces the text by passing a new `version` with the value: the browser keeps what the
user typed until the version changes. `globalThis.__plmEditor` ({get, set, run}) is a handle
for browser tests.
"""

from __future__ import annotations

import streamlit as st

_CSS = """
.plm-editor { font-family: var(--st-code-font, "Source Code Pro", monospace); font-size: 14px; }
.plm-editor .plm-box { position: relative; display: flex; border: 1px solid var(--st-border-color, #d5d8de);
  border-radius: 6px; overflow: hidden; background: var(--st-secondary-background-color, #f7f8fa); }
.plm-editor .plm-box:focus-within { border-color: var(--st-primary-color, #ff4b4b); }
.plm-editor .plm-gutter { flex: 0 0 auto; min-width: 2.6em; padding: 8px 6px 8px 4px; margin: 0; text-align: right;
  color: #9aa0a6; background: rgba(0,0,0,0.03); overflow: hidden; user-select: none; white-space: pre;
  font: inherit; line-height: 20px; }
.plm-editor .plm-area { position: relative; flex: 1 1 auto; min-width: 0; }
.plm-editor .plm-hl, .plm-editor textarea { position: absolute; inset: 0; margin: 0; padding: 8px 10px; border: 0;
  box-sizing: border-box; width: 100%; height: 100%; font: inherit; line-height: 20px; tab-size: 2;
  white-space: pre; overflow: auto; letter-spacing: normal; word-spacing: normal; }
.plm-editor .plm-hl { pointer-events: none; color: var(--st-text-color, #31333f); overflow: hidden; }
.plm-editor textarea { background: transparent; color: transparent; resize: none; outline: none;
  caret-color: var(--st-text-color, #31333f); }
.plm-editor textarea::selection { background: rgba(100, 150, 255, 0.35); color: transparent; }
.plm-editor .plm-status { display: flex; justify-content: space-between; gap: 1em; font-size: 12px;
  color: #8a8f98; padding: 2px 4px; font-family: var(--st-font, sans-serif); }
.plm-editor .tk-kw { color: #8250df; font-weight: 600; }
.plm-editor .tk-fn { color: #0550ae; }
.plm-editor .tk-var { color: #b35900; }
.plm-editor .tk-iri { color: #116329; }
.plm-editor .tk-pn { color: #0a6e8a; }
.plm-editor .tk-str { color: #a31515; }
.plm-editor .tk-num { color: #0b7285; }
.plm-editor .tk-com { color: #6e7781; font-style: italic; }
.plm-editor .tk-lang { color: #a31515; opacity: 0.8; }
.plm-editor .tk-punct { color: #57606a; }
"""

_JS = r"""
const KEYWORDS = new Set(("SELECT CONSTRUCT DESCRIBE ASK WHERE FILTER OPTIONAL UNION MINUS GRAPH SERVICE BIND VALUES " +
  "PREFIX BASE FROM NAMED DISTINCT REDUCED AS ORDER BY GROUP HAVING LIMIT OFFSET ASC DESC NOT IN EXISTS " +
  "UNDEF SILENT INSERT DELETE DATA LOAD CLEAR DROP CREATE ADD MOVE COPY WITH USING DEFAULT ALL INTO TO A " +
  "TRUE FALSE SEPARATOR").split(" "));
const FUNCTIONS = new Set(("STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT " +
  "STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES " +
  "SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM " +
  "ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT").split(" "));

// One token at a time: [class or null, text]. Order matters (comments and strings first).
const RULES = [
  ["com", /#[^\n]*/y],
  ["str", /"{3}[\s\S]*?(?:"{3}|$)|'{3}[\s\S]*?(?:'{3}|$)|"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?/y],
  ["iri", /<[^<>"{}|^`\\\s]*>/y],
  ["var", /[?$][A-Za-z0-9_\u00B7-\uFFFF]+/y],
  ["lang", /@[A-Za-z]+(?:-[A-Za-z0-9]+)*/y],
  ["pn", /(?:[A-Za-z\u00C0-\uFFFF][\w\-.\u00B7-\uFFFF]*)?:(?:[\w\-.:%\u00B7-\uFFFF]|\\.)*/y],
  ["num", /[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/y],
  ["word", /[A-Za-z_][A-Za-z0-9_]*/y],
  ["ws", /\s+/y],
  ["punct", /[{}()\[\];,.*=!<>&|^\/+-]+/y],
];

function tokenize(text) {
  const out = [];
  let i = 0;
  while (i < text.length) {
    let matched = false;
    for (const [kind, re] of RULES) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (!m || m[0].length === 0) continue;
      let tok = m[0];
      let cls = kind;
      if (kind === "pn") {
        // a prefixed name does not end with '.', which ends the triple instead
        const trimmed = tok.replace(/\.+$/, "");
        if (trimmed.length === 0) continue;
        tok = trimmed;
      } else if (kind === "word") {
        const up = tok.toUpperCase();
        cls = KEYWORDS.has(up) ? "kw" : FUNCTIONS.has(up) ? "fn" : null;
      } else if (kind === "ws") {
        cls = null;
      }
      out.push([cls, tok]);
      i += tok.length;
      matched = true;
      break;
    }
    if (!matched) { out.push([null, text[i]]); i += 1; }
  }
  return out;
}

function render(pre, text) {
  const frag = document.createDocumentFragment();
  let plain = "";
  const flush = () => { if (plain) { frag.appendChild(document.createTextNode(plain)); plain = ""; } };
  for (const [cls, tok] of tokenize(text)) {
    if (!cls) { plain += tok; continue; }
    flush();
    const span = document.createElement("span");
    span.className = "tk-" + cls;
    span.textContent = tok;
    frag.appendChild(span);
  }
  plain += "\n ";  // so the last (possibly empty) line has a height, as in the textarea
  flush();
  pre.replaceChildren(frag);
}

function build(parentElement) {
  const root = document.createElement("div");
  root.className = "plm-editor";
  const box = document.createElement("div");
  box.className = "plm-box";
  const gutter = document.createElement("pre");
  gutter.className = "plm-gutter";
  gutter.setAttribute("aria-hidden", "true");
  const area = document.createElement("div");
  area.className = "plm-area";
  const pre = document.createElement("pre");
  pre.className = "plm-hl";
  pre.setAttribute("aria-hidden", "true");
  const ta = document.createElement("textarea");
  ta.setAttribute("spellcheck", "false");
  ta.setAttribute("autocomplete", "off");
  ta.setAttribute("autocapitalize", "off");
  ta.setAttribute("wrap", "off");
  ta.setAttribute("aria-label", "SPARQL query (Ctrl+Enter runs it)");
  area.append(pre, ta);
  box.append(gutter, area);
  const status = document.createElement("div");
  status.className = "plm-status";
  const hint = document.createElement("span");
  hint.textContent = "Ctrl+Enter (⌘+Enter) runs · Tab indents · Esc then Tab leaves";
  const pos = document.createElement("span");
  status.append(hint, pos);
  root.append(box, status);
  parentElement.appendChild(root);

  const st = { root, ta, pre, gutter, pos, api: null, version: null, reported: null, timer: null, lines: 0,
               escaped: false, seq: 0, born: Date.now().toString(36) + Math.random().toString(36).slice(2, 6) };

  const refresh = () => {
    render(pre, ta.value);
    const n = ta.value.split("\n").length;
    if (n !== st.lines) {
      st.lines = n;
      let nums = "";
      for (let k = 1; k <= n; k++) nums += k + "\n";
      gutter.textContent = nums + " ";
    }
    sync();
    where();
  };
  const sync = () => {
    pre.scrollTop = ta.scrollTop;
    pre.scrollLeft = ta.scrollLeft;
    gutter.scrollTop = ta.scrollTop;
  };
  const where = () => {
    const before = ta.value.slice(0, ta.selectionStart);
    const line = before.split("\n").length;
    const col = ta.selectionStart - before.lastIndexOf("\n");
    pos.textContent = `line ${line}, column ${col}`;
  };
  const report = () => {
    clearTimeout(st.timer);
    st.timer = null;
    if (st.api && ta.value !== st.reported) {
      st.reported = ta.value;
      st.seq += 1;
      // the version tells Python which of its texts this edit started from; the id makes each report new
      st.api.setStateValue("text", { text: ta.value, version: st.version, id: `${st.born}-${st.seq}` });
    }
  };
  const run = () => {
    report();
    if (st.api) st.api.setTriggerValue("run", { text: ta.value, version: st.version });
  };
  st.refresh = refresh;
  st.run = run;
  st.report = report;

  ta.addEventListener("input", () => {
    refresh();
    clearTimeout(st.timer);
    st.timer = setTimeout(report, 600);
  });
  ta.addEventListener("blur", report);
  ta.addEventListener("scroll", sync);
  ta.addEventListener("keyup", where);
  ta.addEventListener("click", where);
  ta.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      e.stopPropagation();
      run();
      return;
    }
    if (e.key === "Escape") { st.escaped = true; return; }
    if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey && !st.escaped) {
      e.preventDefault();
      ta.setRangeText("  ", ta.selectionStart, ta.selectionEnd, "end");
      ta.dispatchEvent(new Event("input"));
      return;
    }
    st.escaped = false;
  });
  return st;
}

export default function ({ data, parentElement, setStateValue, setTriggerValue }) {
  let st = parentElement.__plmEditor;
  if (!st) {
    st = build(parentElement);
    parentElement.__plmEditor = st;
  }
  st.api = { setStateValue, setTriggerValue };   // the newest callbacks (this function runs on every update)
  st.root.querySelector(".plm-box").style.height = data.height;
  if (data.max_chars) st.ta.maxLength = data.max_chars;   // typing and pasting stop at the query limit
  if (data.version !== st.version) {            // Python replaced the text (an example, a link, plain edit)
    st.version = data.version;
    if (st.ta.value !== data.value) {
      st.ta.value = data.value;
      st.ta.scrollTop = 0;
    }
    st.reported = st.ta.value;
    st.refresh();
  }
  globalThis.__plmEditor = {
    get: () => st.ta.value,
    set: (text) => { st.ta.value = String(text); st.refresh(); st.report(); },
    run: () => st.run(),
    element: st.root,
  };
}
"""


@st.cache_resource(show_spinner=False)
def _editor_component():
    return st.components.v2.component("plm_sparql_editor", js=_JS, css=_CSS)


def _text_of(payload) -> str | None:
    if isinstance(payload, dict) and isinstance(payload.get("text"), str):
        return payload["text"]
    return None


def sparql_editor(value: str, *, key: str, version: int = 0, height: int = 300,
                  max_chars: int | None = None) -> tuple[str | None, str | None]:
    """Draw the editor showing `value`; the browser replaces its text only when `version` changes.
    With `max_chars`, the browser's text area takes at most that many characters (the caller still
    checks what comes back: a client can send anything).

    Returns (edited, run):
      edited: the text the user typed, when the browser reported an edit since the last run of the
              script that started from this `version` (None otherwise: no edit, or an edit to a
              text Python has replaced since);
      run:    the text sent with Ctrl+Enter / Cmd+Enter in this run (None otherwise).
    """
    result = _editor_component()(
        key=key, data={"value": value, "version": version, "height": f"{height}px", "max_chars": max_chars},
        on_text_change=lambda: None, on_run_change=lambda: None,
    )
    state, trigger = getattr(result, "text", None), getattr(result, "run", None)
    seen_key = f"_{key}_seen"
    edited = None
    if state is not None and state != st.session_state.get(seen_key):
        st.session_state[seen_key] = state
        if state.get("version") == version:
            edited = _text_of(state)
    return edited, _text_of(trigger)
