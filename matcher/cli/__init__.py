"""The ``matcher`` command line.

One module per area: ``admin`` (schema migrations), ``data`` (database, import, demo), ``rounds`` (rounds,
decisions, matching runs), ``recommend``
(partner recommendations), ``solve`` (assignment solver, round matching, export).
Every :class:`~matcher.errors.MatcherError` becomes a clear message on stderr and
exit code 2; never a traceback for a user mistake.
"""

import sys

import click
from sqlalchemy.exc import OperationalError

from .. import db
from ..errors import MatcherError


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except OperationalError as exc:
            if not db.is_busy(exc):
                raise
            _fail(db.BusyError(db.busy_timeout()))
        except MatcherError as exc:
            _fail(exc)


def _fail(exc):
    if exc.text("ko") != str(exc):
        click.echo(f"오류: {exc.text('ko')}", err=True)
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="matcher")
def main():
    """공공조달 상생협력 partner matching (public procurement win-win cooperation)."""


def _register():
    from . import admin, data, recommend, rounds, solve
    for module in (admin, data, recommend, rounds, solve):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
