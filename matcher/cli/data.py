"""Commands for the database, rounds and data: ``init-db``, ``round``, ``import``, ``check``,
``demo`` and ``summary``."""

import sys
from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select

from .. import db, demo, importer, summary
from ..errors import MatcherError, NotFoundError, ValidationError
from ..text import TextError, clean_text
from ..tracks import load_rules, track_key
from ..validate import MAX_LENGTH


@click.command("init-db")
@click.option("--database-url", envvar="DATABASE_URL", help="SQLAlchemy URL (default: instance/matcher.sqlite).")
def init_db_command(database_url):
    """Create the database schema or upgrade it (same as ``matcher db upgrade``; safe to run again)."""
    engine = db.init_db(database_url)
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@click.group("round")
def round_group():
    """Create and list intake rounds (회차)."""


@round_group.command("create")
@click.argument("name")
@click.option("--reference-date", "reference_date", required=True, help="YYYY-MM-DD: the day rules are judged on.")
@click.option("--tracks", default=None,
              help="Comma-separated open tracks, by key, Korean or English name "
                   "(default: those open in data/tracks.toml).")
@click.option("--database-url", envvar="DATABASE_URL")
def round_create(name, reference_date, tracks, database_url):
    """Create round NAME."""
    name = _round_name(name)
    try:
        ref = date.fromisoformat(reference_date)
    except ValueError:
        raise MatcherError(f"--reference-date {reference_date!r} is not a date (YYYY-MM-DD)") from None
    rules = load_rules()
    if tracks is None:
        chosen = [k for k, r in rules.items() if r.open]
    else:
        named = [t.strip() for t in tracks.split(",") if t.strip()]
        if not named:
            raise MatcherError(f"--tracks {tracks!r}: name at least one track "
                               "(or leave the option out for the default open tracks)")
        chosen = list(dict.fromkeys(resolve_track(t, "--tracks", rules) for t in named))
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        if session.scalars(select(db.RoundRow).where(db.RoundRow.name == name)).first():
            raise MatcherError(f"round {name!r} already exists")
        session.add(db.RoundRow(name=name, reference_date=ref, open_tracks=chosen))
        db.audit(session, "cli", "round.create", round=name)
    click.echo(f"round {name!r} created ({ref}, tracks: {', '.join(chosen)})")


def _round_name(name):
    """A round name that is not blank and cannot be taken for a round or run id (NFC, no control
    characters, at most as long as the database column)."""
    try:
        name = clean_text(name, MAX_LENGTH["round"], single_line=True).strip()
    except TextError as exc:
        raise MatcherError(f"round name: {exc.reason}") from None
    if not name:
        raise MatcherError("round name is empty; give one such as '2026년 2차'")
    if name.isdigit():
        raise MatcherError(f"round name {name!r} is all digits and would be read as a round id; "
                           f"add words, such as '{name}차'")
    return name


def resolve_track(text, option, rules=None):
    """The track key for ``text`` (key, Korean or English name); a MatcherError naming ``option`` if unknown."""
    try:
        return track_key(text, rules)
    except ValueError:
        rules = rules or load_rules()
        known = ", ".join(f"{key} ({rule.name_ko})" for key, rule in rules.items())
        raise MatcherError(f"{option} {text!r}: unknown track (known: {known})") from None


@round_group.command("list")
@click.option("--database-url", envvar="DATABASE_URL")
def round_list(database_url):
    """List rounds with their application counts."""
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        for row in session.scalars(select(db.RoundRow).order_by(db.RoundRow.id)):
            n = session.scalar(select(func.count()).where(db.ApplicationRow.round_id == row.id))
            click.echo(f"{row.id}\t{row.name}\t{row.reference_date}\t{','.join(row.open_tracks)}\t{n} applications")


# --- import and check -------------------------------------------------------------------------

_file_options = [
    click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
    click.option("--encoding", default=None, help="CSV encoding (default: UTF-8, UTF-8 with BOM or CP949, detected)."),
    click.option("--columns", "columns", type=click.Path(exists=True, dir_okay=False),
                 help="TOML file mapping other headers to ours (see data/columns.example.toml)."),
]


def _with_file_options(command):
    for option in reversed(_file_options):
        command = option(command)
    return command


@click.group("import")
def import_group():
    """Import firms or applications from CSV (UTF-8 or CP949) or XLSX."""


@import_group.command("firms")
@_with_file_options
@click.option("--skip-invalid", is_flag=True, help="Import good rows; write refused ones to FILE.rejected.csv.")
@click.option("--database-url", envvar="DATABASE_URL")
def import_firms_command(path, encoding, columns, skip_invalid, database_url):
    """Import (upsert by 사업자등록번호) the firms in PATH."""
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        result = importer.import_firms(path, session, skip_invalid=skip_invalid, encoding=encoding,
                                       columns=columns)
        db.audit(session, "cli", "import.firms", file=str(path), inserted=result.inserted,
                 updated=result.updated, rejected=result.rejected)
    _echo_result(result)


@import_group.command("applications")
@_with_file_options
@click.option("--round", "round_name", help="Round for rows without a 회차 (round) cell.")
@click.option("--skip-invalid", is_flag=True, help="Import good rows; write refused ones to FILE.rejected.csv.")
@click.option("--database-url", envvar="DATABASE_URL")
def import_applications_command(path, encoding, columns, round_name, skip_invalid, database_url):
    """Import (upsert by round, firm, role and track) the applications in PATH."""
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        result = importer.import_applications(path, session, round_name=round_name, skip_invalid=skip_invalid,
                                              encoding=encoding, columns=columns)
        db.audit(session, "cli", "import.applications", file=str(path), inserted=result.inserted,
                 updated=result.updated, rejected=result.rejected)
    _echo_result(result)


def _echo_result(result):
    if result.sheet_note:
        click.echo(f"note: {result.sheet_note}", err=True)
    for note in result.notes[:20]:
        click.echo(f"repaired: {note}", err=True)
    if len(result.notes) > 20:
        click.echo(f"repaired: … and {len(result.notes) - 20} more", err=True)
    if result.problems:
        click.echo(str(ValidationError(result.problems)), err=True)
    click.echo(str(result))


@click.command("check")
@click.argument("kind", type=click.Choice(["firms", "applications"]))
@_with_file_options
@click.option("--round", "round_name", help="Round for rows without a 회차 (round) cell (applications).")
@click.option("--database-url", envvar="DATABASE_URL")
def check_command(kind, path, encoding, columns, round_name, database_url):
    """Validate PATH without writing anything: exit 0 when clean, else 1 with every problem."""
    notes = []
    try:
        frame = importer.read_table(path, encoding=encoding, columns=columns)
    except ValidationError as exc:
        click.echo(str(exc))
        sys.exit(1)
    if frame.attrs.get("sheet_note"):
        click.echo(f"note: {frame.attrs['sheet_note']}")
    if kind == "firms":
        records, problems = importer.validate_firms(frame, notes)
    else:
        try:
            with db.read_only(database_url) as session:
                records, problems = importer.validate_applications(frame, session, round_name)
        except NotFoundError as exc:
            click.echo(f"{path}: applications are checked against the rounds and firms in the database, "
                       f"and there is none: {exc}")
            sys.exit(1)
    for note in notes:
        click.echo(f"repaired: {note}")
    if problems:
        click.echo(str(ValidationError(problems, source=str(path))))
        sys.exit(1)
    click.echo(f"{path}: {len(records)} {kind} rows, no problems")


# --- demo round -------------------------------------------------------------------------------


@click.group("demo")
def demo_group():
    """The synthetic demo round (data/demo)."""


@demo_group.command("generate")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=demo.DEMO_DIR, show_default=True)
@click.option("--seed", type=int, default=demo.SEED, show_default=True)
def demo_generate(out, seed):
    """Write the demo firms, applications, round and known pairs (same seed, same bytes)."""
    paths = demo.write_demo(out, seed=seed)
    for path in paths:
        click.echo(f"wrote {path}")


@demo_group.command("load")
@click.option("--from", "source", type=click.Path(file_okay=False, path_type=Path), default=demo.DEMO_DIR,
              show_default=True)
@click.option("--database-url", envvar="DATABASE_URL")
def demo_load(source, database_url):
    """Create the demo round if missing and import its firms and applications (safe to run again)."""
    for result in demo.load_demo(source, database_url):
        click.echo(str(result))


@click.command("summary")
@click.argument("round_name", required=False)
@click.option("--database-url", envvar="DATABASE_URL")
def summary_command(round_name, database_url):
    """Firms and applications of ROUND (default: the latest) per track and role, and allowed pairs."""
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        click.echo(summary.format_summary(summary.round_summary(session, round_name)))


COMMANDS = [init_db_command, round_group, import_group, check_command, demo_group, summary_command]
