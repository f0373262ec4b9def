"""Commands for the database, rounds and data: ``init-db``, ``round``, ``import``, ``check``,
``demo`` and ``summary``."""

import sys
from pathlib import Path

import click

from .. import db, demo, importer, summary
from ..errors import MatcherError, NotFoundError, ValidationError
from ..messages import N_, msg
from ..tracks import load_rules, track_key
from ..validate import APPLICATION_REQUIRED, FIRM_REQUIRED
from .options import resolve_track, said, say


@click.command("init-db")
@click.option("--database-url", envvar="DATABASE_URL", help="SQLAlchemy URL (default: instance/matcher.sqlite).")
def init_db_command(database_url):
    """Create the database schema or upgrade it (same as ``matcher db upgrade``; safe to run again)."""
    engine = db.init_db(database_url)
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


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
    from ..rounds import import_file  # the service the web's upload calls
    db.init_db(database_url)
    with db.transaction(database_url, immediate=True) as session:
        result = import_file(session, None, "firms", path, actor="cli", skip_invalid=skip_invalid,
                             encoding=encoding, columns=columns, progress=None)
    _echo_result(result)


@import_group.command("applications")
@_with_file_options
@click.option("--round", "round_name", help="Round for rows without a 회차 (round) cell.")
@click.option("--skip-invalid", is_flag=True, help="Import good rows; write refused ones to FILE.rejected.csv.")
@click.option("--database-url", envvar="DATABASE_URL")
def import_applications_command(path, encoding, columns, round_name, skip_invalid, database_url):
    """Import (upsert by round, firm, role and track) the applications in PATH."""
    from ..rounds import import_file
    db.init_db(database_url)
    with db.transaction(database_url, immediate=True) as session:
        result = import_file(session, None, "applications", path, actor="cli", round_name=round_name,
                             skip_invalid=skip_invalid, encoding=encoding, columns=columns, progress=None)
    _echo_result(result)


NOTE_KINDS_SHOWN = 20


def _echo_notes(notes, err=False):
    """Each kind of repair or warning once, with how many rows it was made on and the first of them."""
    kinds = importer.note_kinds(notes)
    for kind in kinds[:NOTE_KINDS_SHOWN]:
        n = kind.note
        label = msg(N_("import.label.warning") if getattr(n.reason, "code", "") in importer.WARNINGS
                    else N_("import.label.repaired"))
        if kind.count == 1:
            say(msg("import.note_one", label=label, row=n.row or "", column=n.column or "", value=n.value or "",
                    reason=n.reason), err=err)
        else:
            rows = [str(r) for r in kind.rows[:5]] + (["…"] if len(kind.rows) > 5 else [])
            say(msg("import.note_kind", label=label, column=n.column or "", value=n.value or "", reason=n.reason,
                    count=kind.count, rows=rows), err=err)
    if len(kinds) > NOTE_KINDS_SHOWN:
        say(msg("import.note_kinds_more", count=len(kinds) - NOTE_KINDS_SHOWN,
                rows=sum(k.count for k in kinds[NOTE_KINDS_SHOWN:])), err=err)


def _echo_result(result):
    if result.sheet_note:
        click.echo(f"note: {result.sheet_note}", err=True)
    _echo_notes(result.notes, err=True)
    if result.problems:
        click.echo(said(ValidationError(result.problems)), err=True)
    click.echo(said(result.message()))


@click.command("check")
@click.argument("kind", type=click.Choice(["firms", "applications"]))
@_with_file_options
@click.option("--round", "round_name", help="Round for rows without a 회차 (round) cell (applications).")
@click.option("--database-url", envvar="DATABASE_URL")
def check_command(kind, path, encoding, columns, round_name, database_url):
    """Validate PATH without writing anything: exit 0 when clean, else 1 with every problem."""
    notes = []
    try:
        frame = importer.read_table(path, encoding=encoding, columns=columns,
                                    required=FIRM_REQUIRED if kind == "firms" else APPLICATION_REQUIRED)
    except ValidationError as exc:
        click.echo(said(exc))
        sys.exit(1)
    if frame.attrs.get("sheet_note"):
        click.echo(said(msg("cli.note", note=frame.attrs["sheet_note"])))
    if kind == "firms":
        records, problems = importer.validate_firms(frame, notes)
    else:
        try:
            with db.read_only(database_url) as session:
                records, problems = importer.validate_applications(frame, session, round_name, notes=notes)
        except NotFoundError as exc:
            click.echo(said(msg("cli.check_needs_database", path=str(path), why=exc.msg)))
            sys.exit(1)
    _echo_notes(notes)
    if problems:
        click.echo(said(ValidationError(problems, source=str(path))))
        sys.exit(1)
    click.echo(said(msg("cli.check_clean", path=str(path), n=len(records), kind=msg(N_("import.kind." + kind)))))


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


@demo_group.command("history")
@click.option("--rounds", type=int, default=4, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--database-url", envvar="DATABASE_URL")
def demo_history(rounds, seed, database_url):
    """Add simulated past rounds whose staff decided by hidden preferences (after `demo load`; see
    matcher/demo_history.py), for `matcher train` to learn from."""
    from ..demo_history import simulate_history
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        added = simulate_history(session, rounds=rounds, seed=seed)
    for name, counts in added.items():
        click.echo(f"{name}: approve {counts['approve']}, reject {counts['reject']}")


@click.command("summary")
@click.argument("round_name", required=False)
@click.option("--database-url", envvar="DATABASE_URL")
def summary_command(round_name, database_url):
    """Firms and applications of ROUND (default: the latest) per track and role, and allowed pairs."""
    from ..rounds import round_summary
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        click.echo(summary.format_summary(round_summary(session, round_name)))


COMMANDS = [init_db_command, import_group, check_command, demo_group, summary_command]
