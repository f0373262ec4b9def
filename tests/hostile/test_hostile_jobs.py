"""A run that fails on the database shows staff a plain message, never the SQL (issue 22, item 8)."""

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from matcher import rounds
from matcher.rounds import jobs


class FakeDriverError(Exception):
    pass


@pytest.mark.parametrize("error, driver_text, shown", [
    (OperationalError, "database or disk is full", "디스크가 가득"),
    (ProgrammingError, "no such savepoint: sa_savepoint_1", "예기치 못한 오류"),
])
def test_a_run_failing_on_the_database_shows_a_plain_message(app, staff, db_url, round_id, monkeypatch,
                                                             error, driver_text, shown):
    def broken(*args, **kwargs):
        raise error("INSERT INTO proposals (run_id, lead_id) VALUES (?, ?)", (1, 2), FakeDriverError(driver_text))

    monkeypatch.setattr(jobs, "store_run", broken)
    monkeypatch.setattr(jobs, "start_in_thread", lambda url, job_id: None)
    with app.app_context():
        from web.store import db_session
        job, _new = rounds.submit_match(db_session(), round_id, "materials", time_limit=5, actor="staff")
        db_session().commit()
    jobs.work(db_url, job.id)
    page = staff.get(f"/staff/jobs/{job.id}").get_data(as_text=True)
    assert shown in page
    data = staff.get(f"/api/v1/jobs/{job.id}").get_json()
    assert data["status"] == "failed"
    for leak in ("INSERT", "proposals", "savepoint", "OperationalError", "[SQL"):
        assert leak not in page and leak not in data["error"], leak
