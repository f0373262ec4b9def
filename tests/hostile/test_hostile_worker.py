"""The job runner in its own processes (issue 22, item 13): a web server that leaves jobs queued and two
``matcher worker`` processes sharing its database (SKIP LOCKED on PostgreSQL) do every job exactly once."""

import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from helpers import seed_round
from hostile_server import ROOT
from matcher import db

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(live_db, start_server):
    seed_round(live_db)
    return start_server(env={"MATCHER_JOBS": "worker"})


def workers(url, n, *args):
    env = dict(os.environ, DATABASE_URL=url)
    return [subprocess.Popen([sys.executable, "-c", "from matcher.cli import main; main()", "worker", "--poll", "0.2", *args], cwd=ROOT,
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(n)]


def wait_done(client, ids, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [client.get(f"/api/v1/jobs/{i}").json() for i in ids]
        if all(j["status"] not in ("queued", "running") for j in jobs):
            return jobs
        time.sleep(0.5)
    raise AssertionError(jobs)


def test_queued_jobs_wait_for_a_worker_then_two_workers_do_each_once(server, live_db):
    client = server.client().login()
    ids = [client.post("/api/v1/rounds/1/runs", json_body={"track": "materials", "time_limit": limit}).json()["id"]
           for limit in (5, 6, 7, 8)]
    time.sleep(1.5)
    assert {client.get(f"/api/v1/jobs/{i}").json()["status"] for i in ids} == {"queued"}  # the web did none
    procs = workers(live_db, 2)
    try:
        jobs = wait_done(client, ids)
    finally:
        for p in procs:
            p.terminate()
        errors = [p.communicate(timeout=20)[1] for p in procs]
    assert [j["status"] for j in jobs] == ["done"] * 4, errors
    with db.transaction(live_db) as s:
        assert s.scalar(select(func.count()).select_from(db.MatchRunRow)) == 4
        assert len(set(s.scalars(select(db.JobRow.run_id).where(db.JobRow.id.in_(ids))))) == 4
    assert all("Traceback" not in e for e in errors), errors


def test_an_upload_is_imported_by_the_worker(server, live_db):
    client = server.client().login()
    procs = workers(live_db, 1)
    try:
        csv = "사업자등록번호,회사명,기업규모,설립일,지역\n107-81-53660,워커 기업,소기업,2021-03-02,서울특별시\n"
        answer = client.form("/staff/rounds/1/import/firms", {}, files={"file": ("w.csv", csv.encode())})
        assert answer.status == 302
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.transaction(live_db) as s:
                if s.scalar(select(db.FirmRow.name).where(db.FirmRow.brn == "1078153660")) == "워커 기업":
                    break
            time.sleep(0.3)
        else:
            raise AssertionError("the worker did not import the upload")
    finally:
        for p in procs:
            p.terminate()
            p.communicate(timeout=20)
