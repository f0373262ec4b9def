"""What several commands parse alike (kept apart from the commands, so that one command imports only its own)."""

import os

import click

from ..errors import MatcherError
from ..tracks import load_rules, track_key


def resolve_track(text, option, rules=None):
    """The track key for ``text`` (key, Korean or English name); a MatcherError naming ``option`` if unknown."""
    try:
        return track_key(text, rules)
    except ValueError:
        rules = rules or load_rules()
        known = ", ".join(f"{key} ({rule.name_ko})" for key, rule in rules.items())
        raise MatcherError(f"{option} {text!r}: unknown track (known: {known})") from None


def cli_lang():
    """The language of the command line's own lines: Korean when ``$MATCHER_LANG`` or the locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) says so, else English."""
    for name in ("MATCHER_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


def say(message, err=False):
    """Print a :class:`~matcher.messages.Msg` in :func:`cli_lang`."""
    click.echo(message.text(cli_lang()), err=err)


__all__ = ["resolve_track", "cli_lang", "say"]
