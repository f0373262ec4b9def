"""One small exception hierarchy for the engine.

Every message names the offending value and where it came from, so the CLI and
the web layer can show it as it is, without a traceback.
"""

from dataclasses import dataclass

from .messages import Msg, msg


class MatcherError(Exception):
    """Base class of every error the engine raises on purpose.

    It carries a :class:`~matcher.messages.Msg` (``exc.msg``): ``exc.code`` is its code, ``exc.params``
    its parameters, ``str(exc)`` the English text and :meth:`text` the text in a reader's language, so a
    front end never parses the English.

    >>> exc = MatcherError(msg("round.not_found", round="9"))
    >>> exc.code, exc.text("ko")
    ('round.not_found', '9번 회차가 없습니다.')
    """

    def __init__(self, message=""):
        if not isinstance(message, Msg):  # text from outside the engine (a library's error), as it is
            message = plain(str(message))
        super().__init__(message)
        self.msg = message
        self.code = message.code
        self.params = dict(message.params)

    def __str__(self):
        return self.msg.text("en")

    def text(self, lang="ko"):
        """The message in ``lang`` (``"ko"`` or ``"en"``)."""
        return self.msg.text(lang)

    @property
    def ko(self):
        return self.msg.text("ko")


def as_msg(exc):
    """The :class:`~matcher.messages.Msg` an exception says: a MatcherError's own, else its text as it is."""
    return exc.msg if isinstance(exc, MatcherError) else plain(str(exc))


def plain(en, ko=None):
    """A message given as finished texts (``error.plain``): for a text that comes from outside the engine
    (a library's own error), never for a sentence the engine writes."""
    return msg("error.plain", en=en, ko=ko or en)


class InvalidValueError(MatcherError, ValueError):
    """A value that is not what it claims to be (a 사업자등록번호, a code, a date, a track name).

    Also a :class:`ValueError`, so validators can catch either.
    """


class UnknownTrackError(InvalidValueError):
    """A track key or name that is not one of the program's tracks (or not open in the round)."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input: where it is, what was there and why it is wrong.

    ``row`` is the 1-based data row as a user sees it in a spreadsheet (the header
    is row 1, so the first data row is row 2); ``None`` when the problem is not tied
    to a row (a missing column, say).
    """

    row: int | None
    column: str | None
    value: str | None
    reason: Msg | str
    """Why the value is wrong: a :class:`~matcher.messages.Msg` (a plain string in older stored rows)."""

    def __str__(self):
        return self.text("en")

    def text(self, lang="en"):
        """The problem as one line in ``lang``: row, column (the file's Korean header in Korean), value, reason."""
        where = []
        if self.row is not None:
            where.append(msg("problem.row", row=self.row).text(lang))
        if self.column:
            where.append(column_label(self.column, lang))
        head = ", ".join(where)
        value = f" {self.value!r}" if self.value not in (None, "") else ""
        reason = self.reason_text(lang)
        if lang == "ko":  # 시간 제한 '0': 1초에서 600초 사이여야 합니다
            return f"{head}{value}: {reason}" if head or value else reason
        return f"{head}:{value} {reason}" if head else f"{value.strip()} {reason}".strip()

    def reason_text(self, lang="en"):
        return self.reason.text(lang) if isinstance(self.reason, Msg) else str(self.reason or "")

    def to_json(self):
        """A JSON-ready dict (the reason as :meth:`Msg.to_json`); :meth:`from_json` reads it back."""
        reason = self.reason.to_json() if isinstance(self.reason, Msg) else self.reason
        return {"row": self.row, "column": self.column, "value": self.value, "reason": reason}

    @classmethod
    def from_json(cls, data):
        reason = data.get("reason")
        reason = Msg.from_json(reason) if isinstance(reason, dict) else reason
        return cls(data.get("row"), data.get("column"), data.get("value"), reason)


def column_label(column, lang="ko"):
    """An input column as the file's Korean header (``brn`` → 사업자등록번호) in Korean; as it is in English."""
    from .messages import known
    if not column:
        return ""
    code = "column." + str(column).replace(" ", "_")
    if known(code, lang):
        return msg(code).text(lang)
    if lang != "ko":
        return column
    from .validate import column_headers
    return column_headers().get(column, column)


class ValidationError(MatcherError):
    """Input refused, with every problem found (not only the first)."""

    def __init__(self, problems, source=None, message=None):
        self.problems = list(problems)
        self.source = source
        self.heading = message
        if message is None:
            n = len(self.problems)
            message = msg("validation.problems_in", n=n, source=source) if source else msg("validation.problems", n=n)
        super().__init__(message)

    def text(self, lang="ko"):
        """The heading, then one line per problem (the first 50), in ``lang``."""
        if len(self.problems) == 1 and self.heading is None and not self.source:
            return self.problems[0].text(lang)  # one problem says it all
        lines = [self.msg.text(lang)]
        lines += [f"  {p.text(lang)}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append("  " + msg("validation.more", n=len(self.problems) - 50).text(lang))
        return "\n".join(lines)

    def __str__(self):
        return self.text("en")


class NotFoundError(MatcherError):
    """A firm, round, run or other record that was asked for does not exist."""


class RefusedError(MatcherError):
    """A request the program's rules refuse (a decision on a pair the round does not allow, say)."""


class WrongStateError(RefusedError):
    """A request the record's state no longer allows (retrying a job that already finished, say): HTTP 409.

    Takes a :class:`matcher.messages.Msg`.
    """

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InfeasibleError(MatcherError):
    """Constraints (e.g. staff locks) that cannot all hold; ``reasons`` says why."""

    def __init__(self, reasons):
        self.reasons = list(reasons)
        super().__init__(msg("solver.infeasible", reasons=[r if isinstance(r, Msg) else plain(str(r))
                                                            for r in self.reasons]))


class ConflictError(InfeasibleError):
    """Staff decisions that make a re-solve impossible, found before it starts.

    ``conflicts`` holds :class:`matcher.conflicts.Conflict` items (each names the firms, the
    decisions that cause it and what would fix it).
    """

    def __init__(self, conflicts):
        self.conflicts = list(conflicts)
        super().__init__([c.msg for c in self.conflicts])


class CancelledError(MatcherError):
    """Work stopped because someone cancelled it."""


class ConfigError(MatcherError):
    """A track-rule or weight configuration that cannot be used."""
