"""Export of a run: CSV and XLSX content, formula neutralisation."""

import csv
import io

import pytest
from openpyxl import load_workbook

from matcher import db
from matcher.errors import MatcherError, NotFoundError
from matcher.export import HEADERS, export_run, safe_cell
from tests.test_matching import brn, make_round
from matcher.matching import run_match


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
    assert all(r[0] == "materials" and r[-1] == "proposed" and float(r[5]) > 0 for r in rows[1:])
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
