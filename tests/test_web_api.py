"""The JSON API and the staff workbench's pages over it: decisions on ineligible pairs, query checks, logout,
exports with decisions, a paginated proposals page and a one-track pictures page."""

import re
from datetime import date

import pytest

from matcher import db

from helpers import ROUND, add_firm, make_brn


def _decide_api(client, round_id, lead, partner, kind, **extra):
    return client.post(f"/api/v1/rounds/{round_id}/decisions",
                       json=dict(lead=make_brn(lead), partner=make_brn(partner), kind=kind, **extra))


def _debar(app, n):
    """Debar firm ``n`` over the round's reference date."""
    with db.transaction(app.config["DATABASE_URL"]) as s:
        firm = s.query(db.FirmRow).filter_by(brn=make_brn(n)).one()
        firm.debarred_from, firm.debarred_to = date(2026, 1, 1), date(2026, 12, 31)


@pytest.fixture
def bare_run(app, round_id):
    """A stored run of the round without proposals (the workbench form only needs the run)."""
    with db.transaction(app.config["DATABASE_URL"]) as s:
        row = db.MatchRunRow(round_id=round_id, track="materials", status="optimal")
        s.add(row)
        s.flush()
        return row.id



@pytest.mark.parametrize("kind", ["approve", "lock"])
def test_api_refuses_approving_or_locking_an_ineligible_pair_with_the_rule_reason(app, staff, round_id, kind):
    _debar(app, 11)
    for track in ({}, {"track": "materials"}):
        response = _decide_api(staff, round_id, 1, 11, kind, **track)
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert kind in error["message_en"] and make_brn(11)[:3] in error["message_en"] and ROUND in error["message"]
        assert "부정당" in error["message"] and "debar" in error["message_en"], error
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.DecisionRow).count() == 0
    assert _decide_api(staff, round_id, 1, 12, kind).status_code == 201  # an eligible pair still passes


@pytest.mark.parametrize("kind", ["reject", "forbid"])
def test_api_still_allows_rejecting_or_forbidding_an_ineligible_pair(app, staff, round_id, kind):
    _debar(app, 11)
    assert _decide_api(staff, round_id, 1, 11, kind).status_code == 201


def test_form_refuses_approving_an_ineligible_pair(app, staff, round_id, bare_run):
    _debar(app, 11)
    form = dict(lead=make_brn(1), partner=make_brn(11), track="materials", note="")
    response = staff.post(f"/staff/runs/{bare_run}/decide", data=dict(form, kind="lock"), follow_redirects=True)
    page = response.get_data(as_text=True)  # back on the workbench, the refusal shown, the page intact
    assert response.status_code == 200 and 'class="flash error"' in page and "111-81-00110" in page
    assert "부정당업자 제재" in page
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.DecisionRow).count() == 0
    response = staff.post(f"/staff/runs/{bare_run}/decide", data=dict(form, kind="forbid"))
    assert response.status_code == 302
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert [d.kind for d in s.query(db.DecisionRow)] == ["forbid"]


@pytest.mark.parametrize("query, words", [
    ("track=materials&k=abc", ["k", "'abc'"]),
    ("track=materials&k=-5", ["k", "'-5'"]),
    ("track=materials&k=0", ["k", "'0'"]),
    ("track=materials&region=Mars", ["region", "'Mars'"]),
    ("track=materials&size_filter=huge", ["size", "'huge'"]),
    ("track=materials&certificate=nobel", ["certificate", "'nobel'"]),
    ("track=bogus", ["track", "'bogus'", "materials"]),
    ("", ["'track' is required"]),
])
def test_recommendations_refuse_bad_query_parameters(client, round_id, query, words):
    response = client.get(f"/api/v1/firms/{make_brn(1)}/recommendations?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    message = response.get_json()["error"]["message"]
    assert all(word in message for word in words), message
    if "bogus" in query:
        assert "required" not in message


def test_recommendations_accept_good_parameters(client, round_id):
    response = client.get(f"/api/v1/firms/{make_brn(1)}/recommendations?track=materials&k=3&region=서울특별시")
    assert response.status_code == 200


@pytest.mark.parametrize("query, words", [
    ("track=materials", ["'other' is required"]),
    ("track=materials&other=", ["'other' is required"]),
    ("track=materials&other=abc", ["other", "'abc'"]),
    ("track=bogus&other=" + make_brn(11), ["track", "'bogus'"]),
])
def test_why_not_refuses_a_missing_or_malformed_other(client, round_id, query, words):
    response = client.get(f"/api/v1/firms/{make_brn(1)}/why-not?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    message = response.get_json()["error"]["message"]
    assert all(word in message for word in words), message


def test_why_not_still_answers(client, round_id):
    response = client.get(f"/api/v1/firms/{make_brn(1)}/why-not?track=materials&other={make_brn(11)}")
    assert response.status_code == 200 and response.get_json()["eligible"] is True


@pytest.mark.parametrize("field, value", [("status", "bogus"), ("track", "bogus"), ("decision", "maybe"),
                                          ("partner_brn", "12")])
def test_proposals_filters_refuse_unknown_values(staff, bare_run, field, value):
    response = staff.get(f"/api/v1/runs/{bare_run}/proposals?{field}={value}")
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert field in message and repr(value) in message, message
    assert staff.get(f"/api/v1/runs/{bare_run}/proposals?status=approved").status_code == 200


def test_unknown_job_json_is_a_json_404(staff):
    response = staff.get("/staff/jobs/nope.json")
    assert response.status_code == 404 and response.is_json
    assert "nope" in response.get_json()["error"]["message"]


def test_api_logout_ends_the_session_and_needs_csrf(app, client, round_id):
    url = app.config["DATABASE_URL"]
    app.config["WTF_CSRF_ENABLED"] = True
    token = client.get("/api/v1/csrf-token").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    response = client.post("/api/v1/session", json=dict(username="staff", password="correct horse"),
                           headers=headers)
    assert response.status_code == 200 and url
    assert client.get(f"/api/v1/rounds/{round_id}/runs").status_code == 200
    assert client.delete("/api/v1/session").status_code == 400  # no CSRF token
    assert client.get(f"/api/v1/rounds/{round_id}/runs").status_code == 200
    response = client.delete("/api/v1/session", headers=headers)
    assert response.status_code == 200 and response.get_json()["logged_out"] is True
    assert client.get(f"/api/v1/rounds/{round_id}/runs").status_code in (401, 403)
    listed = client.get("/api/v1/").get_json()["endpoints"]
    assert any(e["path"] == "/api/v1/session" and "DELETE" in e["methods"] for e in listed)


def test_csv_export_names_its_charset_once_and_carries_decisions(app, staff, round_id, bare_run):
    response = staff.get(f"/staff/runs/{bare_run}/export.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    header = response.get_data().decode("utf-8-sig").splitlines()[0]
    assert "결정,결정 메모,결정한 사람" in header


@pytest.fixture
def big_run(app, round_id):
    """A run of 250 stored proposals over two tracks (no solve), leads spread over pages."""
    with db.transaction(app.config["DATABASE_URL"]) as s:
        firms = [add_firm(s, 100 + i, f"주관{i:03d}", "소기업") for i in range(250)]
        partners = [s.query(db.FirmRow).filter_by(brn=make_brn(n)).one() for n in (11, 12)]
        s.flush()
        row = db.MatchRunRow(round_id=round_id, track=None, status="optimal")
        for i, firm in enumerate(firms):
            track = "innovation" if i < 40 else "materials"
            row.proposals.append(db.ProposalRow(lead_id=firm.id, partner_id=partners[i % 2].id, track=track,
                                                score=i / 1000, status="proposed", explanation={}))
        s.add(row)
        s.flush()
        return row.id


def _leads_shown(page):
    return re.findall(r'id="p-(\d+)"', page)


def test_proposals_page_is_paginated_keeping_filters_and_sort(staff, big_run):
    first = staff.get(f"/staff/runs/{big_run}").get_data(as_text=True)
    assert first.count('class="proposal"') == 100 and 'data-complete="0"' in first
    assert "1–100 / 250" in first and f"/staff/runs/{big_run}?page=3" in first
    last = staff.get(f"/staff/runs/{big_run}?page=3").get_data(as_text=True)
    assert last.count('class="proposal"') == 50
    assert set(_leads_shown(first)).isdisjoint(_leads_shown(last))
    assert staff.get(f"/staff/runs/{big_run}?page=99").get_data(as_text=True).count('class="proposal"') == 50
    assert staff.get(f"/staff/runs/{big_run}?page=x").get_data(as_text=True).count('class="proposal"') == 100
    page = staff.get(f"/staff/runs/{big_run}?track=materials&sort=score&order=desc").get_data(as_text=True)
    scores = [float(v) for v in re.findall(r'data-value="([\d.]+)"', page)]
    assert len(scores) == 100 and scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(0.249)
    assert "1–100 / 210" in page and 'data-track="innovation"' not in page
    nxt = f"/staff/runs/{big_run}?page=2&amp;track=materials&amp;sort=score&amp;order=desc"
    links = re.findall(r'href="(/staff/runs/\d+\?[^"]+)"', page)
    assert any(set(l.split("?")[1].split("&amp;")) == set(nxt.split("?")[1].split("&amp;")) for l in links), links
    innovation = staff.get(f"/staff/runs/{big_run}?track=innovation").get_data(as_text=True)
    assert innovation.count('class="proposal"') == 40 and 'class="pages' not in innovation


def test_small_runs_stay_on_one_complete_page(staff, round_id, bare_run):
    page = staff.get(f"/staff/runs/{bare_run}").get_data(as_text=True)
    assert 'data-complete="1"' in page and 'class="pages' not in page


def test_a_decision_returns_to_the_page_it_was_made_on(app, staff, big_run):
    lead = make_brn(1)  # a lead of the seeded round (the stored proposals' firms have no applications)
    response = staff.post(f"/staff/runs/{big_run}/decide", data=dict(
        lead=lead, partner=make_brn(11), track="materials", kind="reject",
        listing_page="3", listing_track="materials", listing_next="//evil.example"))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "page=3" in location and "track=materials" in location and "evil" not in location
    assert location.endswith("#p-" + lead)


def test_pictures_of_a_big_run_default_to_the_first_track(staff, big_run):
    page = staff.get(f"/staff/runs/{big_run}/pictures").get_data(as_text=True)
    assert 'id="graph-capped"' in page
    assert page.count("<line") < 60  # innovation's 40 pairs, not all 250
    everything = staff.get(f"/staff/runs/{big_run}/pictures?track=all").get_data(as_text=True)
    assert 'id="graph-capped"' not in everything and everything.count("<line") >= 250


def test_pictures_of_a_small_run_show_every_track(staff, round_id, bare_run):
    page = staff.get(f"/staff/runs/{bare_run}/pictures").get_data(as_text=True)
    assert 'id="graph-capped"' not in page
