"""What several commands parse alike (kept apart from the commands, so that one command imports only its own)."""

import os

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


def console_lang(environ=None):
    """The language a command writes its sentences in: ``MATCHER_LANG``, else Korean when the locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``) is Korean, else English."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("MATCHER_LANG", "").strip().lower()
    if chosen in ("ko", "en"):
        return chosen
    locale = next((environ[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if environ.get(k)), "")
    return "ko" if locale.lower().startswith("ko") else "en"


__all__ = ["resolve_track", "console_lang"]
