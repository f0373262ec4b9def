"""Commands for the assignment solver and round matching: ``solve``, ``match``, ``export``, ``runs``."""

import json
import os
import sys
from pathlib import Path

import click

from ..assignment import read_instance, solve, write_pairs
from ..errors import InfeasibleError, MatcherError
from ..messages import msg
from .options import said

_FILE = click.Path(dir_okay=False)


@click.command("solve")
@click.option("--leads", required=True, type=_FILE, help="CSV with lead_id (and optionally members: SMEs a 조합 stands for).")
@click.option("--partners", required=True, type=_FILE, help="CSV with partner_id,min_leads,max_leads.")
@click.option("--edges", required=True, type=_FILE, help="CSV with lead_id,partner_id,score.")
@click.option("--locks", type=_FILE, help="CSV with lead_id,partner_id: pairs that must be chosen.")
@click.option("--forbid", type=_FILE, help="CSV with lead_id,partner_id: pairs never chosen.")
@click.option("--time-limit", type=click.FloatRange(min=0), help="Seconds; then the best found, with a bound.")
@click.option("--gap", type=click.FloatRange(min=0, max=1, max_open=True), default=0.0, show_default=True,
              help="Stop when the answer is proven within this relative gap of the optimum (0: prove it).")
@click.option("--output", required=True, type=_FILE, help="Where to write lead_id,partner_id,score.")
def solve_command(leads, partners, edges, locks, forbid, time_limit, gap, output):
    """Choose pairs maximising the total score (no database needed).

    Prints one JSON object: status, objective, bound, gap, matched, seconds.
    """
    _check_output(output)
    inst = read_instance(leads, partners, edges, locks, forbid)
    try:
        sol = solve(inst.leads, inst.partners, inst.edges, inst.locks, inst.forbid, time_limit=time_limit,
                    members=inst.members, gap=gap)
    except InfeasibleError as exc:
        click.echo(json.dumps({"status": "infeasible", "objective": None, "bound": None, "gap": None,
                               "matched": 0, "seconds": None}))
        for reason in exc.reasons:
            click.echo(said(msg("cli.infeasible", reason=reason)), err=True)
        sys.exit(2)
    try:
        write_pairs(sol, output)
    except OSError as exc:
        raise MatcherError(msg("cli.cannot_write", option="--output", path=str(output), why=str(exc.strerror))) from None
    click.echo(json.dumps(sol.summary(), ensure_ascii=False))
    for note in sol.cooperative_notes():
        click.echo(f"note: {note['ko']} / {note['en']}", err=True)


def _check_output(path):
    """Refuse an output file whose folder is missing or not writable, before any work is done."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise MatcherError(msg("cli.no_folder", option="--output", path=str(path), folder=str(folder)))
    if not os.access(folder, os.W_OK) or (Path(path).exists() and not os.access(path, os.W_OK)):
        raise MatcherError(msg("cli.not_writable", option="--output", path=str(path)))


@click.command("export")
@click.argument("run_id", metavar="RUN")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), help="File to write (default: run-RUN.FORMAT).")
@click.option("--database-url", envvar="DATABASE_URL")
def export_command(run_id, fmt, output, database_url):
    """Write the proposals of run RUN with scores, components and reasons."""
    from .. import db
    from ..rounds import export_run, log_export
    path = output or f"run-{run_id}.{fmt}"
    _check_output(path)
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        data = export_run(session, run_id, fmt)
        log_export(session, run_id, fmt, "cli")  # as the web's export is logged
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise MatcherError(msg("cli.cannot_write", option="--output", path=str(path), why=str(exc.strerror))) from None
    click.echo(f"wrote {path}")


COMMANDS = [solve_command, export_command]
