"""Review findings on the staff workbench and the JSON API: decisions on ineligible pairs, input checks,
logout, exports with decisions, a paginated proposals page and a one-track pictures page."""

from datetime import date

import pytest

from conftest_web import *  # noqa: F401,F403  (fixtures: app, client, staff, round_id)
from conftest_web import ROUND, db, make_brn


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
        message = response.get_json()["error"]["message"]
        assert kind in message and make_brn(11)[:3] in message and ROUND in message, message
        assert "부정당" in message or "debar" in message, message
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
    response = staff.post(f"/staff/runs/{bare_run}/decide", data=dict(form, kind="lock"))
    assert response.status_code == 400
    assert make_brn(11)[:3] in response.get_data(as_text=True)
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert s.query(db.DecisionRow).count() == 0
    response = staff.post(f"/staff/runs/{bare_run}/decide", data=dict(form, kind="forbid"))
    assert response.status_code == 302
    with db.transaction(app.config["DATABASE_URL"]) as s:
        assert [d.kind for d in s.query(db.DecisionRow)] == ["forbid"]
