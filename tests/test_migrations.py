"""Schema migrations: a database made before migrations keeps every row; models and migrations agree."""

from datetime import date
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine, func, inspect, select, text

from matcher import db
from matcher.cli import main

FROZEN_DDL = Path(__file__).parent / "data" / "schema_before_migrations.sqlite.sql"
"""The schema as ``create_all`` made it before the migrations existed (main at commit 70aa25c): revision 0001."""
TABLES = ["firms", "certificates", "rounds", "applications", "match_runs", "proposals", "decisions",
          "interests", "users", "audit_log"]


@pytest.fixture(autouse=True)
def _fresh_engines():
    yield
    db.dispose_engines()


def frozen_ddl(conn):
    lines = [line for line in FROZEN_DDL.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement)


def fill(conn):
    """One row in every table of the schema before migrations, written as plain SQL (no ORM of today)."""
    conn.execute(text(
        "INSERT INTO firms (id, brn, name, size_class, region, founded, ksic_codes, g2b_codes, description, "
        "licences, affiliate_group, updated_at) VALUES (1, '1078153660', '가나 전자', '소기업', '대전', "
        "'2015-01-01', '[\"26421\"]', '[\"46171610\"]', 'CCTV', '[]', NULL, '2026-01-01 00:00:00'), "
        "(2, '2208107080', '다라 소재', '대기업', '경기', NULL, '[]', '[]', '', '[]', '다라', '2026-01-01 00:00:00')"))
    conn.execute(text("INSERT INTO certificates (id, firm_id, kind, code, valid_from, valid_to) "
                      "VALUES (1, 2, 'patent', '46171610', '2024-01-01', '2027-12-31')"))
    conn.execute(text("INSERT INTO rounds (id, name, reference_date, open_tracks, rule_overrides, created_at) "
                      "VALUES (1, '2026년 2차', '2026-03-19', '[\"materials\"]', '{}', '2026-01-01 00:00:00')"))
    conn.execute(text("INSERT INTO applications (id, round_id, firm_id, role, track, product_code, text, preferences) "
                      "VALUES (1, 1, 1, 'lead', 'materials', '4617161001234567', '카메라', '[]'), "
                      "(2, 1, 2, 'partner', 'materials', '', '렌즈', '[]')"))
    conn.execute(text("INSERT INTO match_runs (id, round_id, track, created_at, created_by, fingerprint, params, "
                      "status, objective, diagnostics) VALUES (1, 1, NULL, '2026-01-02 00:00:00', 'cli', 'ab', '{}', "
                      "'optimal', 0.5, '{}')"))
    conn.execute(text("INSERT INTO proposals (id, run_id, track, lead_id, partner_id, score, explanation, status) "
                      "VALUES (1, 1, 'materials', 1, 2, 0.5, '{}', 'proposed')"))
    conn.execute(text("INSERT INTO decisions (id, round_id, lead_id, partner_id, track, kind, note, decided_by, "
                      "decided_at) VALUES (1, 1, 1, 2, 'materials', 'lock', '좋음', 'staff', '2026-01-02 00:00:00')"))
    conn.execute(text("INSERT INTO interests (id, round_id, lead_id, partner_id, track, note, created_at) "
                      "VALUES (1, 1, 1, 2, 'materials', '연락 바람', '2026-01-02 00:00:00')"))
    conn.execute(text("INSERT INTO users (id, username, password_hash, role, active) "
                      "VALUES (1, 'staff', 'pbkdf2:sha256:1000$x$y', 'staff', TRUE)"))
    conn.execute(text("INSERT INTO audit_log (id, at, actor, action, detail) "
                      "VALUES (1, '2026-01-02 00:00:00', 'cli', 'round.create', '{\"round\": \"2026년 2차\"}')"))


def assert_every_row_found(url):
    with db.transaction(url) as s:
        for table in TABLES:
            assert s.scalar(text(f"SELECT count(*) FROM {table}")) == (2 if table in ("firms", "applications")
                                                                       else 1), table
        firm = db.get_firm(s, "107-81-53660")
        assert (firm.name, firm.founded, firm.ksic_codes) == ("가나 전자", date(2015, 1, 1), ["26421"])
        assert db.get_firm(s, "2208107080").certificates[0].code == "46171610"
        rnd = db.get_round(s, "2026년 2차")
        assert [a.firm.brn for a in sorted(rnd.applications, key=lambda a: a.id)] == ["1078153660", "2208107080"]
        assert s.get(db.DecisionRow, 1).note == "좋음" and s.get(db.InterestRow, 1).note == "연락 바람"
        assert s.get(db.MatchRunRow, 1).proposals[0].score == 0.5
        assert s.get(db.AuditRow, 1).detail == {"round": "2026년 2차"}
        assert s.scalar(select(db.UserRow.username)) == "staff"


def test_a_sqlite_database_made_by_create_all_before_migrations_is_upgraded_with_every_row(tmp_path):
    path = tmp_path / "old.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        frozen_ddl(conn)
        fill(conn)
    engine.dispose()
    url = f"sqlite:///{path}"
    result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert f"database at revision {db.head_revision()}" in result.output
    assert_every_row_found(url)


def test_the_baseline_revision_is_the_schema_before_migrations(tmp_path):
    """Migrating an empty SQLite file to 0001 gives the same tables, columns and indexes as the frozen DDL."""
    frozen = create_engine(f"sqlite:///{tmp_path / 'frozen.sqlite'}")
    with frozen.begin() as conn:
        frozen_ddl(conn)
    migrated_url = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    db.upgrade(migrated_url, db.BASELINE_REVISION)

    def shape(engine):
        insp = inspect(engine)
        return {t: (sorted((c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)),
                    sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
                    sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
                    sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(t)))
                for t in insp.get_table_names() if t != "alembic_version"}

    assert shape(frozen) == shape(db.get_engine(migrated_url))
    frozen.dispose()


def test_a_database_left_at_the_baseline_without_alembic_version_is_upgraded(db_url_at_baseline):
    """Same on whichever database the suite runs (PostgreSQL too): tables of 0001, no alembic_version."""
    engine = create_engine(db_url_at_baseline)
    with engine.begin() as conn:
        fill(conn)
    engine.dispose()
    db.init_db(db_url_at_baseline)
    assert_every_row_found(db_url_at_baseline)
    with db.get_engine(db_url_at_baseline).connect() as conn:
        assert db.current_revision(conn) == db.head_revision()


def test_the_models_match_the_newest_migration(db_url):
    """Whoever changes a model adds a revision: no difference between models and the migrated schema."""
    with db.get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.Base.metadata)
    assert diff == []


def test_upgrading_twice_changes_nothing(db_url):
    with db.transaction(db_url) as s:
        s.add(db.RoundRow(name="남는 회차", reference_date=date(2026, 1, 1), open_tracks=[]))
    db.dispose_engines()
    db.upgrade(db_url)
    with db.transaction(db_url) as s:
        assert s.scalar(select(func.count()).select_from(db.RoundRow)) == 1


def test_db_current_says_whether_an_upgrade_is_needed(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    db.upgrade(url, db.BASELINE_REVISION)
    result = CliRunner().invoke(main, ["db", "current", "--database-url", url])
    assert result.exit_code == 0
    expected = "up to date" if db.head_revision() == db.BASELINE_REVISION else "needs: matcher db upgrade"
    assert expected in result.output
