"""The upload templates: Korean headers the importer reads, an example row that passes its checks, the
code lists on a second sheet, and the column guide beside the file picker."""

import csv
import io

import pytest
from openpyxl import load_workbook

from matcher import db, import_template, importer
from matcher.firms import SIZE_CLASSES

from helpers import REF, ROUND


@pytest.mark.parametrize("kind", import_template.KINDS)
def test_the_csv_template_has_the_korean_headers_and_an_example_row(kind):
    table = list(csv.reader(io.StringIO(import_template.template_csv(kind, ROUND).decode("utf-8-sig"))))
    assert table[0] == [c.header for c in import_template.columns(kind)] and len(table) == 2
    assert "사업자등록번호" in table[0] and table[1][table[0].index("사업자등록번호")] == "107-81-53660"


def test_the_example_rows_pass_the_importers_checks(tmp_path, db_url):
    for kind in import_template.KINDS:
        (tmp_path / f"{kind}.csv").write_bytes(import_template.template_csv(kind, ROUND))
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name=ROUND, reference_date=REF, open_tracks=["materials"]))
        s.flush()
        assert importer.import_firms(tmp_path / "firms.csv", s).inserted == 1
        assert importer.import_applications(tmp_path / "applications.csv", s).inserted == 1


def test_the_workbook_has_the_rows_then_the_code_lists_and_what_each_column_holds():
    book = load_workbook(io.BytesIO(import_template.template_xlsx("firms", ROUND)))
    data, codes = book.worksheets
    assert [c.value for c in data[1]] == [c.header for c in import_template.columns("firms")]
    assert data.cell(2, 1).value == "107-81-53660"
    values = [c.value for row in codes.iter_rows() for c in row if c.value]
    assert set(SIZE_CLASSES) <= set(values) and {"서울", "제주", "소재부품", "직접생산확인", "주관"} <= set(values)
    assert "사업자등록번호 *" in values and "기업규모" in values
    english = load_workbook(io.BytesIO(import_template.template_xlsx("firms", ROUND, "en"))).worksheets[1]
    assert "the firm's name" in [c.value for row in english.iter_rows() for c in row]


def test_the_round_page_offers_the_templates_and_lists_the_columns_beside_the_file_picker(staff, round_id):
    page = staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True)
    for kind in import_template.KINDS:
        upload = page[page.index(f'id="upload-{kind}"'):]
        assert upload.index(f'id="template-{kind}"') < upload.index(f'id="columns-{kind}"') < 3000
        assert f"/staff/rounds/{round_id}/template/{kind}.xlsx" in upload
    guide = page[page.index('id="columns-firms"'):]
    assert "사업자등록번호" in guide[:guide.index("</details>")] and "17개 시도" in guide
    workbook = staff.get(f"/staff/rounds/{round_id}/template/applications.xlsx")
    assert workbook.status_code == 200 and workbook.data[:2] == b"PK"
    text = staff.get(f"/staff/rounds/{round_id}/template/firms.csv").data.decode("utf-8-sig")
    assert text.startswith("사업자등록번호,")
    assert staff.get(f"/staff/rounds/{round_id}/template/other.csv").status_code == 404
