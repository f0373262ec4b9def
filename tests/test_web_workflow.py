"""The staff workflow over the round service in the web app: the name rule, clear (form, API, DELETE), bulk,
a pair added by hand, the current state beside the stored run, proposals search; run parameters and decisions
on pairs that cannot exist refused at once."""

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
