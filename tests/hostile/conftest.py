"""The hostile suite: adversarial requests replayed against the real server (``python -m web``).

Every test here is marked ``hostile``. Each module gets its own server process (waitress, as in production)
on a fresh database — a SQLite file, or a PostgreSQL database cloned from the migrated template when
``TEST_DATABASE_URL`` points at a server (see ``tests/conftest.py``) — so what is tested is what a
client on the network meets: real sockets, real threads, real transactions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_server import Server

from matcher import db

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.hostile)


@pytest.fixture(scope="module")
def live_db(_database_template, tmp_path_factory):
    """A fresh database for one module's server (SQLite file or PostgreSQL database)."""
    server, template = _database_template
    if server is None:
        path = tmp_path_factory.mktemp("live") / "live.sqlite"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = server.create(template=template)
    yield server.url_of(name)
    db.dispose_engines()
    server.drop(name)


@pytest.fixture(scope="module")
def start_server(live_db, tmp_path_factory):
    """Start ``python -m web`` servers on the module's database: ``start_server(env={...}, args=[...])``."""
    started = []

    def start(env=None, args=(), url=None):
        server = Server(url or live_db, tmp_path_factory.mktemp("instance"), env, args)
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def live(start_server):
    """The module's server with its defaults."""
    return start_server()
