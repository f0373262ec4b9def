"""One small exception hierarchy for the engine.

Every message names the offending value and where it came from, so the CLI and
the web layer can show it as it is, without a traceback.
"""

from dataclasses import dataclass


class MatcherError(Exception):
    """Base class of every error the engine raises on purpose.

    ``str(exc)`` is the English message; an error may also carry the Korean one (``ko``) and a
    ``code`` with its parameters, so a front end shows it in the reader's language with
    :meth:`text` instead of parsing the English.
    """

    def __init__(self, message="", ko=None, code=None, **params):
        self.msg = message if hasattr(message, "code") and hasattr(message, "params") else None  # a Msg
        if self.msg is not None:
            code, params, message = self.msg.code, dict(self.msg.params), self.msg.text("en")
        super().__init__(message)
        self.ko = ko
        self.code = code
        self.params = params

    def text(self, lang="ko"):
        """The message in ``lang`` (``"ko"`` or ``"en"``); English when no Korean text was given."""
        if self.msg is not None:
            return self.msg.text(lang)
        return self.ko if lang == "ko" and self.ko else str(self)


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
    reason: str

    def __str__(self):
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(self.column)
        head = ", ".join(where)
        value = f" {self.value!r}" if self.value not in (None, "") else ""
        return f"{head}:{value} {self.reason}" if head else f"{value.strip()} {self.reason}".strip()


class ValidationError(MatcherError):
    """Input refused, with every problem found (not only the first)."""

    def __init__(self, problems, source=None, ko=None):
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        lines = [f"{prefix}{len(self.problems)} problem(s)"]
        lines += [f"  {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  … and {len(self.problems) - 50} more")
        super().__init__("\n".join(lines), ko=ko)


class NotFoundError(MatcherError):
    """A firm, round, run or other record that was asked for does not exist."""


class RefusedError(MatcherError):
    """A request the program's rules refuse (a decision on a pair the round does not allow, say)."""


class WrongStateError(RefusedError):
    """A request the record's state no longer allows (retrying a job that already finished, say): HTTP 409.

    Takes a :class:`matcher.messages.Msg`.
    """

    def __init__(self, message):
        super().__init__(str(message), ko=message.text("ko"), code=message.code, **message.params)
        self.message = message

    def text(self, lang="ko"):
        return self.message.text(lang)


class InfeasibleError(MatcherError):
    """Constraints (e.g. staff locks) that cannot all hold; ``reasons`` says why."""

    def __init__(self, reasons, ko=None):
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons), ko=ko)


class ConflictError(InfeasibleError):
    """Staff decisions that make a re-solve impossible, found before it starts.

    ``conflicts`` holds :class:`matcher.conflicts.Conflict` items (each names the firms, the
    decisions that cause it and what would fix it).
    """

    def __init__(self, conflicts):
        self.conflicts = list(conflicts)
        super().__init__([c.text("en") for c in self.conflicts], ko="; ".join(c.text("ko") for c in self.conflicts))


class CancelledError(MatcherError):
    """Work stopped because someone cancelled it."""


class ConfigError(MatcherError):
    """A track-rule or weight configuration that cannot be used."""
