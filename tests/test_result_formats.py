"""The TSV download guarded against spreadsheet formulas (kg.results.to_tsv(guard_formulas=True)):
what a spreadsheet would run is defused, and every cell stays an N-Triples term."""

from __future__ import annotations

import csv
import io

import pytest
import rdflib

from kg.results import FORMULA_START, SelectResult, Term, to_csv, to_tsv

XSD = "http://www.w3.org/2001/XMLSchema#"
FORMULAS = ["=HYPERLINK(\"http://127.0.0.1:1/x\",\"x\")", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)",
            "\t=1+1", "\r=1+1"]


def result(*terms: Term | None) -> SelectResult:
    return SelectResult([f"v{i}" for i in range(len(terms))], [tuple(terms)])


def cells(tsv: str) -> list[list[str]]:
    """The TSV's rows of cells, the header left out."""
    return [line.split("\t") for line in tsv.splitlines()[1:]]


def parsed(cell: str):
    """The RDF term an N-Triples cell writes (rdflib's N-Triples parser)."""
    g = rdflib.Graph().parse(data=f"<http://x/s> <http://x/p> {cell} .\n", format="nt")
    (term,) = g.objects()
    return term


def as_a_spreadsheet_reads(tsv: str) -> list[str]:
    """Every cell as a spreadsheet takes it in: tab-separated, double quotes as text delimiters."""
    return [cell for row in csv.reader(io.StringIO(tsv), delimiter="\t", quotechar='"') for cell in row]


@pytest.mark.parametrize("value", FORMULAS)
@pytest.mark.parametrize("lang, datatype", [(None, None), ("en", None), (None, XSD + "string"),
                                            (None, "http://x/type")])
def test_a_tsv_cell_that_starts_like_a_formula_is_guarded(value, lang, datatype):
    (cell,), = cells(to_tsv(result(Term("literal", value, datatype, lang)), guard_formulas=True))
    assert cell.startswith("\"'")
    term = parsed(cell)
    assert str(term) == "'" + value                       # the value with one quote in front, nothing else
    assert term.language == lang
    assert term.datatype == (rdflib.URIRef(datatype) if datatype and datatype != XSD + "string" else None)


@pytest.mark.parametrize("value", FORMULAS)
def test_a_spreadsheet_sees_the_formula_unguarded_and_text_guarded(value):
    hostile = result(Term("literal", value, None, "en"), Term("literal", "BERT"))
    unguarded = as_a_spreadsheet_reads(to_tsv(hostile))
    guarded = as_a_spreadsheet_reads(to_tsv(hostile, guard_formulas=True))
    assert not value.startswith(("\t", "\r")) or unguarded[2].startswith("\\")  # N-Triples escapes them
    assert value.startswith(("\t", "\r")) or unguarded[2].startswith(FORMULA_START)
    assert not any(cell.startswith(FORMULA_START) for cell in guarded)
    assert guarded[2].startswith("'") and guarded[3] == "BERT"


def test_every_guarded_row_keeps_its_columns():
    rows = [tuple(Term("literal", v) for v in FORMULAS), tuple(Term("literal", "x") for _ in FORMULAS)]
    tsv = to_tsv(SelectResult([f"v{i}" for i in range(len(FORMULAS))], rows), guard_formulas=True)
    assert [len(row) for row in cells(tsv)] == [len(FORMULAS), len(FORMULAS)]
    assert "\r" not in tsv and tsv.count("\n") == 3                # escapes, not raw tabs or line breaks


def test_the_guard_changes_only_literals_that_start_like_a_formula():
    safe = result(Term("uri", "https://w3id.org/plm-map/id/BERT"), Term("bnode", "b0"),
                  Term("literal", "BERT = bidirectional", None, "en"), Term("literal", "a-b"), None,
                  Term("literal", "2019", XSD + "gYear"))
    assert to_tsv(safe, guard_formulas=True) == to_tsv(safe)


@pytest.mark.parametrize("value, datatype", [("-5", "integer"), ("+5", "integer"), ("-1.5", "decimal"),
                                             ("-.5e-3", "double"), ("+2E10", "double")])
def test_a_signed_number_stays_a_well_typed_number(value, datatype):
    term = Term("literal", value, XSD + datatype)
    (cell,), = cells(to_tsv(result(term), guard_formulas=True))
    assert cell == term.n3() and parsed(cell).ill_typed is False


@pytest.mark.parametrize("value", ["-2+3+cmd|' /C calc'!A0", "-INF", "=1"])
def test_a_numeric_literal_that_is_not_a_plain_number_is_guarded(value):
    (cell,), = cells(to_tsv(result(Term("literal", value, XSD + "integer")), guard_formulas=True))
    assert str(parsed(cell)) == "'" + value and cell.endswith(f"^^<{XSD}integer>")


def test_tsv_is_unguarded_unless_asked():
    hostile = result(Term("literal", "=1+1"))
    assert cells(to_tsv(hostile)) == [['"=1+1"']]
    assert cells(to_tsv(hostile, guard_formulas=True)) == [['"\'=1+1"']]


def test_guarded_tsv_and_csv_agree_on_text():
    terms = [Term("literal", v, None, "en") for v in FORMULAS + ["BERT"]]
    res = SelectResult([f"v{i}" for i in range(len(terms))], [tuple(terms)])
    csv_cells = next(iter(csv.reader(io.StringIO(to_csv(res, guard_formulas=True).split("\r\n", 1)[1]))))
    tsv_values = [str(parsed(cell)) for cell in cells(to_tsv(res, guard_formulas=True))[0]]
    assert tsv_values == csv_cells


# --------------------------------------------------------------------------------------------- XML

def _parsed(data: str, fmt: str):
    import io

    from rdflib.query import Result

    return Result.parse(io.BytesIO(data.encode()), format=fmt)


def test_xml_results_read_back_as_the_json_results_do(kg):
    """SPARQL XML and JSON results of the same SELECT, each read by rdflib's own parser, hold the same
    bindings: IRIs, language-tagged and typed literals, unbound cells, awkward characters."""
    from kg.results import to_json, to_xml

    result = kg.query('SELECT ?m ?l ?y ?odd ?none WHERE { ?m plm:improvesOn pm:BERT ; skos:prefLabel ?l . '
                      'OPTIONAL { ?m dcterms:issued ?y } BIND("<&>\\"\\r\\n\\t é 中" AS ?odd) }')
    assert len(result.rows) > 5
    xml, js = _parsed(to_xml(result), "xml"), _parsed(to_json(result), "json")
    assert [str(v) for v in xml.vars] == result.variables
    assert list(xml.bindings) == list(js.bindings)
    odd = rdflib.Variable("odd")
    assert all(str(b[odd]) == '<&>"\r\n\t é 中' for b in xml.bindings)   # the CR too (written &#13;)


def test_xml_ask_results_read_back():
    from kg.results import AskResult, to_xml

    assert _parsed(to_xml(AskResult(True)), "xml").askAnswer is True
    assert _parsed(to_xml(AskResult(False)), "xml").askAnswer is False


def test_a_value_xml_cannot_carry_is_refused_by_name_not_dropped():
    from kg.results import SelectResult, Term, to_xml

    result = SelectResult(["x"], [(Term("literal", "bell\x07"),)])
    with pytest.raises(ValueError, match="U\\+0007"):
        to_xml(result)
