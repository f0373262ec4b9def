"""Template helpers that show values the way a reader in Korea expects: times in Asia/Seoul, a firm as
"상호 (123-45-67890)", and coded messages (:mod:`matcher.messages`) built in a template.

The database keeps times in UTC without a zone; every page shows them in Korea's time through
Flask-Babel (set up in :func:`web.create_app` with ``default_timezone="Asia/Seoul"``).
"""

from __future__ import annotations

from flask_babel import format_datetime

from matcher.firms import format_brn
from matcher.messages import msg
from matcher.rounds.decisions import held_pair

TIME_FORMAT = "yyyy-MM-dd HH:mm"
SECONDS_FORMAT = "yyyy-MM-dd HH:mm:ss"


def when(moment, seconds=False):
    """A stored (naive UTC) time in Asia/Seoul, ``2026-12-08 10:39``; '' for None."""
    if moment is None:
        return ""
    return format_datetime(moment, SECONDS_FORMAT if seconds else TIME_FORMAT)


def firm_named(name, brn):
    """The message naming a firm: its name with its 사업자등록번호 beside it."""
    return msg("firm.named", name=name or "", brn=format_brn(brn) if brn and len(str(brn)) == 10 else brn or "")


def init_app(app):
    app.context_processor(lambda: dict(when=when, msg=msg, firm_named=firm_named, held_pair=held_pair))
