"""``matcher codes load`` and ``matcher codes list`` through click's runner, on a temporary database."""

import json

import pytest
from click.testing import CliRunner

from official_files import REFERENCE
from matcher import db
from matcher.cli import main


@pytest.fixture
def runner(monkeypatch):
    monkeypatch.setenv("MATCHER_LANG", "en")
    return CliRunner()


def _products(tmp_path, *items):
    path = tmp_path / "products.json"
    path.write_text(json.dumps([{"code": c, "name": n} for c, n in items], ensure_ascii=False), encoding="utf-8")
    return path


def test_loading_a_list_reports_its_rows_and_loading_it_again_changes_nothing(runner, db_url, tmp_path):
    path = _products(tmp_path, ("4617162201", "영상감시장치"), ("12345", "짧은 번호"), ("3011150501", "레미콘o"))
    first = runner.invoke(main, ["codes", "load", "products", str(path), "--from", "2028-01-01"])
    assert first.exit_code == 0, first.output
    assert "products.json: 3 rows read, 2 codes kept, 1 rows skipped" in first.output
    assert "skipped: row 2, code '12345' is not a 10-digit 세부품명번호" in first.output
    assert "stored: the SME-competition products (중소기업자간 경쟁제품) in force from" in first.output
    again = runner.invoke(main, ["codes", "load", "products", str(path), "--from", "2028-01-01"])
    assert again.exit_code == 0 and "unchanged:" in again.output and "nothing stored" in again.output
    with db.transaction(db_url) as s:
        assert s.query(db.CodeListVersionRow).count() == 1


def test_codes_list_shows_shipped_and_loaded_versions_and_which_is_in_force(runner, db_url, tmp_path):
    path = _products(tmp_path, ("4617162201", "영상감시장치"))
    runner.invoke(main, ["codes", "load", "products", str(path), "--from", "2028-01-01", "--revision", "2028–2030"])
    listed = runner.invoke(main, ["codes", "list", "--on", "2028-06-01"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("code lists (* in force on")
    products = [line for line in lines if "SME-competition" in line]
    assert len(products) == 2 and products[0].startswith("  ") and products[1].startswith("* ")
    assert "615 codes" in products[0] and "shipped" in products[0]
    assert "1 codes" in products[1] and "loaded: products.json" in products[1]
    ksic = [line for line in lines if "KSIC" in line]
    assert len(ksic) == 2 and "sub-classes (세세분류) 1,205" in ksic[1] and ksic[1].startswith("* ")


def test_a_bad_date_is_a_clear_error(runner, db_url, tmp_path):
    path = _products(tmp_path, ("4617162201", "영상감시장치"))
    result = runner.invoke(main, ["codes", "load", "products", str(path), "--from", "2028-13-01"])
    assert result.exit_code == 2
    assert "--from '2028-13-01' is not a date (YYYY-MM-DD)" in result.output


def test_the_lines_are_korean_under_a_korean_locale(runner, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHER_LANG", "ko_KR.UTF-8")
    path = _products(tmp_path, ("4617162201", "영상감시장치"))
    result = runner.invoke(main, ["codes", "load", "products", str(path), "--from", "2028-01-01"])
    assert "1행 읽음" in result.output and "저장함" in result.output


@pytest.mark.skipif(not (REFERENCE / "ksic_11th.xlsx").exists(), reason="official reference files not available")
def test_the_official_ksic_workbook_loads_with_every_level_counted(runner, db_url):
    result = runner.invoke(main, ["codes", "load", "ksic", str(REFERENCE / "ksic_11th.xlsx"), "--from", "2024-07-01"])
    assert result.exit_code == 0, result.output
    assert "ksic_11th.xlsx: 2,038 rows read, 2,038 codes kept, 0 rows skipped" in result.output
    assert "sub-classes (세세분류): 1,205" in result.output
    # the shipped 11th revision for that date is the same list: loading it stores it, a second time nothing
    again = runner.invoke(main, ["codes", "load", "ksic", str(REFERENCE / "ksic_11th.xlsx"), "--from", "2024-07-01"])
    assert "unchanged:" in again.output
