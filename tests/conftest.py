"""Shared fixtures: a temporary database and tiny literal firms."""

from datetime import date

import pytest

from matcher import db
from matcher.firms import Certificate, Firm, Licence
from matcher.tracks import load_rules

REF = date(2026, 3, 19)


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    """A fresh SQLite file with the schema; also set as $DATABASE_URL for the CLI."""
    url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    db.init_db(url)
    yield url
    db.dispose_engines()


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


__all__ = ["REF", "Certificate", "Licence"]
