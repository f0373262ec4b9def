"""Code lists as data with dates: the shipped tables are the official files converted whole, a loaded
version is stored once, and a round uses the list in force on its reference date."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from official_files import REFERENCE
from matcher import codelists, codes, db
from matcher.errors import ValidationError

ROOT = Path(__file__).resolve().parents[1]
needs_reference = pytest.mark.skipif(not (REFERENCE / "ksic_11th.xlsx").exists(),
                                     reason="official reference files not available")


# --- the shipped tables are the official files, whole ------------------------------------------


@needs_reference
def test_the_conversion_script_gives_exactly_the_shipped_tables():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "convert_codes.py"), str(REFERENCE), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "data/ is up to date" in done.stdout


@needs_reference
def test_every_code_of_the_official_ksic_workbook_is_shipped_with_both_names():
    official, report = codelists.read_list("ksic", REFERENCE / "ksic_11th.xlsx")
    assert report.skipped == []
    shipped = codelists.shipped("ksic")[-1].table.set_index("code")
    assert official.groupby("level").size().to_dict() == {1: 21, 2: 77, 3: 234, 4: 501, 5: 1205}
    assert set(official["code"]) == set(shipped.index)
    for code, ko, en in zip(official["code"], official["name_ko"], official["name_en"]):
        assert (shipped.loc[code, "name_ko"], shipped.loc[code, "name_en"]) == (ko, en)
    assert shipped.loc["14", "name_ko"] == "의복, 의복 액세서리 및 모피제품 제조업"  # wrapped onto two rows


@needs_reference
def test_the_tenth_revision_has_its_1196_sub_classes():
    tenth = codelists.shipped("ksic")[0]
    assert tenth.valid_from == date(2017, 7, 1) and tenth.valid_to == date(2024, 6, 30)
    assert tenth.table.groupby("level").size().to_dict() == {1: 21, 2: 77, 3: 232, 4: 495, 5: 1196}


@needs_reference
def test_every_listed_product_is_shipped():
    items = json.loads((REFERENCE / "sme_competition_products.json").read_text(encoding="utf-8"))
    shipped = codelists.shipped("products")[-1]
    assert set(shipped.table["code"]) == {i["code"] for i in items}
    assert dict(zip(shipped.table["code"], shipped.table["published"])) == {i["code"]: i["name"] for i in items}
    assert (shipped.valid_from, shipped.valid_to) == (date(2025, 1, 1), date(2027, 12, 31))


@needs_reference
def test_every_g2b_code_of_the_file_is_shipped_with_its_name():
    items = json.loads((REFERENCE / "g2b_categories.json").read_text(encoding="utf-8"))
    names = dict(zip(codes.g2b_table()["code"], codes.g2b_table()["name_ko"]))
    assert all(names[i["code"]] == i["name"] for i in items)
    parents = {i["code"][:-2]: i["parent"] for i in items if i["code"][:-2] not in {j["code"] for j in items}}
    assert all(names[code] == name for code, name in parents.items())


def test_the_sources_are_recorded_beside_the_data():
    meta = codelists.shipped_meta()
    for kind in codelists.KINDS:
        for version in meta[kind]:
            assert version["source"] and version["revision"] and len(version["source_sha256"]) == 64
            assert version["rows"] == len(pd.read_csv(codelists.DATA_DIR / version["file"], dtype=str))


# --- reading files as published -------------------------------------------------------------------


def test_product_names_lose_the_layout_marks_of_the_published_text():
    assert codelists.clean_product_name("보 차 도 용 콘 크 리 트 블 록o") == "보차도용콘크리트블록"
    assert codelists.clean_product_name("컴퓨터서버x") == "컴퓨터서버"
    assert codelists.clean_product_name("수첩 -") == "수첩"
    assert codelists.clean_product_name("LED가로등기구") == "LED가로등기구"


def test_a_product_workbook_with_a_title_row_and_bad_rows_is_read_with_a_report(tmp_path):
    from openpyxl import Workbook
    book = Workbook()
    for row in [("2025년 중소기업자간 경쟁제품 목록",), ("연번", "세부품명번호", "세부품명"),
                (1, "4617162201", "영상감시장치"), (2, "46171622", "짧은 번호"), (3, "3011150501", "레미콘"),
                (4, "3911210201", None)]:
        book.active.append(row)
    book.save(tmp_path / "p.xlsx")
    table, report = codelists.read_list("products", tmp_path / "p.xlsx")
    assert list(table["code"]) == ["3011150501", "4617162201"]
    assert (report.read, report.kept) == (4, 2)
    assert [(p.row, p.column, p.value) for p in report.skipped] == [(4, "code", "46171622"), (6, "name", "")]
    assert report.messages()[0].text("en") == "p.xlsx: 4 rows read, 2 codes kept, 2 rows skipped"


def test_a_cp949_product_csv_is_read(tmp_path):
    (tmp_path / "p.csv").write_bytes("세부품명번호,품명\n4617162201,영상감시장치\n".encode("cp949"))
    table, _ = codelists.read_list("products", tmp_path / "p.csv")
    assert dict(zip(table["code"], table["name"])) == {"4617162201": "영상감시장치"}


def test_a_file_without_any_code_is_refused(tmp_path):
    (tmp_path / "p.json").write_text("[]")
    with pytest.raises(ValidationError, match="holds no products codes"):
        codelists.read_list("products", tmp_path / "p.json")


# --- versions with dates ---------------------------------------------------------------------------


def _products(*codes_names):
    return pd.DataFrame([(c, n, n) for c, n in codes_names], columns=list(codelists.COLUMNS["products"]))


OLD = _products(("4617162201", "영상감시장치"))
NEW = _products(("4617162201", "영상감시장치"), ("9999999901", "새로 지정된 제품"))


def test_loading_the_same_list_again_changes_nothing(db_url):
    with db.transaction(db_url) as s:
        first = codelists.store_version(s, "products", NEW, date(2028, 1, 1), source="p.json")
    with db.transaction(db_url) as s:
        again = codelists.store_version(s, "products", NEW, date(2028, 1, 1), source="p.json")
        assert (first.status, again.status) == ("added", "unchanged")
        assert s.query(db.CodeListVersionRow).count() == 1
        assert s.query(db.AuditRow).filter_by(action="codes.load").count() == 1


def test_other_content_for_the_same_date_replaces_the_version(db_url):
    with db.transaction(db_url) as s:
        codelists.store_version(s, "products", OLD, date(2028, 1, 1))
        result = codelists.store_version(s, "products", NEW, date(2028, 1, 1))
        assert (result.status, result.replaced_rows, result.version.rows) == ("replaced", 1, 2)


def test_a_round_uses_the_list_in_force_on_its_reference_date(db_url):
    with db.transaction(db_url) as s:
        codelists.store_version(s, "products", OLD, date(2028, 1, 1))
        codelists.store_version(s, "products", NEW, date(2031, 1, 1))
    with db.transaction(db_url) as s:
        before = codelists.lists_on(s, date(2030, 12, 31))
        after = codelists.lists_on(s, date(2031, 1, 1))
        shipped = codelists.lists_on(s, date(2026, 10, 1))
    with codelists.using(before):
        assert not codes.is_sme_competition("9999999901")
    with codelists.using(after):
        assert codes.is_sme_competition("9999999901")
    with codelists.using(shipped):
        assert len(codes.sme_competition_products()) == 615 and not codes.is_sme_competition("9999999901")
    assert not codes.is_sme_competition("9999999901")  # outside: the default (shipped) lists


def test_a_date_before_every_list_uses_the_earliest(db_url):
    with db.transaction(db_url) as s:
        lists = codelists.lists_on(s, date(2001, 1, 1))
    assert lists.ksic.valid_from == date(2017, 7, 1) and lists.products.valid_from == date(2025, 1, 1)


def test_a_ksic_date_before_the_11th_revision_uses_the_10th(db_url):
    with db.transaction(db_url) as s:
        tenth, eleventh = codelists.lists_on(s, date(2024, 6, 30)), codelists.lists_on(s, date(2024, 7, 1))
    with codelists.using(tenth):
        assert codes.ksic_name("01151") == "콩나물 재배업"  # a sub-class the 11th revision dropped
    with codelists.using(eleventh):
        assert codes.ksic_name("01151") == "채소, 화훼 및 과실작물 시설 재배업"


def test_summaries_list_shipped_and_loaded_versions_with_the_one_in_force(db_url):
    with db.transaction(db_url) as s:
        codelists.store_version(s, "products", NEW, date(2028, 1, 1), source="p.json", revision="2028-2030")
        lines = codelists.summaries(s, on=date(2028, 6, 1))
    products = [v for v in lines if v.kind == "products"]
    assert [(v.valid_from, v.shipped, v.in_force, v.rows) for v in products] == [
        (date(2025, 1, 1), True, False, 615), (date(2028, 1, 1), False, True, 2)]
    ksic = [v for v in lines if v.kind == "ksic" and v.in_force]
    assert ksic[0].levels == {"1": 21, "2": 77, "3": 234, "4": 501, "5": 1205}


def test_a_rounds_input_carries_the_lists_of_its_reference_date(db_url):
    from matcher.rounds.pools import round_input
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name="2024년 1차", reference_date=date(2024, 3, 1), open_tracks=["materials"]))
        s.flush()
        inp = round_input(s, s.query(db.RoundRow).filter_by(name="2024년 1차").one())
    assert inp.code_lists.ksic.valid_from == date(2017, 7, 1)  # judged before the 11th revision took effect
