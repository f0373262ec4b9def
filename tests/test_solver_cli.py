"""``matcher solve``: the plain-file interface, its JSON, exit codes and file messages."""

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from matcher.cli import main


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def files(tmp_path):
    return {
        "leads": write(tmp_path, "leads.csv", "lead_id\nL1\nL2\nL3\nL4\n"),
        "partners": write(tmp_path, "partners.csv", "partner_id,min_leads,max_leads\nB0007,5,\nS1,1,1\n"),
        "edges": write(tmp_path, "edges.csv",
                       "lead_id,partner_id,score\nL1,B0007,9\nL2,B0007,9\nL3,B0007,9\nL4,B0007,9\nL1,S1,2.5\n"),
    }


def run(files, tmp_path, **extra):
    args = ["solve", "--output", str(tmp_path / "pairs.csv")]
    for key, value in {**files, **extra}.items():
        args += [f"--{key.replace('_', '-')}", value]
    return CliRunner().invoke(main, args)


def test_solve_writes_pairs_and_json(files, tmp_path):
    result = run(files, tmp_path)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "optimal" and out["objective"] == 2.5 and out["bound"] == 2.5
    assert out["gap"] == 0 and out["matched"] == 1 and out["seconds"] >= 0
    pairs = pd.read_csv(tmp_path / "pairs.csv", dtype=str)
    assert list(pairs.columns) == ["lead_id", "partner_id", "score"]
    assert pairs.values.tolist() == [["L1", "S1", "2.5"]]


def test_infeasible_locks_exit_2_with_reason(files, tmp_path):
    locks = write(tmp_path, "locks.csv", "lead_id,partner_id\nL1,B0007\nL2,B0007\n")
    result = run(files, tmp_path, locks=locks)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["status"] == "infeasible"
    assert "partner B0007 locked with 2 leads but needs at least 5 and has only 4 eligible" in result.stderr


def test_forbid_file(files, tmp_path):
    forbid = write(tmp_path, "forbid.csv", "lead_id,partner_id\nL1,S1\n")
    result = run(files, tmp_path, forbid=forbid)
    assert json.loads(result.stdout)["matched"] == 0


@pytest.mark.parametrize("name,text,expected", [
    ("edges", "lead_id,partner_id\nL1,S1\n", "edges.csv: 1 problem(s)\n  score: missing column"),
    ("edges", "lead_id,partner_id,score\nL1,S1,-1\n", "row 2, score: '-1' is not a number >= 0"),
    ("edges", "lead_id,partner_id,score\nL1,S1,high\n", "row 2, score: 'high' is not a number >= 0"),
    ("edges", "lead_id,partner_id,score\nL1,S1,1\nL9,S1,1\n", "row 3, lead_id: 'L9' is not a known lead"),
    ("edges", "lead_id,partner_id,score\nL1,S1,1\nL1,S1,2\n", "row 3, lead_id,partner_id: 'L1,S1' duplicate pair"),
    ("partners", "partner_id,min_leads,max_leads\nB1,5,2\n", "row 2, min_leads: '5' is greater than max_leads '2'"),
    ("partners", "partner_id,min_leads,max_leads\nB1,x,2\n", "row 2, min_leads: 'x' is not a whole number >= 0"),
    ("partners", "partner_id,min_leads,max_leads\nB1,1,1\nB1,1,1\n",
     "row 3, partner_id: 'B1' duplicate partner_id (first at row 2)"),
    ("leads", "lead_id\nL1\nL1\n", "row 3, lead_id: 'L1' duplicate lead_id (first at row 2)"),
])
def test_bad_files_name_file_row_and_value(files, tmp_path, name, text, expected):
    files[name] = write(tmp_path, f"{name}.csv", text)
    result = run(files, tmp_path)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert f"{name}.csv" in result.stderr


def test_missing_file_is_a_message(files, tmp_path):
    files["edges"] = str(tmp_path / "nope.csv")
    result = run(files, tmp_path)
    assert result.exit_code == 2 and "nope.csv" in result.stderr and "cannot read" in result.stderr


def test_time_limit_option(files, tmp_path):
    result = run(files, tmp_path, time_limit="0")
    out = json.loads(result.stdout)
    assert result.exit_code == 0 and out["status"] in ("optimal", "feasible") and out["bound"] >= out["objective"]


def test_gap_option_is_taken_and_a_gap_of_one_refused(files, tmp_path):
    result = run(files, tmp_path, gap="0.01")
    out = json.loads(result.stdout)
    assert result.exit_code == 0 and out["objective"] == 2.5 and out["gap"] <= 0.01
    refused = run(files, tmp_path, gap="1")
    assert refused.exit_code == 2 and "--gap" in refused.output


def test_unwritable_output_is_refused_before_solving(files, tmp_path):
    args = ["solve", "--output", str(tmp_path / "missing" / "o.csv")]
    for key, value in files.items():
        args += [f"--{key}", value]
    args[args.index(files["edges"])] = str(tmp_path / "no-such-edges.csv")  # would fail if solving started
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"--output {tmp_path / 'missing' / 'o.csv'}: folder {tmp_path / 'missing'} does not exist" in result.output
    assert "Traceback" not in result.output


def test_export_to_a_missing_folder_is_a_clear_error(tmp_path, db_url):
    target = tmp_path / "missing" / "x.xlsx"
    result = CliRunner().invoke(main, ["export", "1", "--output", str(target)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert f"--output {target}: folder" in result.output


def test_every_problem_of_every_file_is_listed_at_once(files, tmp_path):
    files["leads"] = write(tmp_path, "leads.csv", "lead_id\nL1\nL1\nL2\n")
    files["partners"] = write(tmp_path, "partners.csv", "partner_id,min_leads,max_leads\n"
                              "B,5,2\nS,-1,1\nS,1,1\nT,x,\nU,0,0\nV,1.5,2\n,1,1\n")
    files["edges"] = write(tmp_path, "edges.csv", "lead_id,partner_id,score\nL9,B,1\nL1,B,-1\nL1,B,2\n")
    result = run(files, tmp_path)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    out = result.output
    assert f"{files['leads']}: 1 problem(s)" in out and "row 3, lead_id: 'L1' duplicate lead_id" in out
    assert f"{files['partners']}: 6 problem(s)" in out
    for line in ("row 2, min_leads: '5' is greater than max_leads '2'", "row 3, min_leads: '-1' is not",
                 "row 4, partner_id: 'S' duplicate partner_id", "row 5, min_leads: 'x' is not",
                 "row 7, min_leads: '1.5' is not", "row 8, partner_id: is empty"):
        assert line in out
    assert f"{files['edges']}: 3 problem(s)" in out and "row 2, lead_id: 'L9' is not a known lead" in out
    assert "row 4, lead_id,partner_id: 'L1,B' duplicate pair" in out


def test_an_unreadable_file_does_not_flag_every_reference_to_it(files, tmp_path):
    files["leads"] = write(tmp_path, "leads.csv", "id\nL1\n")
    result = run(files, tmp_path)
    assert result.exit_code == 2
    assert "lead_id: missing column (found: id)" in result.output
    assert "is not a known lead" not in result.output


@pytest.mark.parametrize("score", ["1e17", "1000000000001"])
def test_scores_above_the_limit_are_refused_with_file_row_and_value(files, tmp_path, score):
    files["edges"] = write(tmp_path, "edges.csv", f"lead_id,partner_id,score\nL1,S1,1\nL2,S1,{score}\n")
    result = run(files, tmp_path)
    assert result.exit_code == 2
    assert f"{files['edges']}: 1 problem(s)" in result.output
    assert f"row 3, score: '{score}' is above 1e+12" in result.output


def test_scores_at_the_limit_and_zero_scores_solve_exactly_without_warnings(files, tmp_path):
    files["edges"] = write(tmp_path, "edges.csv", "lead_id,partner_id,score\n"
                           "L1,S1,1000000000000\nL2,S1,999999999999\nL3,S1,0\nL4,S1,0\n")
    result = run(files, tmp_path)  # warnings are errors in the test run: scipy's "zero weights" would fail here
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "optimal" and out["objective"] == 1e12 and out["matched"] == 1


def test_zero_score_edges_still_count_for_a_minimum(tmp_path):
    files = {
        "leads": write(tmp_path, "leads.csv", "lead_id\nL1\nL2\nL3\nL4\nL5\n"),
        "partners": write(tmp_path, "partners.csv", "partner_id,min_leads,max_leads\nB,5,\n"),
        "edges": write(tmp_path, "edges.csv", "lead_id,partner_id,score\n"
                       "L1,B,0\nL2,B,0\nL3,B,0\nL4,B,0\nL5,B,4\n"),
    }
    result = run(files, tmp_path)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "optimal" and out["objective"] == 4 and out["matched"] == 5


def test_match_track_by_korean_name_and_unknown_track(db_url):
    from matcher import db
    runner = CliRunner()
    assert runner.invoke(main, ["round", "create", "1차", "--reference-date", "2026-10-01"]).exit_code == 0
    unknown = runner.invoke(main, ["match", "1차", "--track", "bogus"])
    assert unknown.exit_code == 2 and isinstance(unknown.exception, SystemExit)
    assert "--track 'bogus': unknown track (known: innovation (혁신성장)" in unknown.output
    result = runner.invoke(main, ["match", "1차", "--track", "소재부품"])
    assert result.exit_code == 0, result.output
    with db.transaction(db_url) as session:
        assert session.get(db.MatchRunRow, json.loads(result.stdout)["run"]).track == "materials"


@pytest.mark.parametrize("column,value", [("min_leads", "inf"), ("min_leads", "1e30"), ("max_leads", "inf"),
                                          ("max_leads", "1e19"), ("min_leads", "5.5"), ("max_leads", "-1"),
                                          ("max_leads", "2000000")])
def test_capacities_that_are_not_plain_whole_numbers_are_refused(files, tmp_path, column, value):
    row = {"min_leads": "5", "max_leads": ""}
    row[column] = value
    files["partners"] = write(tmp_path, "partners.csv",
                              f"partner_id,min_leads,max_leads\nB0007,{row['min_leads']},{row['max_leads']}\nS1,1,1\n")
    result = run(files, tmp_path)
    assert result.exit_code == 2
    assert f"row 2, {column}: '{value}' is not a whole number >= 0 (at most 1,000,000)" in result.stderr
    assert "Traceback" not in result.output + result.stderr and "Warning" not in result.stderr


def test_capacity_written_as_five_point_zero_is_read_as_five(files, tmp_path):
    files["partners"] = write(tmp_path, "partners.csv", "partner_id,min_leads,max_leads\nB0007,5.0,15.0\nS1,1,1\n")
    result = run(files, tmp_path)
    assert result.exit_code == 0 and json.loads(result.stdout)["objective"] == 2.5


def test_members_column_makes_a_cooperative_count_and_says_so(files, tmp_path):
    files["leads"] = write(tmp_path, "leads.csv", "lead_id,members\nL1,2\nL2,\nL3,1\nL4,1\n")
    result = run(files, tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["objective"] == 36  # L1 (2 SMEs) + L2..L4 = 5 toward B0007's minimum
    assert "note: B0007: 주관기업 4곳(중소기업 5개사), 최소 5 / B0007: 4 leads standing for 5 SMEs, minimum 5" in result.stderr


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "many", "1e3"])
def test_bad_members_are_refused_with_row_and_value(files, tmp_path, value):
    files["leads"] = write(tmp_path, "leads.csv", f"lead_id,members\nL1,1\nL2,{value}\nL3,1\nL4,1\n")
    result = run(files, tmp_path)
    assert result.exit_code == 2
    assert f"row 3, members: '{value}' is not a whole number >= 1 (at most 1,000,000)" in result.stderr


def test_an_edges_file_above_the_documented_size_is_refused_before_it_is_parsed(files, tmp_path, monkeypatch):
    from matcher.assignment import files as instance_files
    monkeypatch.setitem(instance_files.MAX_ROWS, "edges", 3)
    real = instance_files.pd.read_csv
    monkeypatch.setattr(instance_files.pd, "read_csv", lambda path, *a, **k: (
        pytest.fail("edges.csv parsed anyway") if str(path).endswith("edges.csv") else real(path, *a, **k)))
    result = run(files, tmp_path)  # edges.csv has 5 data rows
    assert result.exit_code == 2
    assert "edges.csv" in result.stderr and "has more than 3 rows, the most `matcher solve` reads" in result.stderr
