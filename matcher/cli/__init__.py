"""The ``matcher`` command line.

One module per area: ``admin`` (schema migrations), ``data`` (database, import, demo), ``rounds`` (rounds,
decisions, matching runs), ``recommend``
(partner recommendations), ``solve`` (assignment solver, round matching, export), ``program`` (access codes,
selection stages, publication, results).
Every :class:`~matcher.errors.MatcherError` becomes a clear message on stderr and
exit code 2; never a traceback for a user mistake. Messages and reports are written in one language:
``--lang ko|en``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: ``ko…`` is Korean, anything
else English).
"""

import importlib
import os
import sys

import click

from ..errors import MatcherError
from ..messages import msg
from .options import cli_lang, lang_from_env, said  # noqa: F401 (lang_from_env: the locale rule)


COMMAND_MODULES = {"db": "admin", "user": "admin",
                   "init-db": "data", "import": "data", "check": "data", "demo": "data", "summary": "data",
                   "recommend": "recommend", "evaluate": "recommend", "index": "recommend",
                   "round": "rounds", "decide": "rounds", "decisions": "rounds", "match": "rounds", "runs": "rounds",
                   "solve": "solve", "export": "solve", "worker": "worker",
                   "access": "program", "stage": "program", "publish": "program", "results": "program",
                   "codes": "codes", "train": "learning", "model": "learning"}
"""Each command's module, imported when the command runs (``matcher match`` need not import the demo
generator, the importer, scikit-learn or the web's password hashing: about 1 s of its start)."""


class _Group(click.Group):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(COMMAND_MODULES))

    def get_command(self, ctx, name):
        if name in COMMAND_MODULES and name not in self.commands:
            for command in importlib.import_module(f"{__name__}.{COMMAND_MODULES[name]}").COMMANDS:
                self.add_command(command)
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MatcherError as exc:
            _fail(exc)
        except Exception as exc:
            if not _busy(exc):
                raise
            from .. import db
            _fail(db.BusyError(db.busy_timeout()))


def _busy(exc):
    """A database-is-busy error; SQLAlchemy is looked at only when a command loaded it (``matcher solve``
    does not: 0.7 s of its start)."""
    sa = sys.modules.get("sqlalchemy.exc")
    if sa is None or not isinstance(exc, sa.OperationalError):
        return False
    from .. import db
    return db.is_busy(exc)


def _fail(exc):
    click.echo(f"{said(msg('cli.error'))}: {exc.text(cli_lang())}", err=True)
    sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="matcher")
@click.option("--lang", type=click.Choice(["ko", "en"]), default=None,
              help="Language of messages and reports (default: from LANG / LC_ALL / LC_MESSAGES). / 메시지 언어.")
@click.pass_context
def main(ctx, lang):
    """공공조달 상생협력 partner matching (public procurement win-win cooperation)."""
    ctx.ensure_object(dict)["lang"] = lang

