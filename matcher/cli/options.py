"""What several commands parse alike (kept apart from the commands, so that one command imports only its own)."""

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


__all__ = ["resolve_track"]
