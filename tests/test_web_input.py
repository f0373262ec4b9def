"""Text at the web edge: NUL and other control characters are a clear 400 (never a 500, on SQLite and
PostgreSQL alike), over-long values are refused, and NFD input is read as NFC."""

import unicodedata
from io import BytesIO

import pytest

from matcher import db

from helpers import ROUND, count, make_brn


@pytest.mark.parametrize("path", ["/?q=%00", "/?q=a%00b", "/firms/%00", f"/firms/{make_brn(1)}?track=%00",
                                  "/?q=%1b"])
def test_a_control_character_in_the_address_is_a_400(client, round_id, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "제어 문자" in response.get_data(as_text=True)


def test_the_400_is_in_english_when_asked(client, round_id):
    client.get("/?lang=en")
    response = client.get("/?q=%00")
    assert response.status_code == 400 and "control character U+0000 NUL" in response.get_data(as_text=True)


def test_a_nul_in_a_round_name_or_note_is_refused_and_nothing_stored(staff, app, round_id):
    response = staff.post("/staff/rounds", data={"name": "새 회차\x00", "reference_date": "2026-10-01"})
    assert response.status_code == 400
    response = staff.post(f"/firms/{make_brn(1)}/interest",
                          data=dict(partner=make_brn(11), track="materials", round=ROUND, note="연락\x00주세요"))
    assert response.status_code == 400
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert count(s, db.RoundRow) == 1 and count(s, db.InterestRow) == 0


def test_an_over_long_form_value_is_refused(staff, app, round_id):
    response = staff.post("/staff/rounds", data={"name": "가" * 100_000, "reference_date": "2026-10-01"})
    assert response.status_code == 400
    assert "100,000" in response.get_data(as_text=True)


def test_a_nul_in_a_json_body_is_a_json_400(client, round_id):
    response = client.post("/api/v1/session", json={"username": "staff\x00", "password": "x"})
    assert response.status_code == 400
    assert "U+0000" in response.get_json()["error"]["message"]


def test_a_nul_in_an_upload_cell_is_reported_with_row_and_column(staff, app, round_id):
    text = f"사업자등록번호,기업명,기업규모,지역\n{make_brn(301)},널\x00문자,소기업,서울\n"
    response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                          data={"file": (BytesIO(text.encode("utf-8")), "firms.csv")})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "<td>2</td>" in page
    assert "2번째 글자에 제어 문자(U+0000 NUL)가 있습니다" in page
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.FirmRow).filter(db.FirmRow.brn == make_brn(301)).count() == 0


def test_an_nfd_search_finds_the_nfc_name(client, round_id):
    nfd = unicodedata.normalize("NFD", "주관1 영상")
    page = client.get("/", query_string={"q": nfd}).get_data(as_text=True)
    assert "주관1 영상" in page and make_brn(1)[:3] in page


def test_an_old_excel_upload_is_explained(staff, app, round_id):
    response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                          data={"file": (BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504), "old.xls")})
    assert response.status_code == 400
    assert "예전 엑셀 파일(.xls)은 읽지 않습니다" in response.get_data(as_text=True)
