"""Commands for the program after the match, over :mod:`matcher.rounds`: ``access`` (firms' codes),
``stage`` (selection stages, quota, confirmation), ``publish`` and ``results``.

They refuse what the web refuses, with the same messages; ``actor`` in the audit log is ``cli``.
"""

from pathlib import Path

import click

from .. import db, rounds
from ..export import table_bytes
from ..messages import N_, msg
from ..rounds import access, publication, stages

FORMATS = ("xlsx", "csv")


def _session(database_url):
    db.init_db(database_url)
    return db.transaction(database_url)


def _write(head, rows, fmt, output, title):
    body = table_bytes(head, rows, fmt, title=title)
    if output in (None, "-"):
        click.get_binary_stream("stdout").write(body)
    else:
        Path(output).write_bytes(body)
        click.echo(msg("cli.written", path=output, rows=len(rows)).text("ko"), err=True)


@click.group("access")
def access_group():
    """Firms' access codes (접근 코드) of a round."""


@access_group.command("issue")
@click.argument("round_name", metavar="ROUND")
@click.option("--brn", "brns", multiple=True, help="Only this firm (repeatable); default every applicant.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--output", "-o", default=None, help="File for the receipts (default: standard output).")
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--database-url", envvar="DATABASE_URL")
def access_issue(round_name, brns, fmt, output, lang, database_url):
    """Issue new codes (earlier ones stop working) and write the application receipts: each code shown once."""
    with _session(database_url) as session:
        round_row = rounds.find_round(session, round_name)
        receipts = access.issue_codes(session, round_row.id, "cli", list(brns) or None)
        head, rows = access.receipt_table(receipts, lang)
        _write(head, rows, fmt, output, msg("access.sheet").text(lang))


@access_group.command("revoke")
@click.argument("round_name", metavar="ROUND")
@click.argument("brn")
@click.option("--database-url", envvar="DATABASE_URL")
def access_revoke(round_name, brn, database_url):
    """Revoke firm BRN's code in ROUND."""
    with _session(database_url) as session:
        count = access.revoke_code(session, rounds.find_round(session, round_name).id, brn, "cli")
        click.echo(msg("access.revoked", count=count).text("ko"))


@click.group("stage")
def stage_group():
    """The selection: stages (대면평가 → 현장평가 → 심의위원회), quota, confirmation."""


@stage_group.command("record")
@click.argument("round_name", metavar="ROUND")
@click.argument("lead")
@click.argument("partner")
@click.argument("stage")
@click.argument("score", required=False, default="")
@click.option("--note", default="")
@click.option("--date", "held_on", default=None, help="YYYY-MM-DD (default today).")
@click.option("--database-url", envvar="DATABASE_URL")
def stage_record(round_name, lead, partner, stage, score, note, held_on, database_url):
    """Record SCORE (0-100) for the pair LEAD–PARTNER at STAGE (or STAGE 'rejected' for 탈락)."""
    with _session(database_url) as session:
        round_id = rounds.find_round(session, round_name).id
        if stage == "rejected":
            stages.drop_candidate(session, round_id, lead, partner, note, "cli")
        else:
            stages.record_stage(session, round_id, lead, partner, stage, score, note, held_on, "cli")
        click.echo(msg("stage.recorded").text("ko"))


@stage_group.command("list")
@click.argument("round_name", metavar="ROUND")
@click.argument("track")
@click.option("--database-url", envvar="DATABASE_URL")
def stage_list(round_name, track, database_url):
    """The track's candidates, ranked (stage, its score, then the match score)."""
    with _session(database_url) as session:
        round_row = rounds.find_round(session, round_name)
        for n, c in enumerate(stages.ranked(session, round_row.id, track), start=1):
            scores = " ".join(f"{s}={c.scores[s]:g}" for s in stages.round_stages(round_row) if s in c.scores)
            click.echo(f"{n}\t{c.lead_brn}\t{c.partner_brn}\t{c.match_score or 0:.3f}\t{scores}\t{c.outcome}")


@stage_group.command("set")
@click.argument("round_name", metavar="ROUND")
@click.argument("stage_keys", metavar="STAGES")
@click.option("--database-url", envvar="DATABASE_URL")
def stage_set(round_name, stage_keys, database_url):
    """Set ROUND's stages, comma-separated in order (e.g. interview,committee); before any is recorded."""
    with _session(database_url) as session:
        keys = stages.set_stages(session, rounds.find_round(session, round_name).id, stage_keys.split(","), "cli")
        click.echo(msg("stage.list_set", stages=[msg(N_("stage." + k)) for k in keys]).text("ko"))


@stage_group.command("quota")
@click.argument("round_name", metavar="ROUND")
@click.argument("track")
@click.argument("quota")
@click.option("--database-url", envvar="DATABASE_URL")
def stage_quota(round_name, track, quota, database_url):
    """Set TRACK's selection QUOTA (products) in ROUND."""
    with _session(database_url) as session:
        value = stages.set_quota(session, rounds.find_round(session, round_name).id, track, quota, "cli")
        click.echo(msg("stage.quota_set", quota=value).text("ko"))


@stage_group.command("confirm")
@click.argument("round_name", metavar="ROUND")
@click.argument("track")
@click.argument("pairs", nargs=-1, required=True, metavar="LEAD:PARTNER...")
@click.option("--date", "confirmed_on", default=None, help="Confirmation date YYYY-MM-DD (default today).")
@click.option("--database-url", envvar="DATABASE_URL")
def stage_confirm(round_name, track, pairs, confirmed_on, database_url):
    """Select PAIRS of TRACK (within its quota); the other finalists are 탈락."""
    chosen = [tuple(p.split(":", 1)) for p in pairs if ":" in p]
    with _session(database_url) as session:
        made = stages.confirm_selection(session, rounds.find_round(session, round_name).id, track, chosen, "cli",
                                        confirmed_on)
        click.echo(msg("stage.confirmed", count=len(made)).text("ko"))


@click.command("publish")
@click.argument("round_name", metavar="ROUND")
@click.option("--undo", is_flag=True, help="Take the results back.")
@click.option("--database-url", envvar="DATABASE_URL")
def publish_command(round_name, undo, database_url):
    """Publish ROUND's results to its firms."""
    with _session(database_url) as session:
        round_id = rounds.find_round(session, round_name).id
        (publication.unpublish if undo else publication.publish)(session, round_id, "cli")
        click.echo((msg("publication.withdrawn") if undo else msg("publication.done")).text("ko"))


@click.command("results")
@click.argument("round_name", metavar="ROUND")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option("--output", "-o", default=None)
@click.option("--lang", type=click.Choice(["ko", "en"]), default="ko", show_default=True)
@click.option("--database-url", envvar="DATABASE_URL")
def results_command(round_name, fmt, output, lang, database_url):
    """Every application of ROUND with its stage scores and outcome (Korean headers by default)."""
    with _session(database_url) as session:
        round_row = rounds.find_round(session, round_name)
        head, rows = publication.results_table(session, round_row.id, lang)
        _write(head, rows, fmt, output, round_row.name)


COMMANDS = [access_group, stage_group, publish_command, results_command]
