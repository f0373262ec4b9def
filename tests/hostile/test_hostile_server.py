"""The server itself under hostile clients and broken disks (issue 22, items 1, 8, 11): slow sockets,
leftover upload files, a read-only database at start-up — each against a real ``python -m web``."""

import os
import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpers import seed_round
from hostile_server import Server
from matcher import db

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def seeded(live_db):
    seed_round(live_db)
    return live_db


def slow_sockets(port, n):
    """``n`` connections that start a request and never finish it (slowloris)."""
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        held.append(s)
    return held


def test_a_hundred_and_ten_unfinished_requests_do_not_stop_the_server(live):
    held = slow_sockets(live.port, 110)
    try:
        started = time.monotonic()
        answer = live.client().get("/api/v1/rounds", timeout=10)
        assert answer.status == 200 and time.monotonic() - started < 10
    finally:
        for s in held:
            s.close()


def test_past_the_connection_limit_half_sent_requests_are_dropped_after_the_channel_timeout(start_server):
    server = start_server(env={"MATCHER_CONNECTION_LIMIT": "20", "MATCHER_CHANNEL_TIMEOUT": "2",
                               "MATCHER_CLEANUP_INTERVAL": "1"})
    held = slow_sockets(server.port, 25)
    try:
        started = time.monotonic()
        answer = server.client().get("/api/v1/rounds", timeout=20)
        waited = time.monotonic() - started
        assert answer.status == 200 and waited < 15, waited
        closed = 0
        for s in held[:20]:
            s.settimeout(0.5)
            try:
                closed += s.recv(1) == b""
            except (TimeoutError, ConnectionResetError):
                closed += 0
        assert closed >= 15  # the server hung up on the half-sent requests that held its slots
    finally:
        for s in held:
            s.close()


def test_orphaned_uploads_are_swept_at_start_up_and_a_waiting_one_kept(seeded, live_db, tmp_path_factory):
    instance = tmp_path_factory.mktemp("sweep")
    uploads = instance / "uploads"
    uploads.mkdir()
    orphan, waiting, fresh = uploads / "tmpold.csv", uploads / "tmpwaiting.csv", uploads / "tmpfresh.csv"
    for path in (orphan, waiting, fresh):
        path.write_text("사업자등록번호\n")
    hour_ago = time.time() - 3600
    os.utime(orphan, (hour_ago, hour_ago))
    os.utime(waiting, (hour_ago, hour_ago))
    with db.transaction(live_db) as s:
        s.add(db.JobRow(id="a" * 32, kind="import", round_id=1, status="queued",
                        heartbeat_at=db._now() + timedelta(hours=1),  # fresh however slow the start is
                        params=dict(kind="firms", path=str(waiting), filename="w.csv")))
    server = Server(live_db, instance)
    try:
        server.wait_ready()
        assert not orphan.exists() and waiting.exists() and fresh.exists()
    finally:
        server.stop()


def test_refused_and_bad_uploads_leave_no_file(seeded, live):
    client = live.client().login()
    uploads = live.instance / "uploads"
    bad_rows = "사업자등록번호,회사명,기업규모,설립일,지역\n123,,,,\n".encode()
    assert client.form("/staff/rounds/1/import/firms", {}, files={"file": ("bad.csv", bad_rows)}).status == 400
    answer = client.form("/staff/rounds/1/import/firms", {}, files={"file": ("a\x00b.csv", bad_rows)})
    assert answer.status == 400 and "U+0000" in answer.text, answer.text[:300]
    assert "Internal Server Error" not in answer.text
    assert list(uploads.glob("*")) == []


def _read_only(url):
    """The database made read-only: SQLite by its URL (mode=ro), PostgreSQL by default_transaction_read_only."""
    if url.startswith("sqlite"):
        return f"sqlite:///file:{make_url(url).database}?mode=ro&uri=true", None
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    return url, lambda: _writable(engine, name)


def _writable(engine, name):
    with engine.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off'))
    engine.dispose()


def test_starting_on_a_read_only_database_explains_and_serves_reads_and_503s(seeded, live_db, start_server):
    db.dispose_engines()
    url, undo = _read_only(live_db)
    try:
        server = start_server(url=url, env={"MATCHER_STAFF_PASSWORD": "a new password"})
        assert "Traceback" not in server.output()
        assert "read-only" in server.output() and "읽기 전용" in server.output()
        client = server.client()
        assert client.get("/api/v1/rounds").status == 200
        client.token()
        answer = client.post("/api/v1/session", json_body={"username": "staff", "password": "a new password"})
        assert answer.status == 401  # the new password could not be stored; the old one still holds
        client = server.client().login()
        answer = client.form("/staff/rounds/1/rename", {"name": "읽기 전용 회차"})
        assert answer.status == 503 and answer.header("Retry-After") and "읽기 전용" in answer.text, answer.text[:300]
    finally:
        if undo:
            undo()
