"""Bad input at the importer's edge, the same on SQLite and PostgreSQL (these tests use ``db_url``):
NUL and other control characters, over-long cells, Unicode digits in 사업자등록번호, NFD Hangul."""

import io
import unicodedata

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from matcher import db, importer
from matcher.cli import main
from matcher.errors import ValidationError

HEADER = "사업자등록번호,회사명,기업규모,설립일,지역,계열그룹"
GOOD = "107-81-53660,한빛테크,소기업,2021-03-02,서울,"


def _csv(tmp_path, *rows, name="firms.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _firms(url):
    with db.transaction(url) as s:
        return [(r.brn, r.name, r.affiliate_group) for r in s.scalars(select(db.FirmRow).order_by(db.FirmRow.brn))]


@pytest.mark.parametrize("row, where, reason", [
    ("9000000336,가나\x00다,소기업,,서울,", "row 3, name: '가나\\x00다'",
     "contains the control character U+0000 NUL at character 3"),
    ("9000000336," + "가" * 100_000 + ",소기업,,서울,", "row 3, name: '" + "가" * 40 + "…'",
     "is 100,000 characters long; at most 200 are allowed"),
    ("9000000336,가나,소기업,,서울," + "그" * 60, "row 3, affiliate_group: '" + "그" * 40 + "…'",
     "is 60 characters long; at most 50 are allowed"),
    ("9000000336,가나,소기업\x1b,,서울,", "row 3, size_class: '소기업\\x1b'",
     "contains the control character U+001B at character 4"),
])
def test_check_and_import_refuse_the_cell_naming_row_and_column(db_url, tmp_path, row, where, reason):
    path = _csv(tmp_path, GOOD, row)
    runner = CliRunner()
    checked = runner.invoke(main, ["check", "firms", str(path)])
    assert checked.exit_code == 1, checked.output
    assert f"{where} {reason}" in checked.output
    imported = runner.invoke(main, ["import", "firms", str(path)])
    assert imported.exit_code == 2 and isinstance(imported.exception, SystemExit), imported.output
    assert f"{where} {reason}" in imported.output
    assert _firms(db_url) == []  # all-or-nothing: the good row is not stored either
    kept = runner.invoke(main, ["import", "firms", str(path), "--skip-invalid"])
    assert kept.exit_code == 0, kept.output
    assert _firms(db_url) == [("1078153660", "한빛테크", None)]


def test_longest_allowed_values_are_stored_whole(db_url, tmp_path):
    path = _csv(tmp_path, "9000000336," + "가" * 200 + ",소기업,,서울," + "그" * 50)
    result = CliRunner().invoke(main, ["import", "firms", str(path)])
    assert result.exit_code == 0, result.output
    assert _firms(db_url) == [("9000000336", "가" * 200, "그" * 50)]


def test_limits_match_the_database_columns():
    from matcher.validate import MAX_LENGTH
    assert MAX_LENGTH["name"] == db.FirmRow.__table__.c.name.type.length
    assert MAX_LENGTH["affiliate_group"] == db.FirmRow.__table__.c.affiliate_group.type.length
    assert MAX_LENGTH["round"] == db.RoundRow.__table__.c.name.type.length


def test_full_width_brn_is_the_same_firm(db_url, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["import", "firms", str(_csv(tmp_path, "9000000336,가나,소기업,,서울,"))]).exit_code == 0
    wide = _csv(tmp_path, "９００００００３３６,가나,소기업,,서울,", name="wide.csv")
    result = runner.invoke(main, ["import", "firms", str(wide)])
    assert result.exit_code == 0, result.output
    assert "firms: 0 inserted, 0 updated, 1 unchanged" in result.output
    assert _firms(db_url) == [("9000000336", "가나", None)]
    with db.transaction(db_url) as s:
        assert db.get_firm(s, "９００－００－００３３６").brn == "9000000336"


def test_nfd_names_are_stored_as_nfc_and_found_by_an_nfc_search(db_url, tmp_path):
    nfd = unicodedata.normalize("NFD", "한빛테크")
    header = unicodedata.normalize("NFD", HEADER)  # an NFD header (a file saved on macOS) still maps
    path = tmp_path / "nfd.csv"
    path.write_text(f"{header}\n107-81-53660,{nfd},소기업,,서울,\n", encoding="utf-8")
    with db.transaction(db_url) as s:
        importer.import_firms(path, s)
    assert _firms(db_url) == [("1078153660", "한빛테크", None)]
    with db.transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(db.FirmRow).where(db.FirmRow.name == "한빛테크")) == 1


def test_a_nul_in_an_application_text_is_refused(db_url, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["round", "create", "2026년 2차", "--reference-date", "2026-10-01"]).exit_code == 0
    assert runner.invoke(main, ["import", "firms", str(_csv(tmp_path, GOOD))]).exit_code == 0
    apps = tmp_path / "apps.csv"
    apps.write_text("회차,사업자등록번호,역할,과제,신청물품,내용\n"
                    "2026년 2차,107-81-53660,주관,기술융합,4617161001,영상\x00분석\n", encoding="utf-8")
    result = runner.invoke(main, ["import", "applications", str(apps)])
    assert result.exit_code == 2, result.output
    assert "row 2, text: '영상\\x00분석' contains the control character U+0000 NUL at character 3" in result.output


@pytest.mark.parametrize("name, says", [
    ("회차\x00", "round name: contains the control character U+0000 NUL at character 3"),
    ("가" * 101, "round name: is 101 characters long; at most 100 are allowed"),
])
def test_round_names_with_control_characters_or_too_long_are_refused(db_url, name, says):
    result = CliRunner().invoke(main, ["round", "create", name, "--reference-date", "2026-10-01"])
    assert result.exit_code == 2 and says in result.output


def test_an_nfd_round_name_is_the_same_round(db_url):
    runner = CliRunner()
    assert runner.invoke(main, ["round", "create", "2026년 2차", "--reference-date", "2026-10-01"]).exit_code == 0
    again = runner.invoke(main, ["round", "create", unicodedata.normalize("NFD", "2026년 2차"),
                                 "--reference-date", "2026-10-01"])
    assert again.exit_code == 2 and "already exists" in again.output


def test_validation_errors_from_python_name_the_cell(db_url):
    data = (HEADER + "\n107-81-53660,a\x00,소기업,,서울,\n").encode()
    frame = importer.read_table(io.BytesIO(data), filename="x.csv")
    records, problems = importer.validate_firms(frame)
    assert records == [] and [(p.row, p.column) for p in problems] == [(2, "name")]
    with db.transaction(db_url) as s, pytest.raises(ValidationError):
        importer.import_firms(io.BytesIO(data), s, filename="x.csv")


# --- big and old files -------------------------------------------------------------------------------

def _xlsx(path, header, rows):
    from openpyxl import Workbook
    book = Workbook(write_only=True)
    sheet = book.create_sheet("firms")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_too_many_rows_are_refused_without_reading_the_rest(db_url, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 1000)
    rows = [[f"{100 + i % 800:03d}81{i:04d}", f"기업{i}", "소기업", "서울"] for i in range(1500)]
    path = _xlsx(tmp_path / "big.xlsx", ["사업자등록번호", "회사명", "기업규모", "지역"], rows)
    result = CliRunner().invoke(main, ["import", "firms", str(path)])
    assert result.exit_code == 2
    assert "has more than 1,000 data rows; split the file (at most 1,000 rows per file)" in result.output
    checked = CliRunner().invoke(main, ["check", "firms", str(path)])
    assert checked.exit_code == 1 and "has more than 1,000 data rows" in checked.output
    csv = tmp_path / "big.csv"
    csv.write_text("사업자등록번호,회사명,기업규모,지역\n" + "\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="has more than 1,000 data rows"):
        importer.read_table(csv)
    assert len(importer.read_table(csv, max_rows=1500)) == 1500


def test_the_header_is_checked_before_the_rows(db_url, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 10)
    path = _xlsx(tmp_path / "nobrn.xlsx", ["이름", "값"], [[f"x{i}", str(i)] for i in range(50)])
    result = CliRunner().invoke(main, ["import", "firms", str(path)])
    assert result.exit_code == 2
    assert "brn: column is missing" in result.output and "data rows" not in result.output
    checked = CliRunner().invoke(main, ["check", "firms", str(path)])
    assert checked.exit_code == 1 and "brn: column is missing" in checked.output


def test_too_many_columns_are_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["사업자등록번호", "회사명", "기업규모", "지역"] + [f"c{i}" for i in range(300)]) + "\n"
                    + "107-81-53660,한빛테크,소기업,서울" + "," * 300 + "\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="has 304 columns; at most 200 are read"):
        importer.read_table(path)
    wide = _xlsx(tmp_path / "wide.xlsx", ["사업자등록번호"] + [f"c{i}" for i in range(300)], [["107-81-53660"]])
    with pytest.raises(ValidationError, match="has 201 columns; at most 200 are read"):
        importer.read_table(wide)


def test_an_xlsx_reads_like_before(tmp_path):
    path = _xlsx(tmp_path / "ok.xlsx", ["사업자등록번호", "회사명", "기업규모", "지역", None, "사업자등록번호"],
                 [["107-81-53660", "한빛테크", "소기업", "서울"], [None, None, None, None],
                  [2208162517, "대성건설", "대기업", "경기"]])
    with pytest.raises(ValidationError, match="is given by 2 columns"):
        importer.read_table(path)
    path = _xlsx(tmp_path / "ok2.xlsx", ["사업자등록번호", "회사명", "기업규모", "지역", "설립일"],
                 [["107-81-53660", "한빛테크", "소기업", "서울", __import__("datetime").datetime(2021, 3, 2)],
                  [None, None, None, None, None], [2208162517, "대성건설", "대기업", "경기"]])
    frame = importer.read_table(path)
    assert list(frame.index) == [2, 4]
    assert frame.loc[4, "brn"] == "2208162517" and frame.loc[4, "founded"] == ""
    assert frame.loc[2, "founded"] == "2021-03-02 00:00:00"
    records, problems = importer.validate_firms(frame)
    assert problems == [] and records[0][1].founded.isoformat() == "2021-03-02"


@pytest.mark.parametrize("name, data", [("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
                                        ("renamed.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504),
                                        ("empty.xls", b"")])
def test_an_old_excel_file_is_named_and_explained(db_url, tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["import", "firms", str(path)])
    assert result.exit_code == 2
    assert "is an old Excel file (.xls), which is not read; open it in Excel and save it as Excel Workbook " \
           "(.xlsx) or CSV UTF-8" in result.output
    assert "encoding not recognised" not in result.output
