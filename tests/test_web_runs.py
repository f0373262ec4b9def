"""The staff workbench over the real solver: background run with progress, proposals, decisions that
survive a re-solve, pictures, export, and the JSON API for runs and decisions."""

import re
import time

import pytest

from matcher import db

from helpers import ROUND, make_brn


LEADS = [make_brn(i) for i in range(1, 7)]
LARGE = make_brn(20)


def wait_for_job(client, location, timeout=60):
    """Follow a job page's JSON until it finishes; returns the job dict."""
    url = location + ".json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url).get_json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {url} still running after {timeout} s")


def start_run(client, round_id, **form):
    form = dict(dict(mode="optimal", time_limit="10"), **form)
    response = client.post(f"/staff/rounds/{round_id}/run", data=form)
    assert response.status_code == 302 and "/staff/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "job-progress" in page
    job = wait_for_job(client, response.headers["Location"])
    assert job["status"] == "done", job
    assert job["fraction"] == 1.0
    return job["run_id"]


@pytest.fixture
def run_id(staff, round_id):
    return start_run(staff, round_id, track="materials")


def proposals(client, run_id):
    data = client.get(f"/api/v1/runs/{run_id}/proposals").get_json()
    return {(p["lead_brn"], p["partner_brn"]): p for p in data["proposals"]}


def test_run_lists_proposals_with_explanations(staff, round_id, run_id):
    pairs = proposals(staff, run_id)
    assert len(pairs) >= 2 and {lead for lead, _ in pairs} <= set(LEADS)
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert page.count('class="proposal"') == len(pairs)
    assert "점수 구성" in page and 'data-track="materials"' in page
    runs = staff.get(f"/api/v1/rounds/{round_id}/runs").get_json()["runs"]
    assert runs[-1]["id"] == run_id and runs[-1]["status"] and runs[-1]["proposals"] == len(pairs)
    assert ROUND in staff.get(f"/staff/rounds/{round_id}").get_data(as_text=True)


def test_stable_mode_reports_blocking_pairs(staff, round_id):
    run_id = start_run(staff, round_id, track="materials", mode="stable")
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert 'id="blocking-pairs"' in page
    assert staff.get(f"/api/v1/runs/{run_id}").get_json()["params"]["mode"] == "stable"


def test_large_partner_takes_five_or_none(staff, run_id):
    loads = {}
    for lead, partner in proposals(staff, run_id):
        loads[partner] = loads.get(partner, 0) + 1
    assert loads.get(LARGE, 0) in (0, 5, 6)
    assert all(n == 1 for partner, n in loads.items() if partner != LARGE)


def test_decisions_survive_a_resolve(staff, round_id, run_id):
    pairs = proposals(staff, run_id)
    forbidden = next(iter(pairs))
    response = staff.post(f"/staff/runs/{run_id}/decide",
                          data=dict(lead=forbidden[0], partner=forbidden[1], kind="forbid", note="중복 신청"))
    assert response.status_code == 302
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    assert "중복 신청" in page and "decision-forbid" in page
    response = staff.post(f"/staff/runs/{run_id}/resolve")
    job = wait_for_job(staff, response.headers["Location"])
    assert job["status"] == "done" and job["run_id"] != run_id
    again = proposals(staff, job["run_id"])
    assert forbidden not in again and again
    decisions = staff.get(f"/api/v1/rounds/{round_id}/decisions").get_json()["decisions"]
    assert [(d["lead"], d["partner"], d["kind"], d["note"]) for d in decisions] == [
        (forbidden[0], forbidden[1], "forbid", "중복 신청")]


def test_decision_api_validates(staff, round_id, run_id):
    lead, partner = next(iter(proposals(staff, run_id)))
    bad = staff.post(f"/api/v1/rounds/{round_id}/decisions", json=dict(lead=lead, partner=partner, kind="maybe"))
    assert bad.status_code == 400 and "maybe" in bad.get_json()["error"]["message"]
    bad = staff.post(f"/api/v1/rounds/{round_id}/decisions", json=dict(lead="123", partner=partner, kind="approve"))
    assert bad.status_code == 400 and "'123'" in bad.get_json()["error"]["message"]
    ok = staff.post(f"/api/v1/rounds/{round_id}/decisions",
                    json=dict(lead=lead, partner=partner, kind="approve", note="좋음"))
    assert ok.status_code == 201
    assert proposals(staff, run_id)[(lead, partner)]["decision"] == "approve"


def test_pictures(staff, run_id):
    page = staff.get(f"/staff/runs/{run_id}/pictures").get_data(as_text=True)
    assert page.count("<svg") == 3 and "track-materials" in page


def test_export(staff, run_id):
    csv = staff.get(f"/staff/runs/{run_id}/export.csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert 'attachment; filename="run-' in csv.headers["Content-Disposition"]
    xlsx = staff.get(f"/staff/runs/{run_id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert staff.get(f"/staff/runs/{run_id}/export.pdf").status_code == 404
    assert "run.export" in staff.get("/staff/audit").get_data(as_text=True)


def test_job_errors_are_reported(staff, round_id):
    assert staff.post(f"/staff/rounds/{round_id}/run", data=dict(track="nope")).status_code == 400
    assert staff.post(f"/staff/rounds/{round_id}/run", data=dict(mode="fast")).status_code == 400
    assert staff.post(f"/staff/rounds/{round_id}/run", data=dict(time_limit="soon")).status_code == 400
    assert staff.get("/staff/jobs/nothing.json").status_code == 404


def test_api_start_run(staff, round_id):
    response = staff.post(f"/api/v1/rounds/{round_id}/runs", json=dict(track="materials", time_limit=10))
    assert response.status_code == 202
    job = response.get_json()
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = staff.get(response.headers["Location"]).get_json()
    assert job["status"] == "done"
    assert staff.get(f"/api/v1/runs/{job['run_id']}").get_json()["id"] == job["run_id"]


def test_every_get_route_answers_staff_without_server_error(app, staff, round_id, run_id):
    job = staff.post(f"/api/v1/rounds/{round_id}/runs", json=dict(track="materials")).get_json()["id"]
    values = {"round_id": round_id, "run_id": run_id, "job_id": job, "brn": make_brn(1), "other": make_brn(11),
              "kind": "firms", "fmt": "csv", "filename": "style.css", "lead": make_brn(1), "partner": make_brn(11)}
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), rule.rule)
        response = staff.get(url, query_string={"track": "materials", "other": make_brn(11)})
        response.close()
        firm_only = url == "/api/v1/firm"  # a signed-in firm's own data: 401 for anyone else
        assert response.status_code in ((401,) if firm_only else (200, 302)), (url, response.status_code)
        seen += 1
    assert seen >= 25
    wait_for_job(staff, f"/staff/jobs/{job}")


def test_impossible_lock_is_refused_before_the_run_with_firms_named_and_a_fix(app, staff, round_id):
    response = staff.post(f"/api/v1/rounds/{round_id}/decisions",
                          json=dict(lead=LEADS[0], partner=make_brn(11), kind="lock", note="잘못된 고정"))
    assert response.status_code == 201
    with db.transaction(app.config["DATABASE_URL"]) as s:  # after the lock, they become affiliates (계열사)
        for brn in (LEADS[0], make_brn(11)):
            db.get_firm(s, brn).affiliate_group = "G1"
    response = staff.post(f"/staff/rounds/{round_id}/run", data=dict(track="materials"))
    assert response.status_code == 409  # nothing started: no job page stuck at 70 %
    page = response.get_data(as_text=True)
    assert "지금 결정으로는 다시 풀 수 없습니다" in page and "주관1 영상 (101-81-00016)" in page
    assert "협력1 소재 (111-81-00110)" in page and "계열" in page and "확정을 해제하세요" in page
    assert not rounds_jobs(app, round_id)
    english = staff.post(f"/staff/rounds/{round_id}/run?lang=en", data=dict(track="materials"))
    assert "breaks the rules of Materials &amp; parts" in english.get_data(as_text=True)
    staff.get("/?lang=ko")
    fixed = staff.post(f"/staff/rounds/{round_id}/clear", data=dict(lead=LEADS[0], partner=make_brn(11)))
    assert fixed.status_code == 302
    response = staff.post(f"/staff/rounds/{round_id}/run", data=dict(track="materials"))
    assert wait_for_job(staff, response.headers["Location"])["status"] == "done"


def rounds_jobs(app, round_id):
    from matcher import rounds
    with db.transaction(app.config["DATABASE_URL"]) as s:
        return rounds.jobs_for_round(s, round_id)


def test_pictures_of_a_stored_run_do_not_change_after_decisions(staff, round_id, run_id):
    leads = [lead for lead, partner in proposals(staff, run_id) if partner == LARGE]
    before = staff.get(f"/staff/runs/{run_id}/pictures?track=materials").get_data(as_text=True)
    for lead in leads[:2] or [LEADS[0]]:
        staff.post(f"/staff/runs/{run_id}/decide", data=dict(lead=lead, partner=LARGE, kind="reject"))
    after = staff.get(f"/staff/runs/{run_id}/pictures?track=materials").get_data(as_text=True)
    assert strip_tokens(after) == strip_tokens(before)


def strip_tokens(page):
    page = re.sub(r'<p class="flash [^"]*">[^<]*</p>', "", page)
    return re.sub(r'name="csrf[-_]token" (content|value)="[^"]*"', "", page)


def test_the_run_page_summary_counts_the_runs_proposals(staff, run_id):
    n = len(proposals(staff, run_id))
    page = staff.get(f"/staff/runs/{run_id}").get_data(as_text=True)
    summary = page[page.index('<table class="list runs">'):page.index("</table>")]
    cells = re.findall(r"<td>(\d+)</td>\s*<td>", summary)
    assert n > 0 and str(n) in cells, summary
    assert f"{n} / {n}" in page
