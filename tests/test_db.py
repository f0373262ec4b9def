"""Storage: engine creation and schema errors are clear messages, never tracebacks."""

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from matcher import db
from matcher.cli import main
from matcher.errors import MatcherError

from helpers import make_brn


@pytest.fixture(autouse=True)
def _fresh_engines():
    yield
    db.dispose_engines()


@pytest.mark.parametrize("url, says", [
    ("sqlite:////nonexistent/d/x.sqlite", "cannot open the database sqlite:////nonexistent/d/x.sqlite"),
    ("bogus://x", "cannot use DATABASE_URL bogus://x"),
    ("bogus", "cannot use DATABASE_URL 'bogus'"),
])
def test_bad_database_urls_are_matcher_errors(url, says):
    with pytest.raises(MatcherError, match="cannot") as info:
        db.init_db(url)
    assert says in str(info.value)


def test_the_password_is_never_shown():
    with pytest.raises(MatcherError) as info:
        db.init_db("bogus://user:s3cret@host/db")
    assert "s3cret" not in str(info.value) and "user:***@host" in str(info.value)


@pytest.mark.parametrize("url", ["sqlite:////nonexistent/d/x.sqlite", "bogus://x"])
def test_init_db_command_exits_2_without_a_traceback(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["init-db"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "error: cannot" in result.output


def test_a_good_url_still_works(tmp_path):
    url = f"sqlite:///{tmp_path / 'ok.sqlite'}"
    assert db.init_db(url).url.database.endswith("ok.sqlite")


# --- concurrent writers on SQLite -------------------------------------------------------------

MATCHER = str(Path(sys.executable).parent / "matcher")  # the venv's console script
FIRMS = "사업자등록번호,회사명,기업규모,지역\n107-81-53660,한빛테크,소기업,서울\n"


def _hold_write_lock(path):
    """Another process's import in the middle of its transaction: a connection holding the write lock."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO audit_log (at, actor, action, detail) VALUES ('2026-01-01', 'x', 'hold', '{}')")
    return holder


def _import(url, path, timeout):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DATABASE_URL": url, "MATCHER_DB_BUSY_TIMEOUT": str(timeout)}
    return subprocess.run([MATCHER, "import", "firms", str(path)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_an_import_while_another_writer_holds_the_lock_waits_then_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    db.init_db(url)
    csv = tmp_path / "firms.csv"
    csv.write_text(FIRMS, encoding="utf-8")
    holder = _hold_write_lock(tmp_path / "busy.sqlite")
    try:
        result = _import(url, csv, 1)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "the database is busy: another import or run kept it locked for more than 1 s" in result.stderr
    assert "데이터베이스를 다른 작업" in db.BusyError(1).text("ko")  # the same error with --lang ko
    with db.transaction(url) as s:
        assert s.scalar(select(func.count()).select_from(db.FirmRow)) == 0


def test_an_import_waits_for_the_other_writer_to_finish(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    db.init_db(url)
    csv = tmp_path / "firms.csv"
    csv.write_text(FIRMS, encoding="utf-8")
    holder = _hold_write_lock(tmp_path / "busy.sqlite")
    release = threading.Timer(1.5, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        result = _import(url, csv, 30)
    finally:
        release.join()
        holder.close()
    assert result.returncode == 0, result.stderr
    assert "firms: 1 inserted" in result.stdout


@pytest.mark.slow
def test_concurrent_cli_imports_all_land(tmp_path):
    """Four imports of different firms at once, each reading then writing: none dies of 'database is locked'."""
    url = f"sqlite:///{tmp_path / 'many.sqlite'}"
    db.init_db(url)
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"DATABASE_URL": url}
    procs = []
    for n in range(4):
        rows = []
        for i in range(300):
            rows.append(f"{make_brn(300 * n + i)},기업{n}-{i},소기업,서울")
        path = tmp_path / f"firms{n}.csv"
        path.write_text("사업자등록번호,회사명,기업규모,지역\n" + "\n".join(rows) + "\n", encoding="utf-8")
        procs.append(subprocess.Popen([MATCHER, "import", "firms", str(path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    with db.transaction(url) as s:
        assert s.scalar(select(func.count()).select_from(db.FirmRow)) == 1200


def test_only_the_factory_s_sessions_note_their_writes_and_forget_their_reads(db_url):
    """The listeners are on the session factory (matcher.db.session_factory), not on SQLAlchemy's Session
    class: another library's session, or a plain one, is left alone."""
    from datetime import date

    from sqlalchemy.orm import Session
    engine = db.get_engine(db_url)
    before = db.commits(engine, ["rounds"])
    with Session(engine) as s:
        s.add(db.RoundRow(name="밖", reference_date=date(2026, 1, 1), open_tracks=[]))
        s.flush()
        assert not db.wrote(s) and db.remembered(s) == {}
        db.remembered(s)["kept"] = 1
        assert db.remembered(s) == {}  # nothing is kept where nothing would forget it
        s.commit()
    assert db.commits(engine, ["rounds"]) == before
    with db.transaction(db_url) as s:
        db.remembered(s)["rounds"] = "read before the write"
        s.add(db.RoundRow(name="안", reference_date=date(2026, 1, 1), open_tracks=[]))
        s.flush()
        assert db.wrote(s) and db.remembered(s) == {}
    assert db.commits(engine, ["rounds"]) == before + 1 and db.commits(engine, ["firms"]) == 0
