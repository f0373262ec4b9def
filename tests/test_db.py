"""Storage: engine creation and schema errors are clear messages, never tracebacks."""

import pytest
from click.testing import CliRunner

from matcher import db
from matcher.cli import main
from matcher.errors import MatcherError


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
