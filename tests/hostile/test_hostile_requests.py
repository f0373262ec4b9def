"""Hostile requests through the real server: huge ids, bad JSON, failed writes (issue 22, items 4–6)."""

import pytest

from helpers import seed_round


@pytest.fixture(scope="module")
def server(live_db, live):
    seed_round(live_db)
    return live


@pytest.mark.parametrize("path", ["/api/v1/rounds/2147483648", "/api/v1/rounds/9223372036854775808",
                                  "/api/v1/rounds/99999999999999999999999", "/api/v1/runs/2147483648",
                                  "/staff/rounds/2147483648", "/staff/runs/9223372036854775808/proposals"])
def test_an_id_past_the_database_integer_is_a_404(server, path):
    client = server.client().login() if path.startswith("/staff") else server.client()
    answer = client.get(path)
    assert answer.status == 404, answer.text[:300]


def test_the_largest_id_a_database_keeps_is_still_an_ordinary_404(server):
    assert server.client().get("/api/v1/rounds/2147483647").status == 404


@pytest.mark.parametrize("body, says", [
    ("[" * 5000 + "]" * 5000, "nested more than 32 levels"),
    ('{"username": ' + "[" * 5000 + "]" * 5000 + "}", "nested more than 32 levels"),
    ('{"username": ' + "[" * 40 + "]" * 40 + ', "password": "x"}', "nested more than 32 levels"),
    ('{"username": "\\ud800", "password": "x"}', "lone surrogate U+D800"),
    ('{"username": "a", "password": "x\\udfff"}', "lone surrogate U+DFFF"),
    ('{"username": "a", "password": "x\\u0000"}', "control character U+0000"),
    ('{"username": "a", ', "not valid JSON: line 1"),
])
def test_bad_json_is_a_400_saying_what_is_wrong(server, body, says):
    client = server.client()
    client.token(lang="en")
    answer = client.post("/api/v1/session", json_body=body)
    assert answer.status == 400, answer.text[:300]
    assert says in answer.json()["error"]["message"]


def test_bad_json_in_a_staff_request_is_a_400_too(server):
    client = server.client().login()
    for path in ("/api/v1/rounds/1/decisions", "/api/v1/rounds/1/runs"):
        for body in ('{"lead": "\\ud800", "partner": "x", "kind": "approve"}', '{"note": "\\udc00"}',
                     '{"track": "\\ud83d"}', "[" * 3000 + "]" * 3000):
            answer = client.post(path, json_body=body)
            assert answer.status == 400, (path, body[:40], answer.text[:300])


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/rounds/1/runs", {"track": "materials", "time_limit": True}, "time_limit"),
    ("/api/v1/rounds/1/runs", {"track": "materials", "time_limit": "10"}, "time_limit"),
    ("/api/v1/rounds/1/runs", {"track": ["materials"]}, "track"),
    ("/api/v1/rounds/1/decisions", {"lead": "1", "partner": "2", "kind": "approve", "note": {"x": 1}}, "note"),
    ("/api/v1/rounds/1/decisions", {"lead": 1078153660, "partner": "2", "kind": "approve"}, "lead"),
    ("/api/v1/session", {"username": ["staff"], "password": "x"}, "username"),
])
def test_a_field_of_the_wrong_type_is_a_400_naming_it(server, path, body, field):
    client = server.client().login()
    client.token(lang="en")
    answer = client.post(path, json_body=body)
    assert answer.status == 400, answer.text[:300]
    assert f"field '{field}' must be" in answer.json()["error"]["message"]


def test_retrying_a_finished_run_is_a_409_and_starts_nothing(server, live_db):
    import time

    from sqlalchemy import func, select

    from matcher import db
    client = server.client().login()
    job = client.post("/api/v1/rounds/1/runs", json_body={"track": "materials", "time_limit": 5}).json()
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.3)
        job = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert job["status"] == "done" and job["actions"] == []
    with db.transaction(live_db) as s:
        jobs = s.scalar(select(func.count()).select_from(db.JobRow))
    answer = client.post(f"/api/v1/jobs/{job['id']}/retry")
    assert answer.status == 409, answer.text[:300]
    with db.transaction(live_db) as s:
        assert s.scalar(select(func.count()).select_from(db.JobRow)) == jobs


def test_an_interrupted_import_offers_no_retry(server, live_db):
    from datetime import timedelta

    from matcher import db
    with db.transaction(live_db) as s:
        old = db._now() - timedelta(hours=1)
        s.add(db.JobRow(id="f" * 32, kind="import", round_id=1, params=dict(kind="firms", path="/nowhere.csv",
                                                                             filename="a.csv"),
                        status="running", heartbeat_at=old, created_at=old, message="importing a.csv"))
    client = server.client().login()
    job = client.get("/api/v1/jobs/" + "f" * 32).json()
    assert job["status"] == "interrupted" and job["actions"] == []
    assert 'id="job-retry"' not in client.get("/staff/jobs/" + "f" * 32).text
