import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from matcher import codes
from matcher.errors import ValidationError

from official_files import REFERENCE

KSIC_WORKBOOK = REFERENCE / "ksic_11th.xlsx"
PRODUCT_LIST = REFERENCE / "sme_competition_products.json"


# --- regions ----------------------------------------------------------------------------------


def test_seventeen_regions_whose_firm_shares_sum_to_one():
    table = codes.regions()
    assert len(table) == 17
    assert math.isclose(sum(r.firm_share for r in table.values()), 1.0, abs_tol=0.05)  # rounded shares


@pytest.mark.parametrize("text", ["서울", "서울특별시", "Seoul", "seoul", " SEOUL ", "11", "서울시",
                                  "서울특별시 강남구 테헤란로 1"])
def test_usual_spellings_of_seoul(text):
    assert codes.normalize_region(text) == "서울"


@pytest.mark.parametrize("text, short", [("강원도", "강원"), ("강원특별자치도", "강원"), ("전라북도", "전북"),
                                         ("제주도", "제주"), ("Gyeongnam", "경남"), ("세종특별자치시", "세종")])
def test_old_and_english_names(text, short):
    assert codes.normalize_region(text) == short


@given(st.sampled_from(sorted(codes.regions())), st.sampled_from(["short", "name", "name_en", "upper", "code"]))
def test_every_spelling_of_every_region_normalises(short, form):
    r = codes.regions()[short]
    text = {"short": r.short, "name": r.name, "name_en": r.name_en, "upper": r.name_en.upper(),
            "code": r.code}[form]
    assert codes.normalize_region(text) == short


@given(st.text(min_size=1, max_size=8).filter(lambda t: t.strip().lower() not in {
    a for a in codes._region_aliases()} and (t.split() or [""])[0].lower() not in codes._region_aliases()))
def test_anything_else_is_refused(text):
    with pytest.raises(ValueError, match="17 시도"):
        codes.normalize_region(text)


def test_region_distance_is_a_metric_on_centroids():
    assert codes.region_distance_km("서울", "서울특별시") == 0
    assert 300 < codes.region_distance_km("서울", "부산") < 350
    assert codes.region_distance_km("Seoul", "Busan") == codes.region_distance_km("부산", "서울")
    a, b, c = "서울", "대전", "부산"
    assert codes.region_distance_km(a, c) <= codes.region_distance_km(a, b) + codes.region_distance_km(b, c)


# --- KSIC -------------------------------------------------------------------------------------


def test_shipped_ksic_has_all_sections_and_divisions():
    table = codes.ksic_table()
    assert (table["level"] == 1).sum() == 21
    assert (table["level"] == 2).sum() == 77
    assert not table["code"].duplicated().any()
    for code, section in zip(table["code"], table["section"]):
        assert codes.ksic_section(code) == section
    assert table["name_ko"].str.len().min() > 0 and table["name_en"].str.len().min() > 0


@pytest.mark.parametrize("code, section", [
    ("01110", "A"), ("03", "A"), ("05", "B"), ("08", "B"), ("10", "C"), ("26421", "C"), ("34", "C"),
    ("35", "D"), ("36", "E"), ("39", "E"), ("41", "F"), ("42311", "F"), ("45", "G"), ("47", "G"),
    ("49", "H"), ("52", "H"), ("55", "I"), ("56", "I"), ("58", "J"), ("63", "J"), ("64", "K"),
    ("66", "K"), ("68", "L"), ("70", "M"), ("73", "M"), ("74", "N"), ("76", "N"), ("84", "O"),
    ("85", "P"), ("86", "Q"), ("87", "Q"), ("90", "R"), ("91", "R"), ("94", "S"), ("96", "S"),
    ("97", "T"), ("98", "T"), ("99", "U"), ("c", "C"),
])
def test_ksic_section_of_division_ranges(code, section):
    assert codes.ksic_section(code) == section


@pytest.mark.parametrize("code", ["04", "40", "00", "1", "123456", "2642X", "", "V"])
def test_ksic_section_refuses_non_codes(code):
    with pytest.raises(ValueError):
        codes.ksic_section(code)


def test_ksic_name_falls_back_to_the_closest_known_level():
    assert codes.ksic_name("26519") == "비디오 및 기타 영상기기 제조업"
    assert codes.ksic_name("20423") == "화장품 제조업"  # every 세세분류 is shipped (issue 24)
    assert codes.ksic_name("26999") == codes.ksic_name("26")  # no such sub-class or class: its division
    assert codes.ksic_name("26", lang="en").startswith("Manufacture of electronic")
    assert codes.ksic_name("C") == "제조업"


def _tiny_workbook(path):
    book = Workbook()
    sheet = book.active
    for row in [(None, None, None), ("A 농업, 임업 및 어업(01~03)", None, None),
                ("Agriculture, forestry and fishing", None, None), (None, None, None),
                ("01", "농업", "Agriculture"), ("011", "작물 재배업", "Growing of crops"),
                ("0111", "곡물 및 기타 식량작물 재배업", "Growing of cereal crops"),
                ("01110", "곡물 및 기타 식량작물 재배업", "Growing of cereal crops")]:
        sheet.append(row)
    book.save(path)


def test_workbook_layout_is_read_with_levels_and_sections(tmp_path):
    _tiny_workbook(tmp_path / "k.xlsx")
    table = codes.load_ksic_workbook(tmp_path / "k.xlsx")
    assert list(table["code"]) == ["A", "01", "011", "0111", "01110"]
    assert list(table["level"]) == [1, 2, 3, 4, 5]
    assert table.iloc[0]["name_ko"] == "농업, 임업 및 어업"
    assert table.iloc[0]["name_en"] == "Agriculture, forestry and fishing"
    assert set(table["section"]) == {"A"}


def test_a_loaded_table_replaces_the_shipped_one_until_reset(tmp_path):
    _tiny_workbook(tmp_path / "k.xlsx")
    try:
        codes.use_ksic_table(codes.load_ksic_workbook(tmp_path / "k.xlsx"))
        assert codes.ksic_name("01110") == "곡물 및 기타 식량작물 재배업"
        assert codes.ksic_name("26") is None
    finally:
        codes.use_ksic_table(None)
    assert codes.ksic_name("26") is not None


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path):
    (tmp_path / "x.xlsx").write_text("not a workbook")
    with pytest.raises(ValidationError, match="cannot be read"):
        codes.load_ksic_workbook(tmp_path / "x.xlsx")


@pytest.mark.skipif(not KSIC_WORKBOOK.exists(), reason="official KSIC workbook not available")
def test_official_ksic_workbook_loads_and_agrees_with_the_shipped_table():
    table = codes.load_ksic_workbook(KSIC_WORKBOOK)
    assert table.groupby("level").size().to_dict() == {1: 21, 2: 77, 3: 234, 4: 501, 5: 1205}
    official = table.set_index("code")
    for code, section in zip(codes.ksic_table()["code"], codes.ksic_table()["section"]):
        assert official.loc[code, "section"] == section


# --- G2B --------------------------------------------------------------------------------------


def test_every_shipped_g2b_code_has_its_level_and_a_source():
    table = codes.g2b_table()
    lengths = {"segment": 2, "family": 4, "class": 6, "commodity": 8, "detailed": 10}
    assert (table["code"].str.len() == table["level"].map(lengths)).all()
    assert not table["code"].duplicated().any()
    assert set(table["source"]) == {"g2b_categories.json", "g2b_categories.json (parent)", "curated"}
    assert (table["level"] == "detailed").sum() >= 735 and (table["level"] == "commodity").sum() >= 511


def test_g2b_name_of_each_level():
    assert codes.g2b_name("46171610") == "보안용카메라"
    assert codes.g2b_name("4617161012345678") == "보안용카메라"  # 물품목록번호 → its 물품분류
    assert codes.g2b_name("4617162201") == "영상감시장치"  # 세부품명
    assert codes.g2b_name("46171699") == codes.g2b_name("461716") == "감시및탐지장비"  # unknown → its class
    assert codes.g2b_name_en("46") == "Defense and law enforcement and security and safety equipment"
    assert codes.g2b_name("99") is None


@pytest.mark.parametrize("code", ["", "4", "4617-16-10x", "12345678901234567"])
def test_g2b_name_refuses_non_codes(code):
    with pytest.raises(ValueError):
        codes.g2b_name(code)


def test_the_whole_sme_competition_list_is_shipped():
    products = codes.sme_competition_products()
    assert len(products) == 615
    for code, name in products.items():
        assert len(code) == 10 and code.isdigit() and name
    assert products["4617162201"] == "영상감시장치" and products["3011150501"] == "레미콘"


def test_product_list_json_is_validated_item_by_item(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"code": "1017161101", "name": "석회질비료"}, {"code": "12345", "name": "x"},
                                {"code": "1017169401", "name": ""}, "junk"]), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        codes.load_product_list(path)
    assert [(p.row, p.column, p.value) for p in info.value.problems] == [
        (2, "code", "12345"), (3, "name", ""), (4, "code", "")]


def test_a_loaded_product_list_replaces_the_shipped_one_until_reset():
    try:
        codes.use_product_list({"1017161101": "석회질비료"})
        assert codes.is_sme_competition("1017161101")
        assert not codes.is_sme_competition("4617161002")
    finally:
        codes.use_product_list(None)
    assert codes.is_sme_competition("4617161002")


@pytest.mark.skipif(not PRODUCT_LIST.exists(), reason="SME-competition product list not available")
def test_official_product_list_loads_and_contains_the_shipped_subset():
    products = codes.load_product_list(PRODUCT_LIST)
    assert len(products) > 600
    assert set(codes.sme_competition_products()) == set(products)

