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
from sqlalchemy.exc import OperationalError

from .. import db
from ..errors import MatcherError
from ..messages import msg, render


COMMAND_MODULES = {"db": "admin", "user": "admin",
                   "init-db": "data", "import": "data", "check": "data", "demo": "data", "summary": "data",
                   "recommend": "recommend", "evaluate": "recommend", "index": "recommend",
                   "round": "rounds", "decide": "rounds", "decisions": "rounds", "match": "rounds", "runs": "rounds",
                   "solve": "solve", "export": "solve",
                   "access": "program", "stage": "program", "publish": "program", "results": "program"}
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
        except OperationalError as exc:
            if not db.is_busy(exc):
                raise
            _fail(db.BusyError(db.busy_timeout()))
        except MatcherError as exc:
            _fail(exc)


def _fail(exc):
    click.echo(f"{say(msg('cli.error'))}: {exc.text(cli_lang())}", err=True)
    sys.exit(2)


def lang_from_env(environ=None):
    """``ko`` when the locale (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``) is Korean, else ``en``."""
    environ = os.environ if environ is None else environ
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(key):
            return "ko" if environ[key].lower().startswith("ko") else "en"
    return "en"


def cli_lang():
    """The language of this command's messages: ``--lang``, else the locale."""
    ctx = click.get_current_context(silent=True)
    lang = ((ctx.find_root().obj or {}).get("lang") if ctx is not None else None)
    return lang or lang_from_env()


def say(message):
    """A :class:`~matcher.messages.Msg` (or anything with ``text(lang)``, or a string) in the command's language."""
    lang = cli_lang()
    if hasattr(message, "text") and not isinstance(message, str):
        return message.text(lang)
    return render(message, lang)


@click.group(cls=_Group)
@click.version_option(package_name="matcher")
@click.option("--lang", type=click.Choice(["ko", "en"]), default=None,
              help="Language of messages and reports (default: from LANG / LC_ALL / LC_MESSAGES). / 메시지 언어.")
@click.pass_context
def main(ctx, lang):
    """공공조달 상생협력 partner matching (public procurement win-win cooperation)."""
    ctx.ensure_object(dict)["lang"] = lang

