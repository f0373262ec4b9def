"""The staff page of code lists: every version with its dates and counts, and an upload that stores one."""

import json
from io import BytesIO

from matcher import db

from helpers import login, make_brn


def _upload(client, data, name="products.json", **form):
    fields = {"kind": "products", "valid_from": "2028-01-01", **form,
              "file": (BytesIO(data if isinstance(data, bytes) else data.encode("utf-8")), name)}
    return client.post("/staff/codes/", content_type="multipart/form-data", data=fields)


LIST = json.dumps([{"code": "4617162201", "name": "영상감시장치"}, {"code": "3011150501", "name": "레미콘"}],
                  ensure_ascii=False)


def test_the_page_lists_every_shipped_version_with_the_one_in_force(staff):
    page = staff.get("/staff/codes/").get_data(as_text=True)
    assert "코드 목록" in page and 'id="code-lists"' in page
    assert page.count('class="in-force"') == 3  # one list of each kind in force today
    assert "1,205" in page and "615" in page and "2017-07-01" in page and "세세분류" in page


def test_an_upload_stores_a_version_once_and_says_so(staff, app):
    response = _upload(staff, LIST)
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "products.json: 2행 읽음, 코드 2개 반영, 0행 건너뜀" in page and "저장함" in page
    assert "2028-01-01" in page
    again = staff.get(_upload(staff, LIST).headers["Location"]).get_data(as_text=True)
    assert "변경 없음" in again
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.CodeListVersionRow).count() == 1
        assert s.query(db.AuditRow).filter_by(action="codes.load", actor="staff").count() == 1


def test_a_file_without_codes_is_refused_with_its_problems(staff, app):
    response = _upload(staff, json.dumps([{"code": "12", "name": "x"}]))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "아무것도 저장하지 않았습니다" in page and "10자리 세부품명번호가 아닙니다" in page
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.CodeListVersionRow).count() == 0


def test_an_upload_needs_its_date_and_a_known_kind(staff):
    assert _upload(staff, LIST, valid_from="").status_code == 400
    assert _upload(staff, LIST, kind="nope").status_code == 400
    assert _upload(staff, LIST, name="list.exe").status_code == 400


def test_a_viewer_sees_the_page_but_cannot_upload(client):
    login(client, "viewer", "viewer password")
    assert client.get("/staff/codes/").status_code == 200
    assert _upload(client, LIST).status_code == 403


def _upload_to_round(client, round_id, kind, text, name="apps.csv"):
    return client.post(f"/staff/rounds/{round_id}/import/{kind}", content_type="multipart/form-data",
                       data={"file": (BytesIO(text.encode("utf-8")), name)})


def test_an_application_for_an_unlisted_innovation_product_is_refused_in_the_pages_language(staff, app, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        s.get(db.RoundRow, round_id).open_tracks = ["innovation", "materials"]
    rows = f"사업자등록번호,역할,과제,신청물품,내용\n{make_brn(1)},주관,혁신성장,4617169999,x\n"
    response = _upload_to_round(staff, round_id, "applications", rows)
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[-2000:]
    assert "중소기업자간 경쟁제품 목록에 없습니다" in page and "4617169999" in page


def test_a_krx_upload_shows_the_industry_read_as_its_ksic_code(staff, round_id):
    rows = ("사업자등록번호,기업규모,회사명,업종,주요제품,지역\n"
            f"{make_brn(301)},중기업,케이지에이,특수 목적용 기계 제조업,2차전지 전극 코팅기,경기도\n")
    response = _upload_to_round(staff, round_id, "firms", rows, "krx.csv")
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "KSIC 292로 읽음" in page


def test_an_unlisted_detailed_code_is_shown_as_a_warning_not_a_repair(staff, app, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        s.get(db.RoundRow, round_id).open_tracks = ["convergence", "materials"]
    rows = f"사업자등록번호,역할,과제,신청물품,내용\n{make_brn(1)},주관,기술융합,4323260899,x\n"
    response = _upload_to_round(staff, round_id, "applications", rows)
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "경고: 2행" in page and "형식이 맞는 10자리 세부품명번호로 받습니다" in page
