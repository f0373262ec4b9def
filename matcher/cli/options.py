"""What several commands parse alike (kept apart from the commands, so that one command imports only its own)."""

import os

import click

from ..errors import MatcherError
from ..messages import msg
from ..tracks import load_rules, track_key


def resolve_track(text, option, rules=None):
    """The track key for ``text`` (key, Korean or English name); a MatcherError naming ``option`` if unknown."""
    try:
        return track_key(text, rules)
    except ValueError:
        rules = rules or load_rules()
        known = ", ".join(f"{key} ({rule.name_ko})" for key, rule in rules.items())
        raise MatcherError(msg("cli.unknown_track", option=option, track=repr(text), known=known)) from None


def lang_from_env(environ=None):
    """``ko`` when ``$MATCHER_LANG`` or the locale (``LC_ALL``, then ``LC_MESSAGES``, then ``LANG``) is Korean,
    else ``en``."""
    environ = os.environ if environ is None else environ
    for name in ("MATCHER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def cli_lang():
    """The language of the command's messages and reports: ``matcher --lang``, else :func:`lang_from_env`."""
    ctx = click.get_current_context(silent=True)
    lang = (ctx.find_root().obj or {}).get("lang") if ctx is not None else None
    return lang or lang_from_env()


def said(message):
    """A :class:`~matcher.messages.Msg` (or an error, anything with ``text(lang)``, or a string) in :func:`cli_lang`."""
    if hasattr(message, "text") and not isinstance(message, str):
        return message.text(cli_lang())
    return str(message)


def say(message, err=False):
    """Print :func:`said`."""
    click.echo(said(message), err=err)


__all__ = ["resolve_track", "cli_lang", "lang_from_env", "said", "say"]
