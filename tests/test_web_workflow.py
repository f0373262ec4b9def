"""The staff workflow over the round service in the web app: the name rule, clear (form, API, DELETE), bulk,
a pair added by hand, the current state beside the stored run, proposals search; run parameters and decisions
on pairs that cannot exist refused at once."""

import html
import re
from datetime import date
from pathlib import Path

import pytest

from matcher import db

from helpers import ROUND, make_brn
from test_web_runs import start_run

LEADS = [make_brn(i) for i in range(1, 7)]


@pytest.fixture
def run_id(staff, round_id):
    return start_run(staff, round_id, track="materials")


@pytest.mark.parametrize("name, says", [("12345", "숫자뿐이라 회차 번호로 읽힙니다"), ("   ", "회차 이름: 비어 있습니다"),
                                        ("a" * 101, "최대 100자까지")])
def test_round_names_are_refused_in_korean_with_the_form_kept(staff, name, says):
    response = staff.post("/staff/rounds", data=dict(name=name, reference_date="2026-06-01", track_materials="1"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and says in page and 'id="create-round"' in page


def test_a_control_character_in_a_round_name_is_refused_in_korean(staff):
    response = staff.post("/staff/rounds", data=dict(name="1차\x00", reference_date="2026-06-01"))
    assert response.status_code == 400 and "제어 문자" in response.get_data(as_text=True)


def test_round_pages_are_found_by_id_only(app, staff, round_id):
    with db.transaction(app.config["DATABASE_URL"]) as s:  # a round named "1" from before the rule
        s.add(db.RoundRow(name=str(round_id + 1), reference_date=date(2026, 1, 1), open_tracks=[]))
    page = staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True)
    assert "테스트 1차" in page


def test_clear_from_the_form_the_api_and_delete(app, staff, round_id, run_id):
    pair = dict(lead=LEADS[0], partner=make_brn(11), track="materials")
    for kind in ("forbid", "clear"):
        assert staff.post(f"/staff/runs/{run_id}/decide", data=dict(pair, kind=kind)).status_code == 302
    api = f"/api/v1/rounds/{round_id}/decisions"
    assert staff.get(api).get_json() == {"decisions": []}
    assert staff.post(api, json=dict(pair, kind="lock", note="면담 통과")).status_code == 201
    assert staff.post(api, json=dict(pair, kind="clear")).get_json() == {"decision": None}
    assert staff.post(api, json=dict(pair, kind="reject")).status_code == 201
    assert staff.delete(f"{api}/{LEADS[0]}/{make_brn(11)}").get_json() == {"decision": None}
    history = staff.get(api + "?history=1").get_json()["decisions"]
    assert [d["kind"] for d in history] == ["forbid", "clear", "lock", "clear", "reject", "clear"]
    page = staff.get(f"/staff/rounds/{round_id}/pairs/{LEADS[0]}/{make_brn(11)}").get_data(as_text=True)
    assert page.count("decision-clear") == 3 and "면담 통과" in page


def test_bulk_decisions_from_the_workbench(app, staff, round_id, run_id):
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    pairs = [f"{r['lead_brn']}|{r['partner_brn']}|{r['track']}" for r in rows[:3]]
    response = staff.post(f"/staff/runs/{run_id}/decide-many", data=dict(pair=pairs, kind="approve", note="일괄"))
    assert response.status_code == 302
    decided = staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]
    assert sorted((d["lead"], d["kind"], d["note"]) for d in decided) == sorted(
        (r["lead_brn"], "approve", "일괄") for r in rows[:3])
    wrong = staff.post(f"/staff/runs/{run_id}/decide-many", follow_redirects=True,
                       data=dict(pair=pairs[:1] + [f"{make_brn(11)}|{LEADS[0]}|materials"], kind="reject"))
    assert "2행" in wrong.get_data(as_text=True) and "역할이 반대입니다" in wrong.get_data(as_text=True)
    kinds = [d["kind"] for d in staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]]
    assert kinds == ["approve"] * 3  # all or none: the first pair was not rejected either


def test_a_pair_added_by_hand_is_checked_and_shown_as_current_state(app, staff, round_id, run_id):
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    proposed = {(r["lead_brn"], r["partner_brn"]) for r in rows}
    lead, partner = next((l, p) for l in LEADS for p in (make_brn(11), make_brn(12)) if (l, p) not in proposed)
    refused = staff.post(f"/staff/runs/{run_id}/decide", follow_redirects=True,
                         data=dict(lead=make_brn(99), partner=partner, kind="lock"))
    assert "주관기업으로 신청하지 않았습니다" in refused.get_data(as_text=True)
    staff.post(f"/staff/runs/{run_id}/decide", data=dict(lead=lead, partner=partner, kind="lock", note="직접"))
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    current = page[page.index('id="current-state"'):]
    assert "직접 추가한 쌍" in current and "직접" in current
    assert staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"] == rows  # the record is unchanged


@pytest.mark.slow
def test_proposals_search_by_name_or_brn_and_score_range(staff, round_id, run_id):
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    one = rows[0]
    by_brn = staff.get(f"/api/v1/runs/{run_id}/proposals?q={one['lead_brn'][:3]}-{one['lead_brn'][3:5]}").get_json()
    assert one["lead_brn"] in {r["lead_brn"] for r in by_brn["proposals"]}
    page = staff.get(f"/staff/runs/{run_id}?q={one['lead_name']}").get_data(as_text=True)
    assert page.count('class="proposal"') == sum(1 for r in rows if one["lead_name"] in (r["lead_name"], r["partner_name"]))
    high = staff.get(f"/api/v1/runs/{run_id}/proposals?score_min=2").get_json()["proposals"]
    assert high == []
    assert staff.get(f"/staff/runs/{run_id}?score_min=abc").status_code == 200  # refused filter: flashed, page intact


def test_export_follows_the_page_filters_and_language(staff, round_id, run_id):
    import csv
    import io
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    one = rows[0]
    page = staff.get(f"/staff/runs/{run_id}?q={one['lead_brn']}").get_data(as_text=True)
    assert f"export.csv?q={one['lead_brn']}" in page
    data = staff.get(f"/staff/runs/{run_id}/export.csv?q={one['lead_brn']}").get_data()
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0][0] == "과제" and len(table) == 1 + sum(one["lead_brn"] in (r["lead_brn"], r["partner_brn"])
                                                          for r in rows)
    english = staff.get(f"/staff/runs/{run_id}/export.csv?lang=en").get_data()
    assert list(csv.reader(io.StringIO(english.decode("utf-8-sig"))))[0][0] == "track"


def test_an_upload_runs_outside_the_request_and_its_job_page_gives_the_outcome(app, staff, round_id, monkeypatch):
    from io import BytesIO

    from web import rounds as views
    from test_web_runs import wait_for_job
    monkeypatch.setattr(views, "UPLOAD_WAIT", 0.0)  # the request does not wait: it hands over the job page
    good = "사업자등록번호,회사명,기업규모,지역\n" + f"{make_brn(401)},새기업,소기업,서울\n"
    bad = "사업자등록번호,회사명,기업규모,지역\n" + f"{make_brn(402)},틀린기업,거대기업,서울\n"
    for text, status in ((good, "done"), (bad, "failed")):
        response = staff.post(f"/staff/rounds/{round_id}/import/firms", content_type="multipart/form-data",
                              data={"file": (BytesIO(text.encode("utf-8")), "firms.csv")})
        location = response.headers["Location"]
        if "/jobs/" not in location:  # the job finished before the request looked
            continue
        assert wait_for_job(staff, location)["status"] == status
        page = staff.get(location).get_data(as_text=True)
        assert ("1건 추가" in page) if status == "done" else ("거대기업" in page and "class=\"list problems\"" in page)
    assert not list(Path(app.config["UPLOAD_FOLDER"]).glob("*"))  # the kept files are gone


def test_a_bulk_approve_over_a_forbidden_pair_asks_first_naming_the_pair(app, staff, round_id, run_id):
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    forbidden, other = rows[0], rows[1]
    staff.post(f"/staff/runs/{run_id}/decide", data=dict(lead=forbidden["lead_brn"], partner=forbidden["partner_brn"],
                                                         track=forbidden["track"], kind="forbid", note="계열 의심"))
    pairs = [f"{r['lead_brn']}|{r['partner_brn']}|{r['track']}" for r in (forbidden, other)]
    asked = staff.post(f"/staff/runs/{run_id}/decide-many", data=dict(pair=pairs, kind="approve", note="일괄"))
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and 'id="bulk-confirm"' in page
    confirm = page[page.index('id="bulk-confirm"'):]
    confirm = confirm[:confirm.index("</section>")]
    lead_named = f"{forbidden['lead_name']} ({forbidden['lead_brn'][:3]}-{forbidden['lead_brn'][3:5]}-"
    assert lead_named in confirm and "계열 의심" in confirm and "금지" in confirm
    assert other["lead_name"] not in confirm.split("<form")[0]  # only the pair it would override is named
    kinds = {d["lead"]: d["kind"] for d in staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]}
    assert kinds == {forbidden["lead_brn"]: "forbid"}  # nothing stored until confirmed
    skipped = staff.post(f"/staff/runs/{run_id}/decide-many", data=dict(pair=pairs, kind="approve", note="일괄",
                                                                     keep_held="1"))
    assert skipped.status_code == 302
    kinds = {d["lead"]: d["kind"] for d in staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]}
    assert kinds == {forbidden["lead_brn"]: "forbid", other["lead_brn"]: "approve"}
    overridden = staff.post(f"/staff/runs/{run_id}/decide-many", data=dict(pair=pairs[:1], kind="approve",
                                                                        override="1"))
    assert overridden.status_code == 302
    kinds = {d["lead"]: d["kind"] for d in staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]}
    assert kinds[forbidden["lead_brn"]] == "approve"


def test_bulk_decisions_over_held_pairs_are_refused_by_the_service_listing_them(app, round_id):
    from matcher import rounds
    from matcher.errors import OverrideError
    from test_web_runs import LEADS as leads
    pair = (leads[0], make_brn(11), "materials")
    with db.transaction(app.config["DATABASE_URL"]) as s:
        rounds.decide(s, round_id, *pair[:2], "lock", "면담 통과", "staff", pair[2])
        with pytest.raises(OverrideError) as refused:
            rounds.decide_many(s, round_id, [pair, (leads[1], make_brn(12), "materials")], "reject", actor="staff")
        assert [(d.lead_brn, d.kind, d.note) for d in refused.value.held] == [(leads[0], "lock", "면담 통과")]
        assert leads[0] in refused.value.text("ko").replace("-", "") and "고정" in refused.value.text("ko")
        approved = (leads[1], make_brn(12), "materials")
        rounds.decide(s, round_id, *approved[:2], "approve", "", "staff", approved[2])
        again = rounds.decide_many(s, round_id, [approved], "reject", actor="staff")  # approve is not held
        assert [d.kind for d in again] == ["reject"]


def _upload(staff, round_id, text, name="bad.csv", kind="firms"):
    from io import BytesIO
    return staff.post(f"/staff/rounds/{round_id}/import/{kind}", content_type="multipart/form-data",
                      data={"file": (BytesIO(text.encode("utf-8")), name)})


MISSING_COLUMNS = "사업자등록번호,기업명\n123-45-67890,잘못된 번호\n"


def test_a_refused_upload_is_an_import_with_its_own_page_wording_and_audit_entry(app, staff, round_id, monkeypatch):
    from web import rounds as views
    from test_web_runs import wait_for_job
    monkeypatch.setattr(views, "UPLOAD_WAIT", 0.0)
    response = _upload(staff, round_id, MISSING_COLUMNS)
    if response.status_code == 302:
        location = response.headers["Location"]
    else:  # read before the request looked: the outcome is the import's page itself
        location = re.search(r'data-status-url="([^"]+)\.json"', response.get_data(as_text=True)).group(1)
    assert wait_for_job(staff, location)["status"] == "failed"
    page = staff.get(location).get_data(as_text=True)
    assert "bad.csv" in page[page.index("<h1"):page.index("</h1>")] and 'id="import"' in page
    assert "problem(s)" not in page and "column is missing" not in page  # no raw English
    assert 'id="job-retry"' not in page and "<progress" not in page  # nothing to retry, no bar stuck at 10 %
    assert 'id="upload-again"' in page and "열이 없습니다" in page
    round_page = staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True)
    imports = round_page[round_page.index('id="imports"'):]
    assert "bad.csv" in imports[:imports.index("</section>")]
    assert 'class="jobs"' not in round_page or "bad.csv" not in round_page[round_page.index('class="jobs"'):]
    audit = staff.get("/staff/audit").get_data(as_text=True)
    assert "import.refused" in audit and "bad.csv" in audit


def test_the_same_refused_file_uploaded_again_is_not_read_again(app, staff, round_id):
    first = _upload(staff, round_id, MISSING_COLUMNS)
    assert first.status_code == 400
    again = _upload(staff, round_id, MISSING_COLUMNS, name="bad-again.csv")
    page = again.get_data(as_text=True)
    assert again.status_code == 400 and 'id="same-file"' in page and "bad.csv" in page and "열이 없습니다" in page
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.JobRow).filter_by(kind="import").count() == 1
    fixed = MISSING_COLUMNS.replace("사업자등록번호,기업명", "사업자등록번호,기업명,기업규모,지역").replace(
        "123-45-67890,잘못된 번호", f"{make_brn(501)},고친 기업,소기업,서울")
    assert _upload(staff, round_id, fixed).status_code == 302


def test_the_add_pair_form_takes_a_firm_name_with_the_forgiving_lookup(app, staff, round_id, run_id):
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    proposed = {(r["lead_brn"], r["partner_brn"]) for r in rows}
    lead, partner = next((l, p) for l in LEADS for p in (make_brn(11), make_brn(12)) if (l, p) not in proposed)
    names = {make_brn(11): "협력1 소재", make_brn(12): "협력2 소재"}
    lead_name = f"주관{LEADS.index(lead) + 1} 영상"
    response = staff.post(f"/staff/runs/{run_id}/decide", follow_redirects=True,
                          data=dict(lead=f"(주){lead_name}", partner=names[partner].replace(" ", ""), kind="lock"))
    assert response.status_code == 200
    decided = staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]
    assert [(d["lead"], d["partner"], d["kind"]) for d in decided] == [(lead, partner, "lock")]
    vague = staff.post(f"/staff/runs/{run_id}/decide", follow_redirects=True,
                       data=dict(lead="주관", partner=partner, kind="lock")).get_data(as_text=True)
    assert "하나를 사업자등록번호로 고르세요" in vague and f"주관1 영상 ({LEADS[0][:3]}-" in vague
    unknown = staff.post(f"/staff/runs/{run_id}/decide", follow_redirects=True,
                         data=dict(lead="없는회사이름", partner=partner, kind="lock")).get_data(as_text=True)
    assert "'없는회사이름'에 맞는 기업이 없습니다" in html.unescape(unknown)


def test_firms_are_named_and_times_are_korean_in_the_history_and_the_audit_log(app, staff, round_id, run_id):
    from datetime import datetime, timedelta
    lead, partner = LEADS[0], make_brn(11)
    staff.post(f"/staff/runs/{run_id}/decide", data=dict(lead=lead, partner=partner, kind="forbid", note="계열"))
    with db.transaction(app.config["DATABASE_URL"]) as s:
        stored = s.query(db.DecisionEventRow).one().decided_at
        at = s.query(db.AuditRow).filter_by(action="decision.forbid").one().at
    history = staff.get(f"/staff/rounds/{round_id}/pairs/{lead}/{partner}").get_data(as_text=True)
    title = history[history.index("<h1>"):history.index("</h1>")]
    assert f"주관1 영상 ({lead[:3]}-{lead[3:5]}-{lead[5:]})" in title and "협력1 소재 (" in title
    assert (stored + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M") in history and "한국 시간" in history
    audit = staff.get("/staff/audit").get_data(as_text=True)
    assert (at + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M") in audit and "(UTC)" not in audit
    assert f"주관1 영상 ({lead[:3]}-{lead[3:5]}-{lead[5:]})" in audit


def test_the_manual_pair_form_forbids_a_pair_or_everything_for_a_lead(app, staff, round_id, run_id):
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    form = page[page.index('id="manual-pair"'):]
    form = form[:form.index("</form>")]
    assert '<option value="forbid">' in form and 'name="every_partner"' in form
    rows = staff.get(f"/api/v1/runs/{run_id}/proposals").get_json()["proposals"]
    proposed = {(r["lead_brn"], r["partner_brn"]) for r in rows}
    lead, partner = next((l, p) for l in LEADS for p in (make_brn(11), make_brn(12)) if (l, p) not in proposed)
    staff.post(f"/staff/runs/{run_id}/decide", data=dict(lead=lead, partner=partner, kind="forbid", note="계열"))
    decided = staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]
    assert [(d["lead"], d["partner"], d["kind"]) for d in decided] == [(lead, partner, "forbid")]
    other = next(l for l in LEADS if l != lead)
    response = staff.post(f"/staff/runs/{run_id}/decide", follow_redirects=True,
                          data=dict(lead=other, every_partner="1", kind="forbid", note="서류 미비"))
    assert response.status_code == 200
    decided = staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]
    forbidden = {d["partner"] for d in decided if d["lead"] == other and d["kind"] == "forbid"}
    assert forbidden == {make_brn(11), make_brn(12), make_brn(20)}  # every partner of its track
    assert "3" in html.unescape(response.get_data(as_text=True))


# --- run parameters and decisions refused at once --------------------------------------------------

def _runs(app):
    with db.transaction(app.config["DATABASE_URL"]) as s:
        return s.query(db.MatchRunRow).count()


def test_run_parameters_are_refused_at_once_by_the_api(app, staff, round_id):
    for body, message in ((dict(track="materials", time_limit=-3), "time_limit: '-3' must be between 1 and 600"),
                          (dict(track="materials", time_limit=0), "time_limit: '0' must be between"),
                          (dict(track="materials", time_limit=99999), "between 1 and 600 seconds"),
                          (dict(track="construction"), "track: 'construction' is not open in round")):
        response = staff.post(f"/api/v1/rounds/{round_id}/runs", json=body)
        assert response.status_code == 400, body
        assert message in response.get_json()["error"]["message_en"], body
        assert response.get_json()["error"]["message"] == response.get_json()["error"]["message_ko"]
    assert _runs(app) == 0


def test_run_form_redisplays_with_the_problems_and_the_values(app, staff, round_id):
    for form, message in ((dict(track="materials", time_limit="0"), "1초에서 600초 사이여야 합니다"),
                          (dict(track="materials", time_limit="99999"), "600초 사이여야"),
                          (dict(track="construction", time_limit="10"), "회차에 열려 있지 않습니다")):
        response = staff.post(f"/staff/rounds/{round_id}/run", data=dict(mode="stable", **form))
        page = response.get_data(as_text=True)
        assert response.status_code == 400, form
        assert 'class="flash error"' in page and message in page, form
        assert 'id="run-form"' in page and f'value="{form["time_limit"]}"' in page
        assert '<option value="stable" selected>' in page
    assert _runs(app) == 0


def _decide(client, round_id, lead, partner, **extra):
    return client.post(f"/api/v1/rounds/{round_id}/decisions",
                       json=dict(lead=make_brn(lead), partner=make_brn(partner), kind="approve", **extra))


def test_decisions_on_pairs_that_cannot_exist_are_refused(app, staff, round_id):
    cases = [((11, 1), "roles reversed"),
             ((1, 99), "has no partner application"),
             ((99, 11), "has no lead application"),
             ((1, 1), "cannot pair with itself")]
    for (lead, partner), why in cases:
        response = _decide(staff, round_id, lead, partner)
        assert response.status_code == 400, (lead, partner)
        message = response.get_json()["error"]["message_en"]
        assert why in message and make_brn(lead)[:3] in message and ROUND in message, message
        assert ROUND in response.get_json()["error"]["message"]  # Korean, the page's language
    response = _decide(staff, round_id, 1, 11, track="innovation")
    assert response.status_code == 400 and "in track Innovation growth" in response.get_json()["error"]["message_en"]
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.DecisionRow).count() == 0
    assert _decide(staff, round_id, 1, 11, track="materials").status_code == 201
    assert _decide(staff, round_id, 2, 12).status_code == 201
