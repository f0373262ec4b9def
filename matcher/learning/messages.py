"""The learning package's errors as coded messages (``model.*`` in the catalogs of :mod:`matcher.messages`)."""

from __future__ import annotations

def error(cls, m):
    """A :class:`~matcher.errors.MatcherError` of class ``cls`` for the message ``m`` (a
    :class:`~matcher.messages.Msg`): its English and Korean from the catalogs, its code and parameters kept
    for a front end to render again."""
    return cls(m.text("en"), ko=m.text("ko"), code=m.code, **m.params)
