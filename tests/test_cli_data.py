"""The data commands through click's runner, on a temporary database."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from matcher import db, demo
from matcher.cli import main

FIRMS_CSV = ("사업자등록번호,회사명,기업규모,설립일,지역\n"
             "107-81-53660,한빛테크,소기업,2021-03-02,서울특별시\n")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.slow
def test_demo_load_is_idempotent_and_summary_counts_tracks(runner, db_url):
    first = runner.invoke(main, ["demo", "load"])
    assert first.exit_code == 0, first.output
    assert "firms: 1,500 inserted" in first.output
    second = runner.invoke(main, ["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "firms: 0 inserted, 0 updated, 1,500 unchanged" in second.output
    assert "applications: 0 inserted, 0 updated" in second.output
    result = runner.invoke(main, ["summary", demo.ROUND_NAME])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"round {demo.ROUND_NAME} (reference date 2026-10-01)")
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:6]}
    assert set(rows) == {"innovation", "materials", "convergence", "construction"}
    assert all(int(values[-1]) > 0 for values in rows.values())  # allowed pairs
    assert "certificate_expired" in result.output and "lead_licence" in result.output
    assert runner.invoke(main, ["summary"]).output == result.output  # latest round by default


def test_summary_of_a_missing_round_is_a_clear_error(runner, db_url):
    result = runner.invoke(main, ["summary", "없는회차"])
    assert result.exit_code == 2
    assert "round '없는회차' not found" in result.output


def test_check_exits_0_when_clean_and_1_with_the_report(runner, db_url, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(FIRMS_CSV, encoding="utf-8")
    result = runner.invoke(main, ["check", "firms", str(good)])
    assert result.exit_code == 0, result.output
    assert "repaired: row 2, region: '서울특별시' read as '서울'" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(FIRMS_CSV + "123-45-67890,x,소기업,,서울\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "firms", str(bad)])
    assert result.exit_code == 1
    assert "row 3, brn: '123-45-67890' fails its check digit" in result.output


def test_import_refuses_a_bad_file_whole_and_skip_invalid_keeps_good_rows(runner, db_url, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes((FIRMS_CSV + "123-45-67890,x,소기업,,서울\n").encode("cp949"))
    refused = runner.invoke(main, ["import", "firms", str(bad)])
    assert refused.exit_code == 2 and "1 problem(s)" in refused.output
    assert "0 firms" not in refused.output
    kept = runner.invoke(main, ["import", "firms", str(bad), "--skip-invalid"])
    assert kept.exit_code == 0, kept.output
    assert "firms: 1 inserted, 0 updated, 0 unchanged, 1 rejected" in kept.output
    assert (tmp_path / "bad.csv.rejected.csv").exists()


def test_import_applications_with_round_option(runner, db_url, tmp_path):
    firms = tmp_path / "firms.csv"
    firms.write_text(FIRMS_CSV, encoding="utf-8")
    assert runner.invoke(main, ["import", "firms", str(firms)]).exit_code == 0
    apps = tmp_path / "apps.csv"
    apps.write_text("사업자등록번호,역할,과제,신청물품,내용\n107-81-53660,주관,혁신성장,4617161002,AI CCTV\n",
                    encoding="utf-8")
    missing = runner.invoke(main, ["import", "applications", str(apps), "--round", "1차"])
    assert missing.exit_code == 2 and "matcher round create '1차'" in missing.output
    created = runner.invoke(main, ["round", "create", "1차", "--reference-date", "2026-10-01"])
    assert created.exit_code == 0, created.output
    result = runner.invoke(main, ["import", "applications", str(apps), "--round", "1차"])
    assert result.exit_code == 0, result.output
    assert "applications: 1 inserted" in result.output
    listed = runner.invoke(main, ["round", "list"])
    assert "1차" in listed.output and "1 applications" in listed.output


def test_demo_generate_writes_the_committed_bytes(runner, tmp_path):
    result = runner.invoke(main, ["demo", "generate", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in ("firms.csv", "applications.csv", "round.toml", "known_pairs.csv"):
        assert (tmp_path / name).read_bytes() == (demo.DEMO_DIR / name).read_bytes()


APPS_CSV = "회차,사업자등록번호,역할,과제,신청물품,내용\n1차,107-81-53660,주관,혁신성장,4617161002,AI CCTV\n"


def test_check_creates_no_database(runner, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'none.sqlite'}"
    monkeypatch.setenv("DATABASE_URL", url)
    firms, apps = tmp_path / "firms.csv", tmp_path / "apps.csv"
    firms.write_text(FIRMS_CSV, encoding="utf-8")
    apps.write_text(APPS_CSV, encoding="utf-8")
    assert runner.invoke(main, ["check", "firms", str(firms)]).exit_code == 0
    result = runner.invoke(main, ["check", "applications", str(apps)])
    assert result.exit_code == 1
    assert "checked against the rounds and firms in the database" in result.output
    assert "matcher init-db" in result.output
    assert not (tmp_path / "none.sqlite").exists()
    (tmp_path / "none.sqlite").write_bytes(b"")  # a file without the schema: reported, not filled in
    result = runner.invoke(main, ["check", "applications", str(apps)])
    assert result.exit_code == 1 and "has no firms, rounds, applications table(s)" in result.output
    assert (tmp_path / "none.sqlite").read_bytes() == b""


def test_check_applications_reads_the_database_without_writing(runner, db_url, tmp_path):
    firms, apps = tmp_path / "firms.csv", tmp_path / "apps.csv"
    firms.write_text(FIRMS_CSV, encoding="utf-8")
    apps.write_text(APPS_CSV, encoding="utf-8")
    assert runner.invoke(main, ["import", "firms", str(firms)]).exit_code == 0
    missing_round = runner.invoke(main, ["check", "applications", str(apps)])
    assert missing_round.exit_code == 1 and "matcher round create '1차'" in missing_round.output
    assert runner.invoke(main, ["round", "create", "1차", "--reference-date", "2026-10-01"]).exit_code == 0
    before = _stored(db_url)
    result = runner.invoke(main, ["check", "applications", str(apps)])
    assert result.exit_code == 0, result.output
    assert f"{apps}: 1 applications rows, no problems" in result.output
    assert _stored(db_url) == before


def _stored(url):
    """The SQLite file's bytes; on another database every table's rows."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).read_bytes()
    with db.transaction(url) as s:
        return {t.name: sorted(map(repr, s.execute(t.select()).all())) for t in db.Base.metadata.sorted_tables}


@pytest.mark.parametrize("mapping", ['columns = "x"\n', "[columns]\nfoo = 5\n", "[columns]\nx = 'nope'\n"])
def test_bad_columns_file_is_a_clear_problem_in_check_and_import(runner, db_url, tmp_path, mapping):
    firms, columns = tmp_path / "firms.csv", tmp_path / "map.toml"
    firms.write_text(FIRMS_CSV, encoding="utf-8")
    columns.write_text(mapping, encoding="utf-8")
    checked = runner.invoke(main, ["check", "firms", str(firms), "--columns", str(columns)])
    assert checked.exit_code == 1 and f"{columns}: 1 problem(s)" in checked.output
    imported = runner.invoke(main, ["import", "firms", str(firms), "--columns", str(columns)])
    assert imported.exit_code == 2 and f"{columns}: 1 problem(s)" in imported.output
    assert imported.exception is None or isinstance(imported.exception, SystemExit)


@pytest.mark.parametrize("name, says", [("", "round name: is empty"), ("   ", "round name: is empty"),
                                        ("123", "round name: '123' is all digits"),
                                        ("1\x00차", "round name: contains the control character U+0000 NUL at character 2")])
def test_round_names_must_be_words(runner, db_url, name, says):
    result = runner.invoke(main, ["round", "create", name, "--reference-date", "2026-10-01"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert says in result.output
    assert "created" not in runner.invoke(main, ["round", "list"]).output


@pytest.mark.parametrize("tracks", ["", ",", " , "])
def test_empty_tracks_option_opens_nothing_silently(runner, db_url, tracks):
    result = runner.invoke(main, ["round", "create", "1차", "--reference-date", "2026-10-01", "--tracks", tracks])
    assert result.exit_code == 2 and "name at least one track" in result.output
    assert "1차" not in runner.invoke(main, ["round", "list"]).output


def test_tracks_by_korean_or_english_name(runner, db_url):
    result = runner.invoke(main, ["round", "create", "1차", "--reference-date", "2026-10-01",
                                  "--tracks", "소재부품, Materials & parts,innovation"])
    assert result.exit_code == 0, result.output
    assert "tracks: innovation, materials" in result.output  # program order
    unknown = runner.invoke(main, ["round", "create", "2차", "--reference-date", "2026-10-01", "--tracks", "소재"])
    assert unknown.exit_code == 2
    assert "--tracks '소재': unknown track (known: innovation (혁신성장), materials (소재부품)" in unknown.output


def test_check_and_import_of_a_header_only_file(runner, db_url, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text(FIRMS_CSV.splitlines()[0] + "\n", encoding="utf-8")
    checked = runner.invoke(main, ["check", "firms", str(empty)])
    assert checked.exit_code == 1 and "has no data rows" in checked.output
    imported = runner.invoke(main, ["import", "firms", str(empty)])
    assert imported.exit_code == 2 and "has no data rows" in imported.output


def test_check_notes_repairs_and_ambiguous_columns(runner, db_url, tmp_path):
    fmt = tmp_path / "fmt.csv"
    fmt.write_text("사업자등록번호,회사명,기업규모,설립일,지역\n107-81-53660,a,small,20150301,서울\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "firms", str(fmt)])
    assert result.exit_code == 0, result.output
    assert "repaired: row 2, size_class: 'small' read as '소기업'" in result.output
    assert "repaired: row 2, founded: '20150301' read as '2015-03-01'" in result.output
    dup = tmp_path / "dup.csv"
    dup.write_text("사업자등록번호,brn,회사명,기업규모,지역\n1078153660,2208162517,a,소기업,서울\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "firms", str(dup)])
    assert result.exit_code == 1 and "brn: is given by 2 columns" in result.output
    assert runner.invoke(main, ["import", "firms", str(dup)]).exit_code == 2


def test_every_command_module_s_commands_are_listed_for_lazy_import():
    """The CLI imports a command's module only when the command runs: each module's commands must be in
    ``COMMAND_MODULES`` under the module's name (a command missing there would not be found)."""
    import importlib
    import pkgutil
    import matcher.cli
    from matcher.cli import COMMAND_MODULES
    listed = {}
    for info in pkgutil.iter_modules(matcher.cli.__path__):
        for command in getattr(importlib.import_module(f"matcher.cli.{info.name}"), "COMMANDS", []):
            listed[command.name] = info.name
    assert listed == COMMAND_MODULES


def test_a_cli_import_goes_through_the_upload_s_service_and_is_logged_alike(runner, db_url, tmp_path):
    """``matcher import`` calls rounds.import_file, as the round page's upload does: one audit entry shape."""
    from matcher import rounds
    firms = tmp_path / "firms.csv"
    firms.write_text(FIRMS_CSV, encoding="utf-8")
    assert runner.invoke(main, ["import", "firms", str(firms)]).exit_code == 0
    with db.transaction(db_url) as s:
        rnd = rounds.create_round(s, "1차", "2026-10-01")
        rounds.import_file(s, rnd.id, "firms", firms, filename="firms.csv", actor="kim")
    with db.transaction(db_url) as s:
        by_web, by_cli = rounds.audit_entries(s)[:3:2]  # the round's creation between them
    assert (by_cli.actor, by_cli.action, by_cli.detail["inserted"]) == ("cli", "import.firms", 1)
    assert (by_web.actor, by_web.action, by_web.detail["unchanged"]) == ("kim", "import.firms", 1)
    assert set(by_cli.detail) == set(by_web.detail)


def test_check_says_each_kind_of_repair_once_with_a_count(runner, db_url, tmp_path):
    from helpers import make_brn
    rows = [f"{make_brn(i)},기업{i},소기업,,서울특별시" for i in range(1, 8)] + [f"{make_brn(9)},기업9,small,,부산"]
    path = tmp_path / "firms.csv"
    path.write_text("사업자등록번호,회사명,기업규모,설립일,지역\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["check", "firms", str(path)], env={"MATCHER_LANG": "en"})
    assert result.exit_code == 0, result.output
    repaired = [line for line in result.output.splitlines() if line.startswith("repaired:")]
    assert repaired == ["repaired: region: '서울특별시' read as '서울' on 7 rows (2, 3, 4, 5, 6, …)",
                        "repaired: row 9, size_class: 'small' read as '소기업'"]
