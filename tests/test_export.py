"""Export of a run: CSV and XLSX content, formula neutralisation."""

import csv
import io

import pytest
from openpyxl import load_workbook

from matcher import db
from matcher.errors import MatcherError, NotFoundError
from matcher.export import HEADERS, export_run, safe_cell
from tests.test_matching import brn, make_round
from matcher import rounds


def run_match(s, name, **kw):
    return rounds.run_match(s, rounds.find_round(s, name).id, **kw)


def decide(s, name, *args):
    return rounds.decide(s, rounds.find_round(s, name).id, *args)


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_is_quoted(text):
    assert safe_cell(text) == "'" + text


def test_plain_values_unchanged():
    assert safe_cell("주식회사 가나") == "주식회사 가나"
    assert safe_cell(-1.5) == -1.5 and safe_cell(None) is None


@pytest.fixture
def run_id(db_url):
    make_round(db_url, 2, large=False, sme_partners=2, lead_name="=HYPERLINK(\"http://x\")")
    with db.transaction(db_url) as s:
        return run_match(s, "R1")


def test_csv_export(db_url, run_id):
    with db.transaction(db_url) as s:
        data = export_run(s, run_id, "csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and len(rows) == 3
    by_lead = {r[1]: r for r in rows[1:]}
    assert by_lead[brn(0)][2] == "'=HYPERLINK(\"http://x\")"
    status = HEADERS.index("status")
    assert all(r[0] == "materials" and r[status] == "proposed" and float(r[5]) > 0 for r in rows[1:])
    assert all(r[HEADERS.index("decision")] == "" and r[-1] == "" for r in rows[1:])
    assert all(r[HEADERS.index("reasons")] for r in rows[1:])


def test_xlsx_export(db_url, run_id):
    with db.transaction(db_url) as s:
        data = export_run(s, run_id, "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.values)
    assert list(values[0]) == HEADERS and len(values) == 3
    names = {row[1]: row[2] for row in values[1:]}
    assert names[brn(0)].startswith("'=")
    assert isinstance(values[1][5], float)


def test_unknown_run_and_format(db_url, run_id):
    with db.transaction(db_url) as s:
        with pytest.raises(NotFoundError):
            export_run(s, 999, "csv")
        with pytest.raises(MatcherError, match="not one of"):
            export_run(s, run_id, "pdf")


def _decide_all(db_url, run_id):
    """Approve the first proposal with a note, forbid the second with a formula-like note."""
    with db.transaction(db_url) as s:
        pairs = [(p.lead.brn, p.partner.brn) for p in s.get(db.MatchRunRow, run_id).proposals]
        decide(s, "R1", *pairs[0], "approve", "좋은 짝", "staff")
        decide(s, "R1", *pairs[1], "forbid", "=중복 신청", "staff", "materials")
    return pairs


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_carry_each_decision_and_its_note(db_url, run_id, fmt):
    pairs = _decide_all(db_url, run_id)
    with db.transaction(db_url) as s:
        data = export_run(s, run_id, fmt)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        rows = [["" if v is None else v for v in row] for row in load_workbook(io.BytesIO(data)).active.values]
    assert list(rows[0]) == HEADERS and HEADERS[-2:] == ["decision", "decision_note"]
    by_pair = {(r[1], r[3]): r for r in rows[1:]}
    assert by_pair[pairs[0]][-2:] == ["approve", "좋은 짝"]
    assert by_pair[pairs[1]][-2:] == ["forbid", "'=중복 신청"]
