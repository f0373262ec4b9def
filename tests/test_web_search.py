"""The SME pages (web/search.py): the detail page agrees with the list, the round shown is the round used,
links keep the role, interest requests are validated, /describe keeps its input."""

import re
from datetime import date

from matcher import db

from helpers import ROUND, make_brn


def _listed(client, url):
    """(detail link, score) of every row of a ranked list."""
    page = client.get(url).get_data(as_text=True)
    rows = re.findall(r'class="name" href="([^"]+)">[^<]*</a>.*?class="score">([\d.]+)<', page, re.S)
    return [(href.replace("&amp;", "&"), score) for href, score in rows]


def _detail_score(client, href):
    page = client.get(href).get_data(as_text=True)
    return re.search(r"<h2>[^<]*?([\d.]+)</h2>", page).group(1)


def test_detail_page_shows_the_score_of_the_list_in_both_modes(client, round_id):
    for url in (f"/firms/{make_brn(1)}?track=materials", f"/firms/{make_brn(20)}?track=materials&as_partner=1",
                f"/firms/{make_brn(11)}?track=materials&as_partner=1"):
        rows = _listed(client, url)
        assert rows, url
        for href, score in rows:
            assert _detail_score(client, href) == score, (url, href)


def test_detail_score_matches_the_api(client, round_id):
    data = client.get(f"/api/v1/firms/{make_brn(2)}/recommendations?track=materials").get_json()
    for item in data["recommendations"]:
        href = f"/firms/{make_brn(2)}/partners/{item['brn']}?track=materials"
        assert _detail_score(client, href) == f"{item['score']:.3f}"


def _selected_round(page):
    select = re.search(r'<select name="round">(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)" selected', select)


def test_round_control_shows_the_round_the_results_come_from(app, client, round_id):
    # A newer round by id, with an earlier reference date and no application of the firm.
    with db.transaction(app.config["DATABASE_URL"]) as s:
        s.add(db.RoundRow(name="옛 회차", reference_date=date(2025, 1, 1), open_tracks=["materials"]))
    for url in (f"/firms/{make_brn(1)}", f"/firms/{make_brn(1)}?track=materials"):
        page = client.get(url).get_data(as_text=True)
        assert _selected_round(page) == [ROUND], url
        assert f'name="round" value="{ROUND}"' in page  # the why-not form and interest forms carry it


def test_detail_in_partner_mode_keeps_the_role_and_names_the_lead(client, round_id):
    href = f"/firms/{make_brn(20)}/partners/{make_brn(1)}?track=materials&round={ROUND}&as_partner=1"
    page = client.get(href).get_data(as_text=True)
    assert "<h1>주관기업 정보</h1>" in page
    back = re.search(r'<a href="([^"]+)">← ', page).group(1)
    assert "as_partner=1" in back
    page = client.get(f"/firms/{make_brn(1)}/partners/{make_brn(20)}?track=materials").get_data(as_text=True)
    assert "<h1>협력기업 정보</h1>" in page


def _interests(app):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        return s.query(db.InterestRow).count()


def _send_interest(client, lead, partner, track="materials", note=""):
    response = client.post(f"/firms/{make_brn(lead)}/interest",
                           data=dict(partner=make_brn(partner), track=track, round=ROUND, note=note))
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_interest_refuses_nonsense_with_a_message_and_stores_nothing(app, staff, round_id):
    """Staff acting for the firm (a firm signed in is refused the same way: tests/test_web_program.py)."""
    cases = [
        (dict(lead=1, partner=1), "자기 자신과 짝이 될 수 없습니다"),
        (dict(lead=1, partner=11, track="construction"), "역량강화 과제가 열려 있지 않습니다"),
        (dict(lead=11, partner=12), "주관기업으로 신청하지 않았습니다"),
        (dict(lead=1, partner=99), "협력기업으로 신청하지 않았습니다"),
        (dict(lead=1, partner=11, note="가" * 501), "메모는 500자까지"),
    ]
    for kwargs, message in cases:
        page = _send_interest(staff, **kwargs)
        assert "매칭 희망을 보내지 않았습니다" in page and message in page, kwargs
        assert "매칭 희망을 보냈습니다" not in page
    assert _interests(app) == 0


def test_interest_refuses_an_ineligible_pair_with_the_rule_reason(app, staff, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        firm_id = s.query(db.FirmRow.id).filter_by(brn=make_brn(12)).scalar()
        s.query(db.CertificateRow).filter_by(firm_id=firm_id).delete()
    page = _send_interest(staff, 1, 12)
    assert "매칭 희망을 보내지 않았습니다" in page
    assert _interests(app) == 0


def test_interest_for_an_eligible_pair_is_stored(app, staff, round_id):
    page = _send_interest(staff, 1, 11, note="가" * 500)
    assert "매칭 희망을 보냈습니다" in page
    assert _interests(app) == 1


def test_describe_with_mistakes_redisplays_every_error_and_keeps_the_values(client, round_id):
    data = dict(name="미등록 렌즈", size="huge", founded="notadate", firm_region="아틀란티스", product="12345",
                description="CCTV 렌즈 모듈", ksic="26421", track="materials")
    response = client.post("/describe", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "입력에 고칠 곳이 있습니다" in page and page.count('class="field-error"') == 4
    for text in ("기업 규모 &#39;huge&#39;", "설립일 &#39;notadate&#39;", "지역 &#39;아틀란티스&#39;",
                 "신청 물품 &#39;12345&#39;"):
        assert text in page, text
    for value in ("미등록 렌즈", "notadate", "CCTV 렌즈 모듈", 'value="26421"', 'value="12345"'):
        assert value in page, value
    page = client.post("/describe?lang=en", data=data).get_data(as_text=True)
    assert "size class &#39;huge&#39; is not one of" in page and "founded &#39;notadate&#39; is not a date" in page
    assert "Some fields need fixing" in page


def test_describe_with_good_input_still_recommends(client, round_id):
    response = client.post("/describe", data=dict(name="미등록", size="소기업", firm_region="대전", founded="2024-01-02",
                                                  description="CCTV 카메라 부품", track="materials", round=ROUND))
    assert response.status_code == 200 and 'class="result"' in response.get_data(as_text=True)
