"""Commands for the database and rounds: ``init-db``, ``round``, ``summary``."""

from datetime import date

import click
from sqlalchemy import func, select

from .. import db
from ..errors import MatcherError
from ..tracks import load_rules


@click.command("init-db")
@click.option("--database-url", envvar="DATABASE_URL", help="SQLAlchemy URL (default: instance/matcher.sqlite).")
def init_db_command(database_url):
    """Create the database schema (safe to run again)."""
    engine = db.init_db(database_url)
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@click.group("round")
def round_group():
    """Create and list intake rounds (회차)."""


@round_group.command("create")
@click.argument("name")
@click.option("--reference-date", "reference_date", required=True, help="YYYY-MM-DD: the day rules are judged on.")
@click.option("--tracks", default="", help="Comma-separated open tracks (default: those open in data/tracks.toml).")
@click.option("--database-url", envvar="DATABASE_URL")
def round_create(name, reference_date, tracks, database_url):
    """Create round NAME."""
    try:
        ref = date.fromisoformat(reference_date)
    except ValueError:
        raise MatcherError(f"--reference-date {reference_date!r} is not a date (YYYY-MM-DD)") from None
    rules = load_rules()
    chosen = [t.strip() for t in tracks.split(",") if t.strip()] or [k for k, r in rules.items() if r.open]
    unknown = [t for t in chosen if t not in rules]
    if unknown:
        raise MatcherError(f"--tracks: unknown track(s) {', '.join(unknown)} (known: {', '.join(rules)})")
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        if session.scalars(select(db.RoundRow).where(db.RoundRow.name == name)).first():
            raise MatcherError(f"round {name!r} already exists")
        session.add(db.RoundRow(name=name, reference_date=ref, open_tracks=chosen))
        db.audit(session, "cli", "round.create", round=name)
    click.echo(f"round {name!r} created ({ref}, tracks: {', '.join(chosen)})")


@round_group.command("list")
@click.option("--database-url", envvar="DATABASE_URL")
def round_list(database_url):
    """List rounds with their application counts."""
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        for row in session.scalars(select(db.RoundRow).order_by(db.RoundRow.id)):
            n = session.scalar(select(func.count()).where(db.ApplicationRow.round_id == row.id))
            click.echo(f"{row.id}\t{row.name}\t{row.reference_date}\t{','.join(row.open_tracks)}\t{n} applications")


COMMANDS = [init_db_command, round_group]
