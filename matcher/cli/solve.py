"""Commands for the assignment solver and round matching: ``solve``, ``match``, ``export``, ``runs``."""

import json
import sys

import click

from ..assignment import read_instance, solve, write_pairs
from ..errors import InfeasibleError

_FILE = click.Path(dir_okay=False)


@click.command("solve")
@click.option("--leads", required=True, type=_FILE, help="CSV with lead_id.")
@click.option("--partners", required=True, type=_FILE, help="CSV with partner_id,min_leads,max_leads.")
@click.option("--edges", required=True, type=_FILE, help="CSV with lead_id,partner_id,score.")
@click.option("--locks", type=_FILE, help="CSV with lead_id,partner_id: pairs that must be chosen.")
@click.option("--forbid", type=_FILE, help="CSV with lead_id,partner_id: pairs never chosen.")
@click.option("--time-limit", type=click.FloatRange(min=0), help="Seconds; then the best found, with a bound.")
@click.option("--output", required=True, type=_FILE, help="Where to write lead_id,partner_id,score.")
def solve_command(leads, partners, edges, locks, forbid, time_limit, output):
    """Choose pairs maximising the total score (no database needed).

    Prints one JSON object: status, objective, bound, gap, matched, seconds.
    """
    inst = read_instance(leads, partners, edges, locks, forbid)
    try:
        sol = solve(inst.leads, inst.partners, inst.edges, inst.locks, inst.forbid, time_limit=time_limit)
    except InfeasibleError as exc:
        click.echo(json.dumps({"status": "infeasible", "objective": None, "bound": None, "gap": None,
                               "matched": 0, "seconds": None}))
        for reason in exc.reasons:
            click.echo(f"infeasible: {reason}", err=True)
        sys.exit(2)
    write_pairs(sol, output)
    click.echo(json.dumps(sol.summary(), ensure_ascii=False))


COMMANDS = [solve_command]
