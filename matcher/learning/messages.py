"""The learning package's errors as coded messages (``model.*`` in the catalogs of :mod:`matcher.messages`)."""

from __future__ import annotations

def error(cls, m):
    """A :class:`~matcher.errors.MatcherError` of class ``cls`` for the message ``m`` (a
    :class:`~matcher.messages.Msg`): every MatcherError takes the Msg itself (its code and parameters kept
    for a front end to render in the reader's language)."""
    return cls(m)
