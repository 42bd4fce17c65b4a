// SPARQL for the editor: a highlighter (a CodeMirror stream language) and a checker (sparqljs) that
// marks a syntax error where it is, in plain words.
//
// One ambiguity both must settle the way the engine does: `<` opens an IRI (<http://…>) or is the
// less-than operator (?x<3&&?y>2). The engine's parser knows from the grammar; see the two rules below.
import { StreamLanguage, StringStream } from "@codemirror/language";
import { Generator, Parser } from "sparqljs";

export const KEYWORDS = ("SELECT CONSTRUCT DESCRIBE ASK WHERE FILTER OPTIONAL UNION MINUS GRAPH SERVICE BIND VALUES " +
  "PREFIX BASE FROM NAMED DISTINCT REDUCED AS ORDER BY GROUP HAVING LIMIT OFFSET ASC DESC NOT IN EXISTS " +
  "UNDEF SILENT INSERT DELETE DATA LOAD CLEAR DROP CREATE ADD MOVE COPY WITH USING DEFAULT ALL INTO TO " +
  "TRUE FALSE SEPARATOR").split(" ");
export const FUNCTIONS = ("STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT " +
  "STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER YEAR MONTH DAY HOURS MINUTES " +
  "SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT SAMETERM " +
  "ISIRI ISURI ISBLANK ISLITERAL ISNUMERIC REGEX SUBSTR REPLACE COUNT SUM MIN MAX AVG SAMPLE GROUP_CONCAT").split(" ");
const KEYWORD = new Set(KEYWORDS), FUNCTION = new Set(FUNCTIONS);

const PNAME = /^(?:[A-Za-z\u00C0-\uFFFF][\w\-.\u00B7-\uFFFF]*)?:(?:[\w\-:%\u00B7-\uFFFF]|\.(?=[\w\-:%\u00B7-\uFFFF])|\\.)*/;

// The highlighter. Its state remembers whether the last token was a value: a `<` after one, followed by
// a digit, a variable, a bracket, && or ||, is the operator (a triple's object <http://…> keeps its colour).
const tokenizer = {
  name: "sparql",
  startState: () => ({ afterValue: false, inLong: null }),
  token(stream, state) {
    if (state.inLong) {   // inside a """long string""" that spans lines
      while (!stream.eol()) { if (stream.match(state.inLong)) { state.inLong = null; state.afterValue = true; return "string"; } stream.next(); }
      return "string";
    }
    if (stream.eatSpace()) return null;
    const value = (style) => { state.afterValue = true; return style; };
    const other = (style) => { state.afterValue = false; return style; };
    if (stream.match(/^#.*/)) return "comment";
    const long = stream.match(/^("""|''')/);
    if (long) {
      state.inLong = long[0];
      while (!stream.eol()) { if (stream.match(state.inLong)) { state.inLong = null; return value("string"); } stream.next(); }
      return "string";
    }
    if (stream.match(/^"(?:[^"\\\n]|\\.)*"?/) || stream.match(/^'(?:[^'\\\n]|\\.)*'?/)) return value("string");
    const iri = stream.match(/^<[^<>"{}|^`\\\s]*>/, false);
    if (iri && !(state.afterValue && /^<(?:[\d?$(]|.*(?:&&|\|\|))/.test(iri[0]))) { stream.match(iri[0]); return value("link"); }
    if (stream.match(/^[?$][\w\u00B7-\uFFFF]+/)) return value("variableName");
    if (stream.match(/^@[A-Za-z]+(?:-[A-Za-z0-9]+)*/)) return value("attributeName");
    if (stream.match(/^\^\^/)) return other("operator");
    if (stream.match(/^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)/)) return value("number");
    if (stream.match(PNAME)) return value("namespace");
    const word = stream.match(/^[A-Za-z_][\w]*/);
    if (word) {
      const w = word[0].toUpperCase();
      if (word[0] === "a") return other("keyword");
      if (KEYWORD.has(w)) return other("keyword");
      if (FUNCTION.has(w)) return other("function(variableName)");
      return value("name");
    }
    if (stream.match(/^[)\]}]/)) return value("bracket");
    if (stream.match(/^[({[]/)) return other("bracket");
    stream.next();
    return other("operator");
  },
  languageData: { commentTokens: { line: "#" }, closeBrackets: { brackets: ["(", "[", "{", "'", '"'] } },
};
export const sparqlLanguage = StreamLanguage.define(tokenizer);

// The comments of a query as the highlighter reads them (so a `#` in a string or an IRI is none):
// [{line, text}], and the number of lines before the first token that is not a comment.
export function comments(text) {
  const found = [], state = tokenizer.startState();
  let header = null;
  text.split("\n").forEach((line, i) => {
    const stream = new StringStream(line, 4, 2);
    while (!stream.eol()) {
      stream.start = stream.pos;
      const style = tokenizer.token(stream, state);
      if (style === "comment") found.push({ line: i + 1, text: stream.current() });
      else if (style !== null && header === null) header = i;
    }
  });
  return { comments: found, header: header === null ? text.split("\n").length : header };
}

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

// What the parser's token names mean, in words.
const WORDS = {
  VAR: "a variable", IRIREF: "an IRI", PNAME_LN: "a prefixed name", PNAME_NS: "a prefixed name",
  STRING_LITERAL1: "a string", STRING_LITERAL2: "a string", STRING_LITERAL_LONG1: "a string", STRING_LITERAL_LONG2: "a string",
  INTEGER: "a number", DECIMAL: "a number", DOUBLE: "a number", BOOLEAN: "true or false",
  BLANK_NODE_LABEL: "a blank node", ANON: "a blank node", NIL: "()", EOF: "the end of the query",
  FUNC_ARITY0: "a function", FUNC_ARITY1: "a function", FUNC_ARITY2: "a function", FUNC_ARITY3: "a function",
  FUNC_AGGREGATE: "an aggregate", INSERTDATA: "INSERT DATA", DELETEDATA: "DELETE DATA", DELETEWHERE: "DELETE WHERE",
};
const SKIP = /POSITIVE|NEGATIVE|SPARQL_STAR|^'?<<'?$|^'?>>'?$|LANGTAG|\{\||\|\}/;
const UPDATE_ONLY = new Set(["LOAD", "CREATE", "INSERTDATA", "DELETEDATA", "DELETEWHERE", "DELETE", "INSERT",
  "WITH", "CLEAR", "DROP", "ADD", "MOVE", "COPY"]);

function expectedWords(expected) {
  const out = [];
  for (const raw of expected || []) {
    const name = raw.replace(/^'|'$/g, "");
    if (SKIP.test(name) || UPDATE_ONLY.has(name)) continue;
    const word = WORDS[name] || (/^[A-Z_]+$/.test(name) ? name : `“${name}”`);
    if (!out.includes(word)) out.push(word);
  }
  return out;
}

function found(hash, text, offset) {
  if (hash.token === "EOF" || offset >= text.length) return "the end of the query";
  const piece = (text.slice(offset).match(/^\S{1,24}/) || [""])[0];
  return piece ? `“${piece}”` : "a space";
}

// The parser's lexer reads `<3&&?y>` in `?x<3&&?y>2` as an IRI, where the engine's grammar sees a
// comparison. So when the parser stops at an IRI, the checker tries again with a space after its `<`
// (an IRI holds no space, so the lexer must read an operator); the repair is kept only if the parser
// then gets further. `at` maps an offset of the repaired text back to the user's. Returns {parsed,
// repaired} when some repair parses, else the failure {err, offset, at}.
function parse(text, prefixes) {
  const inserted = [];   // offsets (in the repaired text) of the spaces added so far
  let current = text, failure = null;
  for (let tries = 0; tries <= 20; tries++) {
    try {
      const parsed = new Parser({ prefixes }).parse(current);
      return { parsed, repaired: current };
    } catch (err) {
      const here = offsetOf(current, err.hash);
      if (failure && (here === null || here <= failure.offset)) break;   // the repair did not help
      const spaces = inserted.slice();
      failure = { err, offset: here, at: (o) => o - spaces.filter((i) => i <= o).length };
      if (!err.hash || err.hash.token !== "IRIREF" || here === null) break;
      current = current.slice(0, here + 1) + " " + current.slice(here + 1);
      inserted.push(here + 1);
    }
  }
  return failure;
}

// Where the parser stopped. Its `loc` is that of the last token it took, so the token it could not take
// starts after it, past spaces and comments (the end of the text for EOF); unless `loc` spans that very
// token (the lexer's own error at the first character).
function offsetOf(text, hash) {
  if (!hash || !hash.loc) return null;
  if (hash.token === "EOF" || hash.token === 1) return text.length;
  const start = (line, column) => {
    const lines = text.split("\n");
    let at = 0;
    for (let l = 0; l < line - 1 && l < lines.length; l++) at += lines[l].length + 1;
    return at + column;
  };
  const first = start(hash.loc.first_line, hash.loc.first_column), last = start(hash.loc.last_line, hash.loc.last_column);
  if (hash.text && text.startsWith(hash.text, first) && last - first <= hash.text.length) return first;
  const gap = text.slice(last).match(/^(?:\s+|#[^\n]*)*/);
  return last + (gap ? gap[0].length : 0);
}

// A syntax error as the editor marks it: {from, to, message} in offsets of `text`, or null.
// `prefixes` are those the page declares for every query.
export function checkSyntax(text, prefixes = {}) {
  if (!text.trim()) return null;
  const failure = parse(text, prefixes);
  if (failure.parsed) return null;
  const { err, at } = failure;
  const hash = err.hash;
  if (!hash || !hash.loc) {   // a check after parsing ("Unknown prefix: foo", a variable projected twice)
    const message = String(err.message || err).split("\n")[0];
    const prefix = message.match(/^Unknown prefix: (\S*)/);
    const at = prefix ? text.search(new RegExp(`(^|[^\\w-])${prefix[1].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:`)) : -1;
    const from = at < 0 ? 0 : at + (/^[\w-]/.test(text[at]) ? 0 : 1);
    return { from, to: Math.min(text.length, from + (prefix ? prefix[1].length + 1 : 1)),
             message: prefix ? `The prefix ${prefix[1]}: is not declared: add PREFIX ${prefix[1]}: <…> at the top.` : message };
  }
  const from = Math.min(at(failure.offset), text.length);
  const to = Math.min(text.length, from + Math.max(1, (hash.text || "").length));
  const words = expectedWords(hash.expected);
  const shown = words.slice(0, 6).join(", ") + (words.length > 6 ? `, or ${words.length - 6} more` : "");
  const line = text.slice(0, from).split("\n").length, column = from - text.lastIndexOf("\n", from - 1);
  return { from, to, message: `Line ${line}, column ${column}: found ${found(hash, text, from)}` +
                              (shown ? `; valid here: ${shown}.` : ".") };
}

// The lang() trap: the engine lower-cases language tags, so lang(?l) = "zh-Hans" is false on every row.
export function langWarnings(text) {
  const out = [];
  const pattern = /\blang\s*\(\s*[?$][\w]+\s*\)\s*(=|!=)\s*("|')([^"'\n]*[A-Z][^"'\n]*)\2|("|')([^"'\n]*[A-Z][^"'\n]*)\4\s*(=|!=)\s*lang\s*\(/gi;
  for (const m of text.matchAll(pattern)) {
    const tag = m[3] || m[5], always = (m[1] || m[6]) === "=" ? "false" : "true";   // (the pattern ignores case for lang(): the tag must hold a capital itself)
    if (!/[A-Z]/.test(tag) || !/^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/.test(tag)) continue;
    const from = m.index + m[0].indexOf(tag);
    out.push({ from, to: from + tag.length, severity: "warning",
               message: `The engine gives language tags in lower case: lang(…) is "${tag.toLowerCase()}", never ` +
                        `"${tag}", so this comparison is ${always} on every row. Write "${tag.toLowerCase()}", or ` +
                        `langMatches(lang(…), "${tag}"), which ignores case.` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Prettify
// ---------------------------------------------------------------------------------------------

// The query laid out by sparqljs's generator (one pattern per line, blocks indented), or {error}.
// The generator keeps no comments: those before the query stay on top as they were, and any inside it
// move up to join them (`moved` counts them), so no word of the user's is lost. Prefixes the page
// declares are not written out unless the query declared them itself.
export function prettify(text, prefixes = {}) {
  const result = parse(text, prefixes);
  if (!result.parsed) return { error: checkSyntax(text, prefixes) };
  const own = { ...result.parsed.prefixes };   // its own: the page's are the parsed object's prototype
  const { comments: found, header } = comments(text);
  const lines = new Generator({ prefixes: { ...prefixes, ...own }, indent: "  " }).stringify(result.parsed).split("\n");
  let body = lines.findIndex((l) => !/^(PREFIX|BASE)\s/i.test(l));   // the generator declares every prefix
  if (body < 0) body = lines.length;                                     // it knows: keep the query's own
  lines.splice(0, body, ...lines.slice(0, body).filter((l) => !/^PREFIX\s/i.test(l) || l.match(/^PREFIX\s+([^\s:]*):/i)[1] in own));
  const top = found.filter((c) => c.line <= header).map((c) => c.text);
  const inside = found.filter((c) => c.line > header).map((c) => c.text);
  return { text: [...top, ...inside, ...lines].join("\n").replace(/\s+$/, "") + "\n", moved: inside.length };
}
