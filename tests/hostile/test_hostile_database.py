"""A database that is locked, read-only or gone, through the real server (issue 22, items 6 and 8):
503 with Retry-After and a message in the page's language, never waitress's bare "Internal Server Error"."""

import contextlib
import sqlite3

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpers import make_brn, seed_round


@pytest.fixture(scope="module")
def server(live_db, start_server):
    seed_round(live_db)
    return start_server(env={"MATCHER_DB_BUSY_TIMEOUT": "1"})


@contextlib.contextmanager
def write_lock(url):
    """Hold the database's write lock (SQLite) or an exclusive lock on ``rounds`` (PostgreSQL) meanwhile."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(make_url(url).database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.rollback()
            conn.close()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE rounds IN ACCESS EXCLUSIVE MODE NOWAIT"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def test_a_write_on_a_locked_database_is_a_503_with_the_korean_page(server, live_db):
    client = server.client().login()
    with write_lock(live_db):
        answer = client.form("/staff/rounds/1/rename", {"name": "잠긴 회차"})
    assert answer.status == 503, answer.text[:500]
    assert answer.header("Retry-After") == "5"
    assert "데이터베이스를 다른 작업이 쓰고 있어" in answer.text and "<html" in answer.text
    assert "Internal Server Error" not in answer.text and "INSERT" not in answer.text and "UPDATE" not in answer.text
    after = client.form("/staff/rounds/1/rename", {"name": "풀린 회차"})  # the server got over it
    assert after.status == 302, after.text[:500]


def test_a_locked_database_is_a_503_in_the_api_too(server, live_db):
    client = server.client().login()
    client.get("/api/v1/csrf-token?lang=en")
    with write_lock(live_db):
        answer = client.post("/api/v1/rounds/1/decisions",
                             json_body={"lead": make_brn(1), "partner": make_brn(11), "kind": "approve"})
    assert answer.status == 503, answer.text[:500]
    assert answer.json()["error"]["message"].startswith("The database is busy")
