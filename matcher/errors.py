"""One small exception hierarchy for the engine.

Every message names the offending value and where it came from, so the CLI and
the web layer can show it as it is, without a traceback.
"""

from dataclasses import dataclass


class MatcherError(Exception):
    """Base class of every error the engine raises on purpose."""


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

    def __init__(self, problems, source=None):
        self.problems = list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        lines = [f"{prefix}{len(self.problems)} problem(s)"]
        lines += [f"  {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  … and {len(self.problems) - 50} more")
        super().__init__("\n".join(lines))


class NotFoundError(MatcherError):
    """A firm, round, run or other record that was asked for does not exist."""


class InfeasibleError(MatcherError):
    """Constraints (e.g. staff locks) that cannot all hold; ``reasons`` says why."""

    def __init__(self, reasons):
        self.reasons = list(reasons)
        super().__init__("; ".join(self.reasons))


class ConfigError(MatcherError):
    """A track-rule or weight configuration that cannot be used."""
