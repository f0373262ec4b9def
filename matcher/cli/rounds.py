"""Commands for intake rounds, over :mod:`matcher.rounds`: ``round``, ``decide``, ``decisions``, ``match``, ``runs``.

They refuse what the web refuses, with the same messages (Korean, then English).
"""

import json

import click

from .. import db, rounds
from ..forked import processes_available
from ..errors import MatcherError
from ..messages import msg
from ..tracks import load_rules
from .options import resolve_track, said, say


def _session(database_url):
    db.init_db(database_url)
    return db.transaction(database_url)


@click.group("round")
def round_group():
    """Create, rename and list intake rounds (회차)."""


@round_group.command("create")
@click.argument("name")
@click.option("--reference-date", "reference_date", required=True, help="YYYY-MM-DD: the day rules are judged on.")
@click.option("--tracks", default=None,
              help="Comma-separated open tracks, by key, Korean or English name "
                   "(default: those open in data/tracks.toml).")
@click.option("--database-url", envvar="DATABASE_URL")
def round_create(name, reference_date, tracks, database_url):
    """Create round NAME."""
    rounds.check_name(name)
    rules, chosen = load_rules(), None  # None: the service's default, the tracks open in data/tracks.toml
    if tracks is not None:
        named = [t.strip() for t in tracks.split(",") if t.strip()]
        if not named:
            raise MatcherError(msg("cli.no_tracks", option="--tracks", tracks=repr(tracks)))
        chosen = list(dict.fromkeys(resolve_track(t, "--tracks", rules) for t in named))
    with _session(database_url) as session:
        row = rounds.create_round(session, name, reference_date, chosen, actor="cli")
        click.echo(f"round {row.name!r} created ({row.reference_date}, tracks: {', '.join(row.open_tracks)})")


@round_group.command("rename")
@click.argument("round_name", metavar="ROUND")
@click.argument("name")
@click.option("--database-url", envvar="DATABASE_URL")
def round_rename(round_name, name, database_url):
    """Rename round ROUND (name or id) to NAME."""
    with _session(database_url) as session:
        row = rounds.rename_round(session, rounds.find_round(session, round_name).id, name, actor="cli")
        click.echo(f"round {row.id} renamed to {row.name!r}")


@round_group.command("list")
@click.option("--database-url", envvar="DATABASE_URL")
def round_list(database_url):
    """List rounds with their application counts."""
    with _session(database_url) as session:
        counts = rounds.application_counts(session)
        for row in sorted(rounds.list_rounds(session), key=lambda r: r.id):
            n = sum(v for (rid, _t, _r), v in counts.items() if rid == row.id)
            click.echo(f"{row.id}\t{row.name}\t{row.reference_date}\t{','.join(row.open_tracks)}\t{n} applications")


@click.command("decide")
@click.argument("round_name", metavar="ROUND")
@click.option("--lead", required=True, help="The lead's 사업자등록번호.")
@click.option("--partner", required=True, help="The partner's 사업자등록번호.")
@click.option("--kind", required=True, type=click.Choice(rounds.KINDS))
@click.option("--note", default="", help="Why (kept in the pair's history).")
@click.option("--track", default="", help="Only this track (default: every track the pair shares).")
@click.option("--actor", default="cli", show_default=True, help="Who decides (kept in the history).")
@click.option("--database-url", envvar="DATABASE_URL")
def decide_command(round_name, lead, partner, kind, note, track, actor, database_url):
    """Approve, reject, lock, forbid or clear the pair LEAD–PARTNER in ROUND."""
    track = resolve_track(track, "--track") if track else ""
    with _session(database_url) as session:
        found = rounds.decide(session, rounds.find_round(session, round_name).id, lead, partner, kind, note,
                              actor, track)
        click.echo(json.dumps(found.to_dict() if found else {"lead": lead, "partner": partner, "kind": "clear"},
                              ensure_ascii=False))


@click.command("decisions")
@click.argument("round_name", metavar="ROUND")
@click.option("--history", is_flag=True, help="Every decision ever taken, not only those that count.")
@click.option("--database-url", envvar="DATABASE_URL")
def decisions_command(round_name, history, database_url):
    """List the staff decisions of ROUND (tab-separated)."""
    with _session(database_url) as session:
        round_id = rounds.find_round(session, round_name).id
        found = rounds.decision_history(session, round_id) if history else rounds.list_decisions(session, round_id)
        for d in found:
            click.echo("\t".join([d.lead_brn, d.lead_name, d.partner_brn, d.partner_name, d.track or "-", d.kind,
                                  d.decided_by, f"{d.decided_at:%Y-%m-%d %H:%M:%S}" if d.decided_at else "",
                                  d.note]))


@click.command("match")
@click.argument("round_name", metavar="ROUND")
@click.option("--track", help="Only this track (default: every open track).")
@click.option("--time-limit", type=click.FloatRange(min=0),
              help="Seconds for the whole match (loading, scoring, solving, storing; ±10 %). The solver gets what "
                   "scoring leaves, less a reserve for storing; a limit too short even for scoring is refused "
                   "(time_limit_too_short). Default: no limit. / 매칭 전체(읽기·점수·풀이·저장)의 시간 제한(초).")
@click.option("--mode", type=click.Choice(["optimal", "stable"]), default="optimal", show_default=True)
@click.option("--gap", type=click.FloatRange(min=0, max=1, max_open=True), default=None,
              help="Relative gap at which the solver may stop short of a proof (default 1e-4, as MILP solvers; "
                   "0: prove the optimum, which can take much longer). / 증명 없이 멈춰도 되는 상대 간격.")
@click.option("--processes", type=click.IntRange(1, 2), default=None,
              help="2: score half the tracks and write the explanations in a second process (the same run, sooner on "
                   "2 cores). Default: 2 when the machine has 2 cores or more. / 2: 두 번째 프로세스에서 절반의 과제를 계산.")
@click.option("--database-url", envvar="DATABASE_URL")
def match_command(round_name, track, time_limit, mode, gap, processes, database_url):
    """Match round ROUND: score, solve, store a run with its proposals and diagnostics."""
    track = resolve_track(track, "--track") if track is not None else None
    with _session(database_url) as session:
        round_id = rounds.find_round(session, round_name).id
        run_id = rounds.run_match(session, round_id, track=track, mode=mode, time_limit=time_limit, actor="cli", gap=gap,
                                  progress=lambda f, message="": click.echo(f"[{f:4.0%}] {said(message)}", err=True),
                                  processes=processes or processes_available())
        run = rounds.get_run(session, run_id)
        n = rounds.proposal_count(session, run_id)
        click.echo(json.dumps({"run": run.id, "status": run.status, "objective": run.objective,
                               "bound": run.bound, "gap": run.gap, "proposals": n,
                               "seconds": round(run.seconds or 0, 3)}, ensure_ascii=False))


@click.command("runs")
@click.argument("round_name", metavar="ROUND")
@click.option("--database-url", envvar="DATABASE_URL")
def runs_command(round_name, database_url):
    """List the match runs of ROUND, newest first."""
    with _session(database_url) as session:
        runs = rounds.list_runs(session, rounds.find_round(session, round_name).id)
        say(msg("cli.runs_header"))
        for run, n in runs:
            gap = "" if run.gap is None else f"{run.gap:.2e}"
            click.echo(f"{run.id}\t{run.created_at:%Y-%m-%d %H:%M}\t{run.track or 'all'}\t{run.params.get('mode', '')}"
                       f"\t{run.status}\t{_number(run.objective)}\t{_number(run.bound)}\t{gap}\t{n}")


def _number(value):
    return "" if value is None else f"{value:.6g}"


COMMANDS = [round_group, decide_command, decisions_command, match_command, runs_command]
