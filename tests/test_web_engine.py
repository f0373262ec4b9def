"""Web pages over the real engine: uploads through the importer, recommendations, pair explanations."""

from io import BytesIO

from matcher import db

from helpers import ROUND, count, make_brn


GOOD_FIRMS = ("사업자등록번호,기업명,기업규모,지역,업종코드,물품분류번호,제품기술,인증\n"
              f"{make_brn(201)},신규 렌즈,소기업,부산광역시,26421,46171610,CCTV 렌즈 모듈,\n"
              f"{make_brn(202)},신규 소재,중기업,대구,26421,46171610,카메라 하우징 소재,소재부품기업 확인\n")
BAD_FIRMS = ("사업자등록번호,기업명,기업규모,지역\n"
             f"{make_brn(203)},좋은 행,소기업,서울\n"
             "123-45-67890,체크섬 틀림,소기업,서울\n"
             f"{make_brn(204)},규모 틀림,거대기업,서울\n"
             f"{make_brn(205)},지역 틀림,소기업,아틀란티스\n")


def _upload(client, round_id, kind, text, name="firms.csv"):
    return client.post(f"/staff/rounds/{round_id}/import/{kind}", content_type="multipart/form-data",
                       data={"file": (BytesIO(text.encode("utf-8")), name)})


def test_bad_upload_lists_every_row_and_stores_nothing(staff, app, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        before = count(s, db.FirmRow), count(s, db.AuditRow)
    response = _upload(staff, round_id, "firms", BAD_FIRMS)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "아무것도 저장하지 않았습니다" in page
    for row, value in ((3, "123-45-67890"), (4, "거대기업"), (5, "아틀란티스")):
        assert f"<td>{row}</td>" in page and value in page
    assert "좋은 행" not in page
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert (count(s, db.FirmRow), count(s, db.AuditRow)) == before


def test_good_uploads_store_firms_then_applications(staff, app, round_id):
    response = _upload(staff, round_id, "firms", GOOD_FIRMS)
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "기업: 2건 추가" in page
    assert "자동 수정" in page and "부산광역시" in page  # the repair is shown, not silent
    apps = ("사업자등록번호,역할,과제,신청물품,내용\n"
            f"{make_brn(201)},주관,materials,4617161001234567,렌즈 모듈 협력\n"
            f"{make_brn(202)},협력,materials,4617161009876543,하우징 소재\n")
    response = _upload(staff, round_id, "applications", apps, "apps.csv")
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert count(s, db.ApplicationRow) == 11
    audit = staff.get("/staff/audit").get_data(as_text=True)
    assert "import.firms" in audit and "import.applications" in audit


def test_partners_ranked_with_score_bars(client, round_id):
    page = client.get(f"/firms/{make_brn(1)}?track=materials&round={ROUND}").get_data(as_text=True)
    assert page.count('class="result"') == 3
    assert page.count('class="scorebar"') == 3 and 'class="seg seg0"' in page
    assert "협력1 소재" in page and "대기업 테크윈" in page


def test_recommendation_filters_and_api(client, round_id):
    page = client.get(f"/firms/{make_brn(1)}?track=materials&size_filter=대기업").get_data(as_text=True)
    assert page.count('class="result"') == 1 and "대기업 테크윈" in page
    data = client.get(f"/api/v1/firms/{make_brn(1)}/recommendations?track=materials&region=경기").get_json()
    assert [r["name"] for r in data["recommendations"]] == ["대기업 테크윈"]
    rec = data["recommendations"][0]
    assert abs(sum(c["contribution"] for c in rec["components"]) - rec["score"]) < 1e-3
    url = f"/api/v1/firms/{make_brn(20)}/recommendations?track=materials&as_partner=1"
    data = client.get(url + "&applicants_only=1").get_json()
    assert len(data["recommendations"]) == 6 and "5" in data["note"]["ko"]
    assert all(r["applied"] for r in data["recommendations"])
    everyone = client.get(url).get_json()  # the directory: every firm that could lead, applicants marked
    assert {r["brn"] for r in data["recommendations"]} < {r["brn"] for r in everyone["recommendations"]}
    assert everyone["applicants"] == 6 and everyone["pool_size"] == len(everyone["recommendations"])


def test_firm_page_starts_from_its_own_application(client, round_id):
    page = client.get(f"/firms/{make_brn(20)}").get_data(as_text=True)  # applied as partner in materials
    assert "추천 주관기업" in page and page.count('class="result"') == 9  # the directory of leads
    assert page.count('class="badge applied"') == 6  # the round's lead applicants are marked
    assert 'class="result"' not in client.get(f"/firms/{make_brn(99)}").get_data(as_text=True)  # no application


def test_lead_that_may_not_lead_is_told_why(client, round_id):
    page = client.get(f"/firms/{make_brn(20)}?track=materials").get_data(as_text=True)
    assert "참여할 수 없습니다" in page and "대기업" in page


def test_partner_detail_explains_or_refuses(client, round_id):
    page = client.get(f"/firms/{make_brn(1)}/partners/{make_brn(11)}?track=materials").get_data(as_text=True)
    assert "점수 구성" in page and "참여 조건을 모두 충족" in page
    page = client.get(f"/firms/{make_brn(1)}/partners/{make_brn(20)}?track=innovation").get_data(as_text=True)
    assert "점수 구성" not in page and "혁신성장" in page


def test_describe_scores_without_storing(client, app, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        before = count(s, db.FirmRow)
    page = client.post("/describe", data=dict(name="<b>미등록</b> 기업", size="소기업", firm_region="대전",
                                              g2b="46171610", description="CCTV 카메라 부품", product="4617161001234567",
                                              track="materials", round=ROUND)).get_data(as_text=True)
    assert page.count('class="result"') == 3 and "&lt;b&gt;미등록" in page
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert count(s, db.FirmRow) == before


def test_xlsx_and_cp949_uploads(staff, app, round_id):
    from openpyxl import Workbook
    book = Workbook()
    for line in GOOD_FIRMS.strip().split("\n"):
        book.active.append(line.split(","))
    data = BytesIO()
    book.save(data)
    response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                          data={"file": (BytesIO(data.getvalue()), "기업.xlsx")})
    assert response.status_code == 302
    cp949 = ("사업자등록번호,기업명,기업규모,지역\n" f"{make_brn(206)},한글 인코딩,소기업,광주\n").encode("cp949")
    response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                          data={"file": (BytesIO(cp949), "cp949.csv")})
    assert response.status_code == 302
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert db.get_firm(s, make_brn(202)).name == "신규 소재"
        assert db.get_firm(s, make_brn(206)).name == "한글 인코딩"


def _rows(page):
    """(partner link, score bar title, [(segment width, segment title)]) of each result of a page."""
    import html
    import re
    out = []
    for item in page.split('<li class="result">')[1:]:
        href = html.unescape(re.search(r'<a class="name" href="([^"]+)"', item).group(1))
        bar = re.search(r'<div class="scorebar" title="([^"]+)">(.*?)</div>', item, re.S)
        segments = [(w, html.unescape(t)) for w, t in re.findall(r'style="width: ([^"]+)%"\s+title="([^"]*)"', bar.group(2))]
        out.append((href, bar.group(1), segments))
    return out


def test_result_rows_link_and_score_as_built_one_by_one(app, client, round_id):
    # the rows' links come from one url_for and their bars from one helper call: the same as one by one
    from flask import url_for
    for lang, label in (("ko", "label_ko"), ("en", "label_en")):
        for query, as_partner in (("track=materials", ""), ("track=materials&as_partner=1", 1)):
            brn = make_brn(20) if as_partner else make_brn(1)
            page = client.get(f"/firms/{brn}?{query}&round={ROUND}&lang={lang}").get_data(as_text=True)
            data = client.get(f"/api/v1/firms/{brn}/recommendations?{query}&round={ROUND}").get_json()
            recs = data["recommendations"]
            assert len(recs) >= 3 and len(_rows(page)) == len(recs)
            with app.test_request_context():
                wanted = [url_for("search.partner", brn=brn, other=r["brn"], track="materials", round=ROUND,
                                  as_partner=as_partner) for r in recs]
            for (href, title, segments), rec, link in zip(_rows(page), recs, wanted):
                assert href == link and title == f"{rec['score']:.3f}"
                assert segments == [(f"{max(c['contribution'], 0) * 100:.1f}", f"{c[label]}: {c['contribution']:.3f}")
                                    for c in rec["components"]]
