"""Commands for the database schema (``db upgrade``, ``db current``, ``db revision``) and staff accounts
(``user add``, ``user password``)."""

import sys

import click

from .. import db, users


@click.group("db")
def db_group():
    """The database schema: Alembic migrations shipped with the package."""


@db_group.command("upgrade")
@click.option("--database-url", envvar="DATABASE_URL", help="SQLAlchemy URL (default: instance/matcher.sqlite).")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(database_url, revision):
    """Create the schema or bring it up to date (safe to run again; keeps every row)."""
    engine = db.upgrade(database_url, revision)
    with engine.connect() as conn:
        current = db.current_revision(conn)
    click.echo(f"database at revision {current}: {engine.url.render_as_string(hide_password=True)}")


@db_group.command("current")
@click.option("--database-url", envvar="DATABASE_URL")
def db_current(database_url):
    """Show the database's revision and the newest shipped one."""
    engine = db.get_engine(database_url)
    with engine.connect() as conn:
        current = db.current_revision(conn)
    head = db.head_revision()
    state = "up to date" if current == head else "needs: matcher db upgrade"
    click.echo(f"database revision {current or '(none)'}, newest {head}: {state}")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes (also its file name).")
@click.option("--rev-id", default=None, help="Revision id (default: the next number, e.g. 0003).")
def db_revision(message, rev_id):
    """For developers: write a new revision from the models' difference to the current head.

    Migrates a scratch SQLite file to the head and autogenerates the difference into
    ``matcher/migrations/versions/`` (an editable install writes into the checkout). Read the file before
    committing it.
    """
    import tempfile
    from pathlib import Path

    from alembic import command
    head = db.head_revision()
    rev_id = rev_id or (f"{int(head) + 1:04d}" if head and head.isdigit() else None)
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.sqlite'}"
        db.upgrade(url)
        with db.get_engine(url).connect() as conn:
            script = command.revision(db.alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id)
        db.dispose_engines()
    click.echo(f"wrote {script.path} (revises {head})")


@click.group("user")
def user_group():
    """Staff accounts: staff (may change things) and viewer (reads the workbench only)."""


def _read_password(from_stdin):
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    return click.prompt("password / 비밀번호", hide_input=True, confirmation_prompt=True)


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["staff", "viewer"]), default="staff", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--database-url", envvar="DATABASE_URL")
def user_add(name, role, password_stdin, database_url):
    """Create account NAME (the password is prompted, or read with --password-stdin; never an argument)."""
    password = _read_password(password_stdin)
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        row = users.add_user(session, name, password, role=role)
    click.echo(f"user {row.username!r} created (role {role})")


@user_group.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--database-url", envvar="DATABASE_URL")
def user_password(name, password_stdin, database_url):
    """Change NAME's password; every session of NAME ends (logged out everywhere)."""
    password = _read_password(password_stdin)
    db.init_db(database_url)
    with db.transaction(database_url) as session:
        row = users.set_password(session, name, password)
    click.echo(f"password of {row.username!r} changed; its sessions have ended")


COMMANDS = [db_group, user_group]
