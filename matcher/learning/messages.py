"""The learning package's errors as coded messages (``model.*`` in the catalogs of :mod:`matcher.messages`)."""

from __future__ import annotations

from ..messages import msg


def error(cls, code, **params):
    """A :class:`~matcher.errors.MatcherError` of class ``cls`` for the message ``code``: its English and Korean
    from the catalogs, its code and parameters kept for a front end to render again."""
    m = msg(code, **params)
    return cls(m.text("en"), ko=m.text("ko"), code=m.code, **params)
