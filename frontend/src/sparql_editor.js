// The SPARQL page's editor: CodeMirror 6 with the SPARQL highlighter and checker of _sparql_syntax.js,
// and completion from the loaded graph's own vocabulary (kg/completion.py sends it in `data.vocab`).
//
// Keys: the usual editing keys with undo and redo (Ctrl+Z, Ctrl+Shift+Z / Ctrl+Y), brackets and quotes
// closed as they are typed, search (Ctrl+F), completion (Ctrl+Space, or as you type a prefixed name),
// Tab and Shift+Tab indent; Esc then Tab leaves the editor (keyboard users are never trapped); Ctrl+Enter
// or Cmd+Enter runs the query.
//
// Completion offers the declared prefixes, SPARQL's keywords, and the graph's classes, properties and
// nodes: after `pm:` by local name or by any label, in English or Chinese (`pm:排列` offers
// pm:permutation-lm). Picking a name whose prefix the query does not declare adds its PREFIX line.
// Syntax errors are marked where they are as you type (nothing is run); so is the lang() case trap.
//
// The text reaches Python as the state value `text` (after a pause in typing, and on blur); Ctrl+Enter
// sends the trigger `run`. Python replaces the text by sending a new `version`: until then the browser
// keeps what the user typed. `globalThis.__plmEditor` ({get, set, run, view}) is a handle for tests.
//
// Above the editor: Prettify (sparqljs lays the query out; Ctrl+Z undoes it) and Copy link (the page's
// address with this query in ?q=, which runs it when opened). Their words come from the page's message
// catalogue in `data.messages`.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, startCompletion } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentLess, indentMore, isolateHistory } from "@codemirror/commands";
import { bracketMatching, defaultHighlightStyle, indentOnInput, indentUnit, syntaxHighlighting } from "@codemirror/language";
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState, Prec } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from "@codemirror/view";
import { checkSyntax, FUNCTIONS, KEYWORDS, langWarnings, prettify, sparqlLanguage } from "./_sparql_syntax.js";

export { checkSyntax, langWarnings, prettify };   // for tests run by node against this very bundle

const MAX_OPTIONS = 60;

// ---------------------------------------------------------------------------------------------
// Completion
// ---------------------------------------------------------------------------------------------

function fold(s) { return String(s).toLowerCase().normalize("NFKC"); }
function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "…" : s; }

// Everything the editor can offer, from the vocabulary: one entry per term, with what it is matched by.
function index(vocab) {
  const terms = [];
  for (const [kind, list] of [["class", vocab.classes], ["property", vocab.properties], ["node", vocab.nodes]]) {
    for (const t of list || []) {
      if (!t.short) continue;
      const [prefix, local] = [t.short.slice(0, t.short.indexOf(":")), t.short.slice(t.short.indexOf(":") + 1)];
      terms.push({ ...t, kind, prefix, local, keys: [fold(local), ...(t.labels || []).map(fold)] });
    }
  }
  return { terms, prefixes: vocab.prefixes || [] };
}

// Does the query declare `prefix:` itself? (The page declares every known prefix for the engine, but a
// query copied elsewhere needs its own PREFIX lines: the editor writes the ones it completes.)
function declares(text, prefix) {
  return new RegExp(`^\\s*PREFIX\\s+${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:`, "im").test(text);
}

// Where a new PREFIX line goes: after the leading comments and PREFIX / BASE lines.
function prologueEnd(doc) {
  let at = 0;
  for (let n = 1; n <= doc.lines; n++) {
    const line = doc.line(n);
    if (/^\s*(#|PREFIX\b|BASE\b|$)/i.test(line.text)) at = line.to + 1;
    else break;
  }
  return Math.min(at, doc.length);
}

// Put `insert` in place of [from, to], with the PREFIX line of `prefix` if the query lacks it; the
// cursor goes after the inserted name.
function complete(view, prefix, iri, from, to, insert) {
  const changes = [{ from, to, insert }];
  if (iri && !declares(view.state.doc.toString(), prefix)) {
    const at = prologueEnd(view.state.doc);
    const line = `PREFIX ${prefix}: <${iri}>\n`;
    changes.unshift({ from: at, insert: at > 0 && view.state.doc.sliceString(at - 1, at) !== "\n" ? "\n" + line : line });
  }
  const set = view.state.changes(changes);
  view.dispatch({ changes: set, selection: { anchor: set.mapPos(to, 1) }, userEvent: "input.complete" });
}

function source(vocabRef) {
  return (context) => {
    const { terms, prefixes } = vocabRef.current;
    const nsOf = Object.fromEntries(prefixes.map((p) => [p.prefix, p.iri]));
    // a prefixed name being typed: `pm:perm`, `pm:排列`, `plm:imp`
    const pn = context.matchBefore(/(?:[A-Za-z][\w-]*)?:[^\s{}()\[\];,"'<>]*/);
    if (pn && pn.text.includes(":")) {
      const [prefix, typed] = [pn.text.slice(0, pn.text.indexOf(":")), fold(pn.text.slice(pn.text.indexOf(":") + 1))];
      const scored = [];
      for (const t of terms) {
        if (t.prefix !== prefix) continue;
        // the local name first, then a label that starts with the text, then one that holds it; among
        // equals, the closest (shortest) match: 排列 finds 排列语言模型 before a demo's long title
        let score = -1, closest = t.keys[0].length;
        const starts = t.keys.filter((k) => k.startsWith(typed)), holds = t.keys.filter((k) => k.includes(typed));
        if (!typed) score = 1;
        else if (t.keys[0].startsWith(typed)) score = 4;
        else if (starts.length) { score = 3; closest = Math.min(...starts.map((k) => k.length)); }
        else if (holds.length) { score = 2; closest = Math.min(...holds.map((k) => k.length)); }
        if (score >= 0) scored.push([score + (t.kind === "property" ? 0.2 : t.kind === "class" ? 0.1 : 0), closest, t]);
      }
      scored.sort((a, b) => b[0] - a[0] || a[1] - b[1] || a[2].local.localeCompare(b[2].local));
      if (!scored.length) return null;
      return {
        from: pn.from, filter: false,
        options: scored.slice(0, MAX_OPTIONS).map(([score, , t]) => ({
          label: t.short, type: t.kind === "node" ? "constant" : t.kind === "class" ? "class" : "property",
          detail: clip((t.labels || []).slice(0, 3).map((l) => clip(l, 40)).join(" · "), 90),
          info: [...(t.labels || []), t.comment].filter(Boolean).join("\n") || undefined, boost: score,
          apply: (view, completion, from, to) => complete(view, prefix, nsOf[prefix], from, to, t.short),
        })),
      };
    }
    // a word: a prefix (`sk` -> skos:), a keyword or a function
    const word = context.matchBefore(/[A-Za-z][\w-]*/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    const options = [
      ...prefixes.map((p) => ({
        label: `${p.prefix}:`, type: "namespace", detail: p.iri, boost: 2,
        apply: (view, completion, from, to) => { complete(view, p.prefix, p.iri, from, to, `${p.prefix}:`); startCompletion(view); },
      })),
      ...KEYWORDS.map((k) => ({ label: k, type: "keyword" })),
      ...FUNCTIONS.map((f) => ({ label: f, type: "function", apply: `${f}(` })),
    ];
    return { from: word.from, options, validFor: /^[A-Za-z][\w-]*$/ };
  };
}

// ---------------------------------------------------------------------------------------------
// The editor
// ---------------------------------------------------------------------------------------------

const theme = EditorView.theme({
  "&": { fontSize: "14px", border: "1px solid #d5d8de", borderRadius: "6px", background: "#fbfbfc" },
  "&.cm-focused": { outline: "none", borderColor: "#4e79a7", boxShadow: "0 0 0 2px #4e79a744" },
  ".cm-scroller": { fontFamily: "'Source Code Pro', ui-monospace, SFMono-Regular, Menlo, Consolas, monospace", lineHeight: "20px" },
  ".cm-gutters": { background: "#f3f4f6", borderRight: "1px solid #e5e7eb", color: "#8a8f98" },
  ".cm-tooltip-autocomplete ul li": { fontFamily: "'Source Code Pro', ui-monospace, monospace" },
  ".cm-completionDetail": { marginLeft: "0.8em", color: "#6b7280", fontStyle: "normal" },
});
const statusCss = `.plm-tools { display: flex; justify-content: flex-end; align-items: center; gap: 6px;
  font: 13px system-ui, sans-serif; margin-bottom: 4px; }
  .plm-tools .said { color: #6b7280; margin-right: auto; font-size: 12px; }
  .plm-tools button { font: inherit; padding: 2px 10px; border: 1px solid #d5d8de; border-radius: 6px;
  background: #fff; color: #1f2937; cursor: pointer; }
  .plm-tools button:hover { border-color: #4e79a7; color: #1f4e79; }
  .plm-tools button:focus-visible { outline: 2px solid #4e79a7; outline-offset: 1px; }
  .plm-tools input { font: 12px ui-monospace, monospace; width: 18em; }
  .plm-status { display: flex; justify-content: space-between; gap: 1em; font: 12px system-ui, sans-serif;
  color: #6b7280; padding: 3px 4px; } .plm-status .problem { color: #b42318; } .plm-status .warning { color: #8a5a00; }`;

function build(parent, data) {
  const state = { version: null, reported: null, born: Date.now().toString(36), seq: 0, timer: null, api: null,
                  vocab: { current: { terms: [], prefixes: [] } }, vocabKey: null, prefixes: {}, maxChars: 0 };
  const root = document.createElement("div");
  root.className = "plm-editor";
  const style = document.createElement("style");
  style.textContent = statusCss;
  const host = document.createElement("div");
  const status = document.createElement("div");
  status.className = "plm-status";
  status.setAttribute("aria-live", "polite");
  const where = document.createElement("span"), problem = document.createElement("span");
  problem.className = "problem";
  status.append(problem, where);
  const tools = document.createElement("div");
  tools.className = "plm-tools";
  const said = document.createElement("span");
  said.className = "said";
  said.setAttribute("aria-live", "polite");
  const button = (name, action) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = name;
    b.addEventListener("click", action);
    return b;
  };
  const words = (key, values = {}) =>
    String((state.messages || {})[key] || key).replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const prettyButton = button("prettify", () => {
    const out = prettify(view.state.doc.toString(), state.prefixes);
    if (out.error) { said.textContent = words("prettify_error", { problem: out.error.message }); return; }
    // its own undo step, never joined to the typing just before it
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: out.text }, userEvent: "input.prettify",
                    annotations: isolateHistory.of("full") });
    said.textContent = words(out.moved ? "prettified_moved" : "prettified", { count: out.moved });
    report();
  });
  const linkButton = button("copy-link", async () => {
    const url = new URL(window.location.href);
    url.search = "";
    url.hash = "";
    url.searchParams.set("q", view.state.doc.toString());
    const link = url.toString();
    root.dataset.link = link;
    try {
      await navigator.clipboard.writeText(link);
      said.textContent = words("link_copied", { count: link.length.toLocaleString() });
    } catch (e) {   // no clipboard (an insecure origin, a refused permission): the link, selected, to copy by hand
      const box = document.createElement("input");
      box.readOnly = true;
      box.value = link;
      box.setAttribute("aria-label", words("link_label"));
      said.replaceChildren(words("link_by_hand") + " ", box);
      box.focus();
      box.select();
    }
  });
  tools.append(said, prettyButton, linkButton);
  root.append(style, tools, host, status);
  parent.replaceChildren(root);

  const report = () => {
    clearTimeout(state.timer);
    state.timer = null;
    const text = view.state.doc.toString();
    if (state.api && text !== state.reported) {
      state.reported = text;
      state.seq += 1;
      // the version tells Python which of its texts this edit started from; the id makes each report new
      state.api.setStateValue("text", { text, version: state.version, id: `${state.born}-${state.seq}` });
    }
  };
  const run = () => {
    report();
    if (state.api) state.api.setTriggerValue("run", { text: view.state.doc.toString(), version: state.version });
    return true;
  };
  const check = linter((v) => {
    const text = v.state.doc.toString();
    const found = [];
    const error = checkSyntax(text, state.prefixes);
    if (error) found.push({ ...error, severity: "error", source: "syntax" });
    found.push(...langWarnings(text).map((w) => ({ ...w, source: "lang()" })));
    problem.textContent = found.length ? found[0].message : "";
    problem.className = found.length && found[0].severity === "warning" ? "problem warning" : "problem";
    root.dataset.problems = JSON.stringify(found.map((d) => ({ from: d.from, to: d.to, severity: d.severity,
      line: v.state.doc.lineAt(d.from).number, column: d.from - v.state.doc.lineAt(d.from).from + 1, message: d.message })));
    return found;
  }, { delay: 350 });

  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: data.value || "",
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(), bracketMatching(),
        closeBrackets(), highlightActiveLine(), highlightSelectionMatches(), lintGutter(), check,
        // the list within a frame of the keystroke (CodeMirror waits 100 ms by default; the source takes ~1 ms)
        autocompletion({ override: [source(state.vocab)], activateOnTyping: true, activateOnTypingDelay: 10,
                         maxRenderedOptions: MAX_OPTIONS }),
        sparqlLanguage, syntaxHighlighting(defaultHighlightStyle), indentUnit.of("  "), theme,
        EditorView.lineWrapping,   // a long line (a comment, a long IRI) wraps: nothing is cut at the right edge
        EditorView.contentAttributes.of({ "aria-label": data.label || "SPARQL query" }),
        Prec.highest(keymap.of([{ key: "Mod-Enter", run, preventDefault: true }])),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap,
                   ...lintKeymap, { key: "Tab", run: indentMore, shift: indentLess }]),
        EditorState.transactionFilter.of((tr) =>   // typing and pasting stop at the query limit
          state.maxChars && tr.docChanged && tr.newDoc.length > state.maxChars && tr.newDoc.length > tr.startState.doc.length
            ? [] : tr),
        EditorView.updateListener.of((u) => {
          const head = u.state.selection.main.head, line = u.state.doc.lineAt(head);
          where.textContent = `line ${line.number}, column ${head - line.from + 1} · ${u.state.doc.length.toLocaleString()}` +
                              (state.maxChars ? ` / ${state.maxChars.toLocaleString()}` : "") + " characters";
          if (u.docChanged) { clearTimeout(state.timer); state.timer = setTimeout(report, 600); }
          if (u.focusChanged && !u.view.hasFocus) report();
        }),
      ],
    }),
  });
  Object.assign(state, { root, view, report, run, said, prettyButton, linkButton });
  return state;
}

export default function ({ data, parentElement, setStateValue, setTriggerValue }) {
  let st = parentElement.__plmEditor;
  if (!st) {
    st = build(parentElement, data);
    parentElement.__plmEditor = st;
  }
  st.api = { setStateValue, setTriggerValue };   // the newest callbacks (this function runs on every update)
  st.maxChars = data.max_chars || 0;
  if (data.messages && data.messages !== st.messagesText) {   // the interface's words, in the page's language
    st.messagesText = data.messages;
    st.messages = JSON.parse(data.messages);
    for (const [b, key] of [[st.prettyButton, "prettify"], [st.linkButton, "copy_link"]]) {
      b.textContent = st.messages[key];
      b.title = st.messages[key + "_help"];
    }
  }
  st.view.dom.style.height = data.height || "300px";
  st.view.scrollDOM.style.overflow = "auto";
  if (data.vocab && data.vocab_key !== st.vocabKey) {   // the vocabulary changes only with the graph
    st.vocabKey = data.vocab_key;
    const vocab = JSON.parse(data.vocab);
    st.vocab.current = index(vocab);
    st.prefixes = Object.fromEntries((vocab.prefixes || []).map((p) => [p.prefix, p.iri]));
  }
  if (data.version !== st.version) {            // Python replaced the text (an example, a link, plain edit)
    st.version = data.version;
    const text = data.value || "";
    if (st.view.state.doc.toString() !== text) {
      st.view.dispatch({ changes: { from: 0, to: st.view.state.doc.length, insert: text }, selection: { anchor: 0 },
                         scrollIntoView: true });
    }
    st.reported = text;
  }
  globalThis.__plmEditor = {
    get: () => st.view.state.doc.toString(),
    set: (text) => {
      st.view.dispatch({ changes: { from: 0, to: st.view.state.doc.length, insert: String(text) } });
      st.report();
    },
    run: () => st.run(),
    view: st.view,
    element: st.root,
  };
}
