"""The program after the match on the web and the API: firms sign in with a code (throttled), act only for
themselves on every route, send and answer interest, see contacts after mutual interest and their own
published result only; staff issue codes, record stages, confirm, publish and export."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from matcher import db, rounds
from matcher.rounds import access, stages

from helpers import ROUND, login, make_brn

LEAD, OTHER_LEAD, PARTNER = make_brn(1), make_brn(2), make_brn(11)


@pytest.fixture
def codes(app, round_id):
    """Every applicant's access code, by 사업자등록번호."""
    with db.transaction(app.config["DATABASE_URL"]) as s:
        return {r.brn: r.code for r in access.issue_codes(s, round_id, "staff")}


def sign_in(client, brn, code):
    return client.post("/firm/login", data=dict(brn=brn, code=code))


def firm_client(app, codes, brn):
    c = app.test_client()
    assert sign_in(c, brn, codes[brn]).status_code == 302
    return c


def interests(app):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        return list(s.scalars(select(db.InterestRow)))


def send(c, other, note="", **extra):
    return c.post("/my/interest", data=dict(other=other, track="materials", note=note, **extra))


def token(c):
    return c.get("/api/v1/csrf-token").get_json()["csrf_token"]


# --- sign-in ------------------------------------------------------------------------------------------


def test_a_firm_signs_in_with_its_code_and_sees_its_own_page(app, client, codes):
    assert sign_in(client, LEAD, "WRONG-CODE-0000").status_code == 401
    response = sign_in(client, LEAD[:3] + "-" + LEAD[3:5] + "-" + LEAD[5:], codes[LEAD].lower())
    assert response.status_code == 302 and response.headers["Location"].endswith("/my")
    page = client.get("/my").get_data(as_text=True)
    assert "주관1 영상" in page and "결과가 아직 공개되지 않았습니다" in page
    english = client.get("/my?lang=en").get_data(as_text=True)
    assert "My applications and results" in english and "Results are not published yet." in english
    assert client.post("/firm/logout").status_code == 302
    assert client.get("/my").status_code == 302  # signed out: back to the sign-in page


def test_a_wrong_code_is_throttled_with_the_staff_logins_limiter(app, client, codes):
    app.config["FIRM_LOGIN_LIMIT_BRN"] = "3 per 15 minutes"
    for _ in range(3):
        assert sign_in(client, LEAD, "AAAA-BBBB-CCCC").status_code == 401
    response = sign_in(client, LEAD, codes[LEAD])  # the right code does not pass a lockout
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "너무 많아" in response.get_data(as_text=True)
    api = app.test_client()
    response = api.post("/api/v1/firm/session", json=dict(brn=LEAD, code=codes[LEAD]),
                        headers={"X-CSRFToken": token(api)})
    assert response.status_code == 429
    assert sign_in(app.test_client(), OTHER_LEAD, codes[OTHER_LEAD]).status_code == 302  # another firm is not locked


def test_a_revoked_code_ends_the_session(app, codes, round_id):
    c = firm_client(app, codes, LEAD)
    with db.transaction(app.config["DATABASE_URL"]) as s:
        access.revoke_code(s, round_id, LEAD, "staff")
    assert c.get("/my").status_code == 302


# --- nobody acts for another firm ---------------------------------------------------------------------


def test_interest_without_sign_in_is_refused_and_stores_nothing(app, client, codes):
    response = client.post(f"/firms/{LEAD}/interest", data=dict(other=PARTNER, track="materials", round=ROUND))
    assert response.status_code == 302 and "/firm/login" in response.headers["Location"]
    assert send(client, PARTNER).status_code == 302
    response = client.post("/api/v1/firm/interest", json=dict(other=PARTNER, track="materials"),
                           headers={"X-CSRFToken": token(client)})
    assert response.status_code == 401
    assert interests(app) == []
    page = client.get(f"/firms/{LEAD}?track=materials").get_data(as_text=True)
    assert "로그인해 매칭 희망을" in page  # read-only search stays open, with the way to sign in


def test_a_firm_cannot_act_for_another_firm_on_any_route(app, codes, round_id):
    a, b = firm_client(app, codes, LEAD), firm_client(app, codes, PARTNER)
    # the firm page's form, in another firm's name
    response = a.post(f"/firms/{OTHER_LEAD}/interest", data=dict(other=PARTNER, track="materials", round=ROUND))
    assert response.status_code == 403 and interests(app) == []
    # the API, naming another firm in the body
    for path, body in (("/api/v1/firm/interest", dict(firm=OTHER_LEAD, other=PARTNER, track="materials")),
                       ("/api/v1/firm/profile", dict(firm=OTHER_LEAD, contact_name="가짜"))):
        assert a.post(path, json=body, headers={"X-CSRFToken": token(a)}).status_code == 403, path
    assert interests(app) == []
    # an interest between two other firms cannot be answered, on the web or the API
    c = firm_client(app, codes, OTHER_LEAD)
    assert send(c, PARTNER).status_code == 302
    theirs = interests(app)[0]
    assert a.post(f"/my/interest/{theirs.id}", data=dict(answer="accept")).status_code == 404
    response = a.post(f"/api/v1/firm/interest/{theirs.id}", json=dict(accept=True), headers={"X-CSRFToken": token(a)})
    assert response.status_code == 404
    # the sender cannot accept its own interest for the receiver
    c.post(f"/my/interest/{theirs.id}", data=dict(answer="accept"))
    assert interests(app)[0].status == "sent"
    # the profile form edits the signed-in firm only
    a.post("/my/profile", data=dict(contact_name="김주관", name="주관1 영상", size_class="소기업", region="대전"))
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert db.get_firm(s, LEAD).contact_name == "김주관" and db.get_firm(s, OTHER_LEAD).contact_name == ""
    # staff-only routes refuse a firm session
    assert a.post(f"/staff/rounds/{round_id}/publish").status_code == 302  # to the staff login
    for path in (f"/api/v1/rounds/{round_id}/stages", f"/api/v1/rounds/{round_id}/publish",
                 f"/api/v1/rounds/{round_id}/selection"):
        assert a.post(path, json={}, headers={"X-CSRFToken": token(a)}).status_code == 401, path
    assert a.get(f"/api/v1/rounds/{round_id}/candidates").status_code == 401
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert db.get_round(s, round_id).published_at is None
    assert b.get("/my").status_code == 200  # the other firm's session is untouched


def test_staff_act_for_a_firm_and_the_audit_log_says_so(app, staff, round_id):
    staff.post(f"/firms/{LEAD}/interest", data=dict(other=PARTNER, track="materials", round=ROUND))
    with db.transaction(app.config["DATABASE_URL"]) as s:
        entry = s.scalars(select(db.AuditRow).where(db.AuditRow.action == "interest.send")).one()
        assert entry.actor == f"staff (for firm:{LEAD})" and entry.detail["firm"] == LEAD


# --- interest both ways, contacts -------------------------------------------------------------------


def test_send_and_accept_interest_then_both_see_the_contact(app, codes):
    lead, partner = firm_client(app, codes, LEAD), firm_client(app, codes, PARTNER)
    partner.post("/my/profile", data=dict(name="협력1 소재", size_class="중기업", region="대전", ksic="26421",
                                          g2b="46171610", description="CCTV 카메라 렌즈 소재 부품 생산",
                                          contact_name="이협력", contact_role="영업팀장", contact_phone="02-555-1234",
                                          contact_email="lee@example.kr"))
    page = lead.get(lead.post("/my/interest", data=dict(other=PARTNER, track="materials", note="렌즈 함께"))
                    .headers["Location"]).get_data(as_text=True)
    assert "매칭 희망을 보냈습니다" in page
    page = lead.get(send(lead, PARTNER).headers["Location"]).get_data(as_text=True)
    assert "이미" in page and "매칭 희망을 보내지 않았습니다" in page  # "already sent", the first note kept
    assert len(interests(app)) == 1
    inbox = partner.get("/my").get_data(as_text=True)
    assert "주관1 영상" in inbox and "렌즈 함께" in inbox and "02-555-1234" not in lead.get("/my").get_data(as_text=True)
    row = interests(app)[0]
    assert row.status == "seen"  # the partner opened its inbox
    partner.post(f"/my/interest/{row.id}", data=dict(answer="accept", reply="좋습니다"))
    assert interests(app)[0].status == "accepted"
    page = lead.get("/my").get_data(as_text=True)
    assert "이협력" in page and "02-555-1234" in page and "lee@example.kr" in page and "좋습니다" in page
    assert "SMPP" in page  # the next step


def test_interest_sending_is_rate_limited_per_firm(app, codes):
    app.config["INTEREST_LIMIT"] = "2 per hour"
    lead = firm_client(app, codes, LEAD)
    send(lead, PARTNER)
    send(lead, make_brn(12))
    response = send(lead, make_brn(20))
    assert response.status_code == 429 and len(interests(app)) == 2


def test_a_partner_is_offered_the_interest_button_on_its_page(app, codes):
    partner = firm_client(app, codes, PARTNER)
    page = partner.get(f"/firms/{PARTNER}?track=materials&as_partner=1").get_data(as_text=True)
    assert 'class="inline interest"' in page and 'name="other"' in page


# --- stages, publication, exports -----------------------------------------------------------------------


def approve(app, round_id, pairs):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        for lead, partner in pairs:
            rounds.decide(s, round_id, lead, partner, "approve", actor="staff")


def test_staff_record_stages_in_order_confirm_and_publish_and_each_firm_sees_its_own(app, staff, codes, round_id):
    approve(app, round_id, [(LEAD, PARTNER), (OTHER_LEAD, make_brn(12))])
    for stage in ("interview", "site_visit", "committee"):
        staff.post(f"/staff/rounds/{round_id}/stage", data=dict(lead=LEAD, partner=PARTNER, stage=stage, score="85"))
    response = staff.post(f"/staff/rounds/{round_id}/stage",
                          data=dict(lead=OTHER_LEAD, partner=make_brn(12), stage="committee", score="99"))
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "다음 단계는 대면평가" in page
    viewer = app.test_client()
    login(viewer, "viewer", "viewer password")
    assert viewer.post(f"/staff/rounds/{round_id}/stage",
                       data=dict(lead=OTHER_LEAD, partner=make_brn(12), stage="interview", score="1")).status_code == 403
    staff.post(f"/staff/rounds/{round_id}/quota", data=dict(track="materials", quota="0"))
    page = staff.get(staff.post(f"/staff/rounds/{round_id}/confirm",
                                data=dict(track="materials", pair=f"{LEAD}:{PARTNER}")).headers["Location"])
    assert "정원 0개를 넘습니다" in page.get_data(as_text=True)
    staff.post(f"/staff/rounds/{round_id}/quota", data=dict(track="materials", quota="1"))
    staff.post(f"/staff/rounds/{round_id}/confirm", data=dict(track="materials", pair=f"{LEAD}:{PARTNER}"))
    lead, other = firm_client(app, codes, LEAD), firm_client(app, codes, OTHER_LEAD)
    assert "협력1 소재" not in lead.get("/my").get_data(as_text=True).split('id="results"')[1].split("</section>")[0]
    staff.post(f"/staff/rounds/{round_id}/publish")
    mine = lead.get("/my").get_data(as_text=True).split('id="results"')[1].split("</section>")[0]
    assert "협력1 소재" in mine and "선정" in mine and "주관2" not in mine
    theirs = other.get("/my").get_data(as_text=True).split('id="results"')[1].split("</section>")[0]
    assert "협력2 소재" in theirs and "협력1 소재" not in theirs
    data = lead.get("/api/v1/firm").get_json()
    assert [p["brn"] for r in data["results"] for p in r["pairs"]] == [PARTNER]
    assert data["products"][0]["product_code"] == "4617161001"
    public = app.test_client().get(f"/firms/{LEAD}").get_data(as_text=True)
    assert "상생협력제품 이력" in public


def test_the_selection_page_shows_the_funnel_and_exports_results_with_korean_headers(app, staff, round_id):
    approve(app, round_id, [(LEAD, PARTNER)])
    page = staff.get(f"/staff/rounds/{round_id}/selection").get_data(as_text=True)
    assert "<svg" in page and "건수 (주관기업·짝)" in page and "단계</text>" in page  # both axis titles
    assert "주관1 영상" in page
    dashboard = staff.get("/staff/").get_data(as_text=True)  # the latest round's funnel on the staff dashboard
    assert 'class="funnel"' in dashboard and "건수 (주관기업·짝)" in dashboard
    book = load_workbook(io.BytesIO(staff.get(f"/staff/rounds/{round_id}/results.xlsx").data))
    head = [c.value for c in book.active[1]]
    assert head[:4] == ["과제", "역할", "사업자등록번호", "기업명"] and "심의위원회 점수" in head
    csv_text = staff.get(f"/staff/rounds/{round_id}/results.csv").data.decode("utf-8-sig")
    assert csv_text.startswith("과제,역할,사업자등록번호") and len(csv_text.strip().splitlines()) == 10
    response = staff.post(f"/staff/rounds/{round_id}/access", data=dict(format="csv"))
    receipts = response.data.decode("utf-8-sig").splitlines()
    assert response.headers["Cache-Control"] == "no-store" and receipts[0].startswith("회차,사업자등록번호")
    assert len(receipts) == 10  # nine applicants
    assert app.test_client().get(f"/staff/rounds/{round_id}/selection").status_code == 302


def test_api_records_stages_confirms_and_publishes(app, staff, round_id):
    approve(app, round_id, [(LEAD, PARTNER)])
    headers = {"X-CSRFToken": token(staff)}
    for stage in ("interview", "site_visit", "committee"):
        response = staff.post(f"/api/v1/rounds/{round_id}/stages", headers=headers,
                              json=dict(lead=LEAD, partner=PARTNER, stage=stage, score=70))
        assert response.status_code == 201
    response = staff.post(f"/api/v1/rounds/{round_id}/stages", headers=headers,
                          json=dict(lead=LEAD, partner=PARTNER, stage="interview", score=70))
    assert response.status_code == 400 and "되돌아갈 수 없습니다" in response.get_json()["error"]["message"]
    candidates = staff.get(f"/api/v1/rounds/{round_id}/candidates?track=materials").get_json()["candidates"]
    assert candidates[0]["scores"] == {"interview": 70, "site_visit": 70, "committee": 70}
    response = staff.post(f"/api/v1/rounds/{round_id}/selection", headers=headers,
                          json=dict(track="materials", pairs=[[LEAD, PARTNER]]))
    assert response.get_json() == {"selected": 1}
    assert staff.post(f"/api/v1/rounds/{round_id}/publish", headers=headers, json={}).get_json() == {"published": True}
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert len(stages.products(s, LEAD)) == 1


def test_a_later_rounds_selection_page_shows_earlier_products_and_who_recorded_a_stage(app, staff, round_id):
    approve(app, round_id, [(LEAD, PARTNER)])
    with db.transaction(app.config["DATABASE_URL"]) as s:
        for stage in ("interview", "site_visit", "committee"):
            stages.record_stage(s, round_id, LEAD, PARTNER, stage, 90, "우수", "2026-03-20", "staff")
        stages.confirm_selection(s, round_id, "materials", [(LEAD, PARTNER)], "staff", "2026-04-01")
        later = rounds.create_round(s, "다음 회차", "2026-10-01", ["materials"])
        for brn, role in ((LEAD, "lead"), (PARTNER, "partner")):
            s.add(db.ApplicationRow(round_id=later.id, firm_id=db.get_firm(s, brn).id, role=role, track="materials",
                                    product_code="4617161001234567"))
        s.flush()
        rounds.decide(s, later.id, LEAD, PARTNER, "approve", actor="staff")
        later_id = later.id
    page = staff.get(f"/staff/rounds/{later_id}/selection").get_data(as_text=True)
    assert f"{ROUND} 상생협력제품 4617161001" in page
    first = staff.get(f"/staff/rounds/{round_id}/selection").get_data(as_text=True)
    assert "staff" in first and "우수" in first  # who recorded each stage, and the note, on the score


def test_staff_set_a_rounds_stages_on_the_page_until_one_is_recorded(app, staff, round_id):
    approve(app, round_id, [(LEAD, PARTNER)])
    page = staff.get(staff.post(f"/staff/rounds/{round_id}/stages", data=dict(stages="document,committee"))
                     .headers["Location"]).get_data(as_text=True)
    assert "단계: 서면평가, 심의위원회" in page and 'name="stages"' in page
    staff.post(f"/staff/rounds/{round_id}/stage", data=dict(lead=LEAD, partner=PARTNER, stage="document", score="70"))
    page = staff.get(f"/staff/rounds/{round_id}/selection").get_data(as_text=True)
    assert 'name="stages"' not in page  # fixed once a stage is recorded
    response = staff.post(f"/staff/rounds/{round_id}/stages", data=dict(stages="interview"))
    assert "바꿀 수 없습니다" in staff.get(response.headers["Location"]).get_data(as_text=True)
