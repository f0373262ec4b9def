"""Shared fixtures: a fresh database per test (SQLite, or PostgreSQL when asked), tiny literal firms, and the web
app on its database with clients (``app``, ``client``, ``staff``) and a tiny round (``round_id``). Plain helpers
(``make_brn``, ``add_firm``, ``login`` …) are in ``helpers.py``.

The database-backed tests (every test using ``db_url``, marked ``db``) run on PostgreSQL when
``TEST_DATABASE_URL`` (or ``DATABASE_URL``) is a ``postgresql+psycopg://`` URL of a server where the user may
create databases: each test gets its own database, cloned from a migrated template, dropped afterwards.
Otherwise each test gets a fresh SQLite file (a copy of one migrated once per session).
"""

import itertools
import os
import shutil
from datetime import date

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from matcher import db
from matcher.firms import Firm
from matcher.tracks import load_rules

from helpers import FAST_HASH, STAFF_PASSWORD, login, seed_round


def _postgres_url():
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return make_url(url)
    return None


POSTGRES = _postgres_url()
_names = itertools.count()

# No wall-clock limit on an example: Hypothesis' default deadline (200 ms) fails tests on a loaded machine.
settings.register_profile("matcher", deadline=None)
settings.load_profile("matcher")


def pytest_report_header(config):
    shown = POSTGRES.render_as_string(hide_password=True) if POSTGRES else "SQLite files"
    return f"database-backed tests (marker db) on: {shown}"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


class _Postgres:
    """Creates and drops throwaway databases on the server of ``POSTGRES``."""

    def __init__(self, url):
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def create(self, template=None):
        name = f"matcher_test_{os.getpid()}_{next(_names)}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        return name

    def url_of(self, name):
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop(self, name):
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory):
    """A database migrated to the newest revision once per session (copied or cloned per test)."""
    if POSTGRES is None:
        path = tmp_path_factory.mktemp("template") / "template.sqlite"
        db.init_db(f"sqlite:///{path}")
        db.dispose_engines()
        yield None, path
        return
    server = _Postgres(POSTGRES)
    name = server.create()
    db.init_db(server.url_of(name))
    db.dispose_engines()
    yield server, name
    server.drop(name)
    server.admin.dispose()


@pytest.fixture
def db_url(tmp_path, monkeypatch, _database_template):
    """A fresh database with the schema (SQLite file or PostgreSQL database); also set as $DATABASE_URL."""
    server, template = _database_template
    if server is None:
        path = tmp_path / "test.sqlite"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        name = server.create(template=template)
        url = server.url_of(name)
    monkeypatch.setenv("DATABASE_URL", url)
    db.init_db(url)
    yield url
    from matcher.directory import store
    store.join_checks()  # a search-index check still reading must end before its database goes
    db.dispose_engines()
    if server is not None:
        server.drop(name)


@pytest.fixture
def db_url_at_baseline(tmp_path, _database_template):
    """An empty database brought to the baseline revision (0001) with its alembic_version dropped:
    what ``create_all`` made on main before migrations existed."""
    server, _ = _database_template
    if server is None:
        url = f"sqlite:///{tmp_path / 'baseline.sqlite'}"
    else:
        name = server.create()
        url = server.url_of(name)
    db.upgrade(url, db.BASELINE_REVISION)
    with db.get_engine(url).begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    db.dispose_engines()
    yield url
    db.dispose_engines()
    if server is not None:
        server.drop(name)


@pytest.fixture(scope="session")
def rules():
    return load_rules()


@pytest.fixture
def make_firm():
    """Build a :class:`Firm` with sensible defaults; override any field by keyword."""
    def make(**fields):
        base = dict(brn="1078153660", name="테스트", size_class="소기업", region="대전",
                    founded=date(2015, 1, 1), ksic_codes=["26421"], g2b_codes=["46171610"],
                    description="", certificates=[], licences=[])
        base.update(fields)
        return Firm(**base)
    return make


@pytest.fixture(scope="session")
def demo_input():
    """The demo round (:func:`matcher.demo.generate`, about 1,000 applications in four tracks) as a
    :class:`~matcher.matching.RoundInput`, without a database."""
    from matcher import demo
    from matcher.firms import Application
    from matcher.matching import Pool, RoundInput
    generated = demo.generate()
    firms = {f.brn: f for f in generated.firms}
    pools = {t: Pool(t) for t in demo.OPEN_TRACKS}
    rules = load_rules()
    for a in generated.applications:
        side = pools[a.track].leads if a.role == "lead" else pools[a.track].partners
        side.append((firms[a.brn], Application(demo.ROUND_NAME, a.brn, a.role, a.track, a.product_code, a.text,
                                               list(a.preferences))))
    return RoundInput(name=demo.ROUND_NAME, reference_date=demo.REFERENCE_DATE,
                      rules={t: rules[t] for t in demo.OPEN_TRACKS}, pools=pools)


# --- the web app -----------------------------------------------------------------------------------------

@pytest.fixture
def app(db_url, tmp_path):
    """The Flask app on a fresh database with two accounts: ``staff`` and a read-only ``viewer``."""
    from matcher.users import ensure_user
    from web import create_app
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False,
                      "RUN_TIME_LIMIT": 5.0, "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    with db.transaction(db_url) as s:
        ensure_user(s, "staff", STAFF_PASSWORD, method=FAST_HASH)
        ensure_user(s, "viewer", "viewer password", role="viewer", method=FAST_HASH)
    return app


@pytest.fixture
def round_id(app):
    """The tiny 소재부품 round of :func:`helpers.seed_round`, stored in the app's database."""
    return seed_round(app.config["DATABASE_URL"])


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def staff(client):
    """A client logged in as ``staff``."""
    response = login(client)
    assert response.status_code == 302
    return client
