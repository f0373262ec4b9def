"""Storage: the SQLAlchemy 2.x schema and sessions.

SQLite file ``matcher.sqlite`` in the instance folder by default (:func:`matcher.paths.instance_dir`); any ``DATABASE_URL`` (for example
``postgresql+psycopg://user:pw@host/db``) is accepted. Writes happen in transactions
(:func:`transaction`); the schema is created and upgraded by Alembic migrations shipped in
``matcher/migrations`` (``matcher db upgrade``, also run by :func:`init_db`).

ORM rows convert to the engine's plain dataclasses with :func:`firm_from_row` and
:func:`application_from_row`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import (JSON, BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Integer, LargeBinary,
                        String, Text, UniqueConstraint, create_engine, event, inspect, select, text)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (ArgumentError, DisconnectionError, InterfaceError, InternalError, NoSuchModuleError,
                            OperationalError)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

from .errors import MatcherError, NotFoundError
from .messages import msg as _msg
from .firms import Application, Certificate, Firm, Licence
from .paths import instance_dir
from .text import ascii_digits


def default_db_path():
    """``matcher.sqlite`` in the instance folder (:func:`matcher.paths.instance_dir`)."""
    return instance_dir() / "matcher.sqlite"


def database_url(url=None):
    """The URL to use: ``url``, else ``$DATABASE_URL``, else the SQLite file in the instance folder."""
    url = url or os.environ.get("DATABASE_URL")
    if url:
        return url
    path = default_db_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{path}"


ID_MAX = 2**31 - 1
"""The largest id any table holds (PostgreSQL's ``integer``; SQLite's goes to 2⁶³ − 1): a larger one is no record."""


def as_id(value):
    """``value`` as a record id when it is one (digits, at most :data:`ID_MAX`), else None.

    Examples
    --------
    >>> as_id("12"), as_id("2147483648"), as_id("x")
    (12, None, None)
    """
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if number <= ID_MAX else None


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict: JSON, list: JSON}


class FirmRow(Base):
    __tablename__ = "firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    brn: Mapped[str] = mapped_column(String(10), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    size_class: Mapped[str] = mapped_column(String(10))
    region: Mapped[str] = mapped_column(String(20))
    founded: Mapped[date | None] = mapped_column(Date)
    ksic_codes: Mapped[list] = mapped_column(JSON, default=list)
    g2b_codes: Mapped[list] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    licences: Mapped[list] = mapped_column(JSON, default=list)  # [{"kind": "general", "work_type": "건축"}]
    debarred_from: Mapped[date | None] = mapped_column(Date)
    debarred_to: Mapped[date | None] = mapped_column(Date)
    affiliate_group: Mapped[str | None] = mapped_column(String(50))
    members: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)  # 조합원수 (1 unless a 조합)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now, index=True)
    # the person the other firm reaches once both said yes (matcher.rounds.interest); the firm edits it
    contact_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact_role: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="", server_default="")

    certificates: Mapped[list["CertificateRow"]] = relationship(
        back_populates="firm", cascade="all, delete-orphan", order_by="CertificateRow.id")


class CertificateRow(Base):
    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(20), default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    firm: Mapped[FirmRow] = relationship(back_populates="certificates")


class RoundRow(Base):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    reference_date: Mapped[date] = mapped_column(Date)
    open_tracks: Mapped[list] = mapped_column(JSON, default=list)
    rule_overrides: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    # the selection (matcher.rounds.stages): stage keys in order (None: data/stages.toml), products per track
    stages: Mapped[list | None] = mapped_column(JSON)
    quotas: Mapped[dict | None] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    published_by: Mapped[str] = mapped_column(String(100), default="", server_default="")

    applications: Mapped[list["ApplicationRow"]] = relationship(
        back_populates="round", cascade="all, delete-orphan")


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("round_id", "firm_id", "role", "track"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    track: Mapped[str] = mapped_column(String(20))
    product_code: Mapped[str] = mapped_column(String(16), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    preferences: Mapped[list] = mapped_column(JSON, default=list)  # BRNs, best first

    round: Mapped[RoundRow] = relationship(back_populates="applications")
    firm: Mapped[FirmRow] = relationship()


class MatchRunRow(Base):
    """One batch solve of a round (or one track of it) and its outcome."""

    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    track: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    diagnostics: Mapped[dict] = mapped_column(JSON, default=dict)
    model: Mapped[str] = mapped_column(String(40), default="hand", server_default="hand")  # weights: "hand" or a version

    proposals: Mapped[list["ProposalRow"]] = relationship(
        back_populates="run", cascade="all, delete-orphan", order_by="ProposalRow.id")


class ProposalRow(Base):
    """A pair a run proposes, with its score explanation (JSON of the scoring's explanation object)."""

    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    track: Mapped[str] = mapped_column(String(20))
    lead_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="proposed")  # proposed/approved/rejected

    run: Mapped[MatchRunRow] = relationship(back_populates="proposals")
    lead: Mapped[FirmRow] = relationship(foreign_keys=[lead_id])
    partner: Mapped[FirmRow] = relationship(foreign_keys=[partner_id])


class DecisionRow(Base):
    """A staff decision on a pair in a round: approve, reject, lock (must be chosen) or forbid (never).

    Decisions belong to the round, not to a run, so they survive a re-solve.
    """

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("round_id", "lead_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    track: Mapped[str] = mapped_column(String(20), default="")
    kind: Mapped[str] = mapped_column(String(10))  # approve / reject / lock / forbid
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=_now, onupdate=_now)


class DecisionEventRow(Base):
    """One staff decision as it was taken (approve/reject/lock/forbid/clear, who, when, note): the history.

    :class:`DecisionRow` holds the latest decision of each pair (the one that counts); a ``clear``
    deletes it there and is kept here.
    """

    __tablename__ = "decision_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    track: Mapped[str] = mapped_column(String(20), default="")
    kind: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class JobRow(Base):
    """Background work (a matching run, ``kind="match"``, or an upload, ``kind="import"``) with its progress,
    kept in the database.

    ``status``: queued, running, done, failed, cancelled; a running job whose ``heartbeat_at`` is
    old is shown as interrupted (its worker died). ``fingerprint`` identifies the inputs, so an
    identical request joins the job already running.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="match")
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64), default="", index=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    fraction: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    error_ko: Mapped[str] = mapped_column(Text, default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("match_runs.id", ondelete="SET NULL"))
    result: Mapped[dict] = mapped_column(JSON, default=dict)  # an import's counts, repairs or problems
    actor: Mapped[str] = mapped_column(String(100), default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class InterestRow(Base):
    """One firm's interest in pairing with another in a round's track, and the other firm's answer.

    One row per pair: ``sender`` (lead or partner) sent it; ``status`` is sent, seen, accepted or
    declined. Accepted is mutual interest (:mod:`matcher.rounds.interest`).
    """

    __tablename__ = "interests"
    __table_args__ = (UniqueConstraint("round_id", "lead_id", "partner_id", "track"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    track: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    sender: Mapped[str] = mapped_column(String(10), default="lead", server_default="lead")
    status: Mapped[str] = mapped_column(String(10), default="sent", server_default="sent")
    reply: Mapped[str] = mapped_column(Text, default="", server_default="")
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)


class FirmAccessRow(Base):
    """A firm's access code in a round (only its sha256 is kept); revoked when ``revoked_at`` is set."""

    __tablename__ = "firm_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class StageEventRow(Base):
    """One step of a candidate pair through the selection (a stage's score, or the outcome), as recorded.

    Never edited: a correction is a newer event of the same stage (:mod:`matcher.rounds.stages`).
    """

    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("firms.id"))
    track: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    held_on: Mapped[date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class ProductRow(Base):
    """A 상생협력제품: a selected pair's product, confirmed on a day for three years."""

    __tablename__ = "cooperation_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("firms.id"), index=True)
    track: Mapped[str] = mapped_column(String(20))
    product_code: Mapped[str] = mapped_column(String(10), default="")  # 세부품명번호
    confirmed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(100), default="")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="staff")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A login session records this; logout and a password change increment it (matcher.users.end_sessions).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditRow(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class ModelChoiceRow(Base):
    """Staff choosing the scoring weights (``hand`` or a model version, :mod:`matcher.learning.artifact`);
    the latest row counts, the earlier ones are the history."""

    __tablename__ = "model_choices"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    chosen_by: Mapped[str] = mapped_column(String(100), default="")
    chosen_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class SearchIndexRow(Base):
    """The directory's stored search index (see :mod:`matcher.directory.store`); bytes in the chunks."""

    __tablename__ = "search_indexes"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(300))
    format: Mapped[int] = mapped_column(Integer, default=1)
    method: Mapped[str] = mapped_column(String(10), default="char")
    firms: Mapped[int] = mapped_column(Integer, default=0)
    applications: Mapped[int] = mapped_column(Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    fitted: Mapped[str] = mapped_column(String(20), default="fit")  # fit / transform (a stored model reused)
    built_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class SearchIndexChunkRow(Base):
    __tablename__ = "search_index_chunks"

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("search_indexes.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CodeListVersionRow(Base):
    """A code list loaded by staff (KSIC, 경쟁제품 or G2B 물품분류) with the date it takes effect.

    ``entries`` is the list's table as rows (see :data:`matcher.codelists.COLUMNS`); ``sha256`` its content,
    so loading an unchanged file again changes nothing (:func:`matcher.codelists.store_version`).
    """

    __tablename__ = "code_list_versions"
    __table_args__ = (UniqueConstraint("kind", "valid_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    revision: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[list] = mapped_column(JSON, default=list)
    loaded_by: Mapped[str] = mapped_column(String(100), default="")
    loaded_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


# --- engine and sessions ----------------------------------------------------------------------

_engines = {}


def get_engine(url=None):
    """One engine per URL (SQLite gets foreign keys switched on).

    Raises
    ------
    MatcherError
        When the URL cannot be used (malformed, or a database kind with no driver installed);
        the message names the URL with its password hidden.
    """
    url = database_url(url)
    if url not in _engines:
        sqlite = url.startswith("sqlite")
        try:
            engine = create_engine(url, future=True, connect_args=_connect_args(url))
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise MatcherError(f"cannot use DATABASE_URL {_shown(url)}: {exc}") from None
        if sqlite:
            _private_file(engine.url.database)
            event.listen(engine, "connect", _sqlite_pragmas)
        _engines[url] = engine
    return _engines[url]


def _connect_args(url):
    """SQLite waits :func:`busy_timeout` for a writer; PostgreSQL waits as long for a lock (``lock_timeout``),
    so a locked table is an error to report (503) rather than a request that never ends."""
    if url.startswith("sqlite"):
        return {"timeout": busy_timeout()}
    if url.startswith("postgresql"):
        return {"options": f"-c lock_timeout={int(busy_timeout() * 1000)}"}
    return {}


def _private_file(database):
    """Create a new SQLite file readable by its owner only (0600: it holds password hashes).

    SQLite gives its journal the database file's mode. An existing file is left as it is, except the
    default one in the instance folder, which is tightened to 0600.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    try:
        if not path.exists() and path.parent.is_dir():
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        elif path.resolve() == default_db_path().resolve() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError:
        pass  # a missing folder or no permission: reported when the database is opened


def busy_timeout():
    """Seconds a writer waits for another one to finish (SQLite's busy timeout, PostgreSQL's lock timeout):
    ``$MATCHER_DB_BUSY_TIMEOUT``, else 30."""
    try:
        return max(0.0, float(os.environ.get("MATCHER_DB_BUSY_TIMEOUT", "30")))
    except ValueError:
        raise MatcherError(f"MATCHER_DB_BUSY_TIMEOUT {os.environ['MATCHER_DB_BUSY_TIMEOUT']!r} is not "
                           "a number of seconds") from None


def _shown(url):
    """``url`` as it may be shown to a user: with the password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", str(url)))


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def dispose_engines():
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factories.clear()


MIGRATIONS = "matcher:migrations"
BASELINE_REVISION = "0001"  # the schema main had before migrations (commit 70aa25c)
_ADVISORY_LOCK = 727_274_001  # PostgreSQL: one upgrade at a time


def alembic_config(connection=None):
    """An Alembic :class:`~alembic.config.Config` for the shipped migrations (``matcher/migrations``)."""
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


_heads = {}


def head_revision():
    """The newest revision of the shipped migrations."""
    if "head" not in _heads:
        from alembic.script import ScriptDirectory
        _heads["head"] = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return _heads["head"]


def current_revision(connection):
    """The database's revision (``alembic_version``), or None when it has none."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(url=None, revision="head"):
    """Bring the schema up to ``revision`` (the newest by default); returns the engine.

    An empty database gets every migration; one made by ``create_all`` before migrations existed
    (tables but no ``alembic_version``) is first stamped at :data:`BASELINE_REVISION`, so its rows
    are kept. Safe to run again and from several processes at once (PostgreSQL takes an advisory lock).

    Raises
    ------
    MatcherError
        When the database cannot be reached or created (a missing folder, no permission,
        a server that does not answer); the message names the URL with its password hidden.
    """
    from alembic import command
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            if revision == "head" and current_revision(conn) == head_revision():
                return engine
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
            config = alembic_config(conn)
            if current_revision(conn) is None and inspect(conn).has_table("firms"):
                command.stamp(config, BASELINE_REVISION)
            command.upgrade(config, revision)
    except (OperationalError, InterfaceError) as exc:
        reason = str(exc.orig) if getattr(exc, "orig", None) is not None else str(exc)
        shown = engine.url.render_as_string(hide_password=True)
        raise MatcherError(f"cannot open the database {shown}: {reason}") from None
    return engine


def init_db(url=None):
    """Create or upgrade the schema to the newest migration (:func:`upgrade`); returns the engine."""
    return upgrade(url)


_factories = {}
_commits = {}
"""``{(database URL, table): commits}`` of this process's sessions that changed the table (see :func:`commits`)."""


def session_factory(url=None):
    """The session factory of ``url``'s engine, made once per engine. Its sessions note what their transaction
    wrote (:func:`wrote`, :func:`commits`) and forget what it remembered (:func:`remembered`) when it writes
    or ends: listeners on this factory, not on SQLAlchemy's ``Session`` class for every session of the process.
    """
    engine = get_engine(url)
    factory = _factories.get(engine)
    if factory is None:
        factory = sessionmaker(bind=engine, expire_on_commit=False, future=True, info={"tracked": True})
        event.listen(factory, "after_flush", _after_flush)
        event.listen(factory, "after_commit", _after_commit)
        event.listen(factory, "after_rollback", _after_rollback)
        _factories[engine] = factory
    return factory


def remembered(session):
    """A dict in which a transaction may keep what it read (rounds, firms), emptied whenever it writes, commits
    or rolls back; a fresh dict every time for a session not made by :func:`session_factory` (nothing kept)."""
    if not session.info.get("tracked"):
        return {}
    return session.info.setdefault("remembered", {})


def wrote(session):
    """Whether ``session``'s transaction has written (flushed: on SQLite it then holds the write lock)."""
    return bool(session.info.get("wrote"))


def commits(bind, tables):
    """How many commits of this process's sessions (from :func:`session_factory`) changed any of ``tables`` in
    the database of ``bind``: a number that grows whenever such a change is committed."""
    key = bind.url.render_as_string(hide_password=False)
    return sum(_commits.get((key, table), 0) for table in tables)


def _after_flush(session, _context):
    session.info["wrote"] = True
    session.info.pop("remembered", None)  # its answers may have changed
    changed = session.info.setdefault("changed", set())
    changed.update(obj.__table__.name for obj in (*session.new, *session.dirty, *session.deleted)
                   if hasattr(obj, "__table__"))


def _after_commit(session):
    changed = session.info.pop("changed", set())
    for name in ("remembered", "wrote"):
        session.info.pop(name, None)  # another transaction may see other rows
    if changed and session.bind is not None:
        key = session.bind.url.render_as_string(hide_password=False)
        for table in changed:
            _commits[(key, table)] = _commits.get((key, table), 0) + 1


def _after_rollback(session):
    for name in ("remembered", "wrote", "changed"):
        session.info.pop(name, None)


@contextmanager
def transaction(url=None, immediate=False):
    """A session whose work is committed together, or rolled back whole on any error.

    ``immediate`` (for a writer that reads first, such as an import): on SQLite the write lock is taken
    at the start (``BEGIN IMMEDIATE``), so two such writers queue on the busy timeout instead of one of
    them failing with "database is locked" when both try to write.
    """
    session = session_factory(url)()
    try:
        if immediate and session.get_bind().dialect.name == "sqlite":
            # pysqlite has not begun yet (it begins lazily before the first write): take the lock now
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_busy(exc):
    """Whether ``exc`` is SQLite's "database is locked" (another writer outlasted the busy timeout)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


TROUBLES = ("locked", "read_only", "full", "unavailable")
_TROUBLE_STATES = {"55P03": "locked", "40P01": "locked", "25006": "read_only", "53100": "full", "53200": "full"}
_TROUBLE_TEXTS = (("database is locked", "locked"), ("readonly database", "read_only"),
                  ("read-only", "read_only"), ("disk is full", "full"), ("no space left", "full"),
                  ("disk full", "full"))


def trouble(exc):
    """Why the database could not do its part, or None when ``exc`` is no database trouble (a bug, say).

    One of :data:`TROUBLES`: ``locked`` (another writer holds it), ``read_only`` (a read-only file or
    server), ``full`` (no space left) or ``unavailable`` (it does not answer, or the connection broke).
    Another request may well succeed later: the web answers 503 with ``Retry-After``.

    Examples
    --------
    >>> trouble(BusyError(30))
    'locked'
    >>> trouble(ValueError("x")) is None
    True
    """
    if isinstance(exc, BusyError):
        return "locked"
    if not isinstance(exc, (OperationalError, InterfaceError, InternalError, PoolTimeoutError, DisconnectionError)):
        return None
    orig = getattr(exc, "orig", None)
    found = _TROUBLE_STATES.get(getattr(orig, "sqlstate", None) or "")
    if found:
        return found
    text = str(orig if orig is not None else exc).lower()
    for needle, kind in _TROUBLE_TEXTS:
        if needle in text:
            return kind
    if isinstance(exc, (InternalError, InterfaceError)):  # mostly bugs (a bad parameter), unless the link broke
        return "unavailable" if "connection" in text or "closed" in text else None
    return "unavailable"


class BusyError(MatcherError):
    """Another writer kept a SQLite database locked for longer than the busy timeout."""

    def __init__(self, seconds):
        from .messages import msg
        super().__init__(msg("db.busy", seconds=seconds))


@contextmanager
def read_only(url=None):
    """A session on an existing database that writes nothing (for checks such as ``matcher check``).

    Nothing is created: no instance folder, no SQLite file, no tables. SQLite files are
    opened with ``mode=ro``; on other databases the session is rolled back, never committed.

    Raises
    ------
    NotFoundError
        When the database or its schema does not exist (``matcher init-db`` creates them).
    """
    url = make_url(url or os.environ.get("DATABASE_URL") or f"sqlite:///{default_db_path()}")
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or ":memory:")
        if url.database in (None, "", ":memory:") or not path.is_file():
            raise NotFoundError(f"no database at {shown} (create it with: matcher init-db)")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    else:
        engine = create_engine(url)
    try:
        missing = [t for t in ("firms", "rounds", "applications") if not inspect(engine).has_table(t)]
        if missing:
            raise NotFoundError(f"database {shown} has no {', '.join(missing)} table(s) "
                                "(create the schema with: matcher init-db)")
        session = sessionmaker(bind=engine, future=True)()
        try:
            yield session
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()


# --- lookups and conversions ------------------------------------------------------------------


def firm_from_row(row):
    """ORM :class:`FirmRow` → engine :class:`~matcher.firms.Firm`."""
    return Firm(
        brn=row.brn, name=row.name, size_class=row.size_class, region=row.region,
        founded=row.founded, ksic_codes=list(row.ksic_codes or []), g2b_codes=list(row.g2b_codes or []),
        description=row.description or "",
        certificates=[Certificate(c.kind, c.code or "", c.valid_from, c.valid_to) for c in row.certificates],
        licences=[Licence(l["kind"], l.get("work_type", "")) for l in (row.licences or [])],
        debarred_from=row.debarred_from, debarred_to=row.debarred_to,
        affiliate_group=row.affiliate_group or None, members=row.members or 1,
    )


def application_from_row(row):
    """ORM :class:`ApplicationRow` → engine :class:`~matcher.firms.Application`."""
    return Application(
        round_name=row.round.name, brn=row.firm.brn, role=row.role, track=row.track,
        product_code=row.product_code or "", text=row.text or "", preferences=list(row.preferences or []),
    )


def get_round(session, name_or_id):
    """A round by name or numeric id; :class:`NotFoundError` when there is none."""
    stmt = select(RoundRow).where(RoundRow.name == str(name_or_id))
    row = session.scalars(stmt).first()
    if row is None and as_id(name_or_id) is not None:
        row = session.get(RoundRow, as_id(name_or_id))
    if row is None:
        raise NotFoundError(_msg("round.name_not_found", round=str(name_or_id)))
    return row


def latest_round(session):
    """The most recent round: the latest reference date, then the newest; None when there is no round.

    The one meaning of "the latest round" (summary, recommendations, evaluation, web).
    """
    stmt = select(RoundRow).order_by(RoundRow.reference_date.desc(), RoundRow.id.desc())
    return session.scalars(stmt).first()


def get_firm(session, brn):
    """A firm by 사업자등록번호 (with or without dashes); :class:`NotFoundError` when there is none."""
    digits = ascii_digits(brn).replace("-", "").strip()
    row = session.scalars(select(FirmRow).where(FirmRow.brn == digits)).first()
    if row is None:
        raise NotFoundError(_msg("firm.no_such_brn", brn=str(brn)))
    return row


def audit(session, actor, action, **detail):
    """Record who did what (in the caller's transaction)."""
    session.add(AuditRow(actor=actor or "", action=action, detail=detail))
