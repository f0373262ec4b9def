"""The plain-file interface of ``matcher solve``: read and validate the CSV files.

- ``leads.csv``: ``lead_id`` and optionally ``members`` (SMEs a 조합 lead stands for; empty = 1)
- ``partners.csv``: ``partner_id,min_leads,max_leads`` (empty ``max_leads`` = no upper limit);
  whole numbers 0..:data:`MAX_CAPACITY` written as digits (``5`` or ``5.0``; not ``inf``,
  ``1e19`` or ``5.5``)
- ``edges.csv``: ``lead_id,partner_id,score`` (0 <= score <= :data:`MAX_SCORE` = 1e12, higher is better),
  at most :data:`MAX_EDGES` rows (counted before the file is parsed)
- ``locks.csv`` / ``forbid.csv``: ``lead_id,partner_id``

Every problem in every file is reported at once, naming the file, the row (the header is
row 1) and the value; nothing is solved until all files are clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError

COLUMNS = {
    "leads": ["lead_id"],
    "partners": ["partner_id", "min_leads", "max_leads"],
    "edges": ["lead_id", "partner_id", "score"],
    "pairs": ["lead_id", "partner_id"],
}

OPTIONAL = {"leads": ["members"]}

MAX_SCORE = 1e12
"""The largest score accepted: totals of larger scores lose float precision and the solver's answer."""
MAX_CAPACITY = 1_000_000
"""The largest ``min_leads``/``max_leads``/``members`` accepted (far above any round; refuses ``1e19``)."""
MAX_EDGES = 2_000_000
"""The most rows ``edges.csv`` may have: reading them peaks near 0.6 GB and solving stays under 2 GB;
a larger file is refused before it is parsed (its lines are counted in 1 MB blocks)."""
MAX_ROWS = {"edges": MAX_EDGES, "pairs": MAX_EDGES, "leads": MAX_EDGES, "partners": MAX_EDGES}


@dataclass
class Instance:
    """A validated instance, ready for :func:`matcher.assignment.solve`."""

    leads: list
    partners: pd.DataFrame
    edges: pd.DataFrame
    locks: list
    forbid: list
    members: list | None = None
    """SMEs each lead stands for (``leads.csv`` ``members``), or None when the column is absent."""


def read_instance(leads, partners, edges, locks=None, forbid=None):
    """Read and validate the files of one instance.

    Parameters
    ----------
    leads, partners, edges : str or Path
    locks, forbid : str or Path, optional

    Returns
    -------
    Instance

    Raises
    ------
    ValidationError
        Listing every problem of every file (an :class:`InstanceError` when several files
        have problems). Ids in a file that cannot be read are not checked against.
    """
    found = {}
    lead_frame = _read_into(found, leads, "leads")
    part_frame = _read_into(found, partners, "partners")
    members = None
    if lead_frame is not None:
        _add(found, leads, _check_ids(lead_frame, "lead_id"))
        members = _check_members(lead_frame, found, leads)
    if part_frame is not None:
        _add(found, partners, _check_ids(part_frame, "partner_id"))
        part_frame = _check_capacities(part_frame, found, partners)
    known = (None if lead_frame is None else set(lead_frame["lead_id"]),
             None if part_frame is None else set(part_frame["partner_id"]))
    edge_frame = _read_into(found, edges, "edges")
    if edge_frame is not None:
        edge_frame = _check_edges(edge_frame, found, edges, known)
    pairs = []
    for path in (locks, forbid):
        frame = _read_into(found, path, "pairs") if path else None
        pairs.append([] if frame is None else _check_pairs(frame, found, path, known))
    _raise(found)
    return Instance(list(lead_frame["lead_id"]), part_frame, edge_frame, pairs[0], pairs[1], members)


class InstanceError(ValidationError):
    """Problems in several files of one instance; ``files`` maps each file to its problems."""

    def __init__(self, files):
        self.files = files
        super().__init__([p for problems in files.values() for p in problems])

    def text(self, lang="ko"):
        """Each file's problems under its name, in ``lang``."""
        return "\n".join(ValidationError(problems, source=path).text(lang) for path, problems in self.files.items())


def write_pairs(solution, path):
    """Write ``lead_id,partner_id,score`` of the chosen pairs."""
    solution.pairs.to_csv(path, index=False)


def _read_into(found, path, kind):
    """The frame of ``path``, or None with its problem recorded in ``found``."""
    try:
        return _read(path, kind)
    except ValidationError as exc:
        _add(found, path, exc.problems)
        return None


def _add(found, path, problems):
    if problems:
        found.setdefault(str(path), []).extend(problems)


def _read(path, kind):
    _check_size(path, kind)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        frame = _read_cp949(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError([Problem(None, None, None, f"cannot read as CSV ({exc})")], source=str(path)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in COLUMNS[kind] if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns) or "none"
        raise ValidationError([Problem(None, c, None, f"missing column (found: {found})") for c in missing],
                              source=str(path))
    keep = COLUMNS[kind] + [c for c in OPTIONAL.get(kind, []) if c in frame.columns]
    return frame[keep].apply(lambda col: col.str.strip())


def _check_size(path, kind):
    """Refuse a file with more data rows than :data:`MAX_ROWS` before pandas reads it."""
    limit = MAX_ROWS[kind]
    lines = 0
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                lines += block.count(b"\n")
                if lines > limit + 1:
                    raise ValidationError([Problem(None, None, None,
                                                   f"has more than {limit:,} rows, the most `matcher solve` reads "
                                                   f"(split the instance, e.g. by track)")], source=str(path))
    except OSError:
        return  # pandas reports it


def _read_cp949(path):
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="cp949")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValidationError([Problem(None, None, None, f"cannot read as CSV ({exc})")], source=str(path)) from None


def _rows(mask):
    return np.flatnonzero(np.asarray(mask)) + 2


def _check_ids(frame, column):
    values = frame[column]
    problems = [Problem(r, column, "", "is empty") for r in _rows(values == "")]
    dup = values.duplicated() & (values != "")
    first = {v: i + 2 for i, v in reversed(list(enumerate(values)))}
    problems += [Problem(r, column, values.iloc[r - 2], f"duplicate {column} (first at row {first[values.iloc[r - 2]]})")
                 for r in _rows(dup)]
    return problems


def _check_capacities(frame, found, path):
    problems = []
    mins = _integers(frame, "min_leads", problems, allow_empty=False)
    maxs = _integers(frame, "max_leads", problems, allow_empty=True)
    bad = (maxs >= 0) & (mins > maxs)
    problems += [Problem(r, "min_leads", frame["min_leads"].iloc[r - 2],
                         f"is greater than max_leads {frame['max_leads'].iloc[r - 2]!r}") for r in _rows(bad)]
    _add(found, path, problems)
    return pd.DataFrame({"partner_id": frame["partner_id"], "min_leads": mins,
                         "max_leads": [None if m < 0 else int(m) for m in maxs]})


def _integers(frame, column, problems, allow_empty, minimum=0):
    """Whole numbers ``minimum..MAX_CAPACITY`` written as digits (``5``, ``5.0``); -1 where empty or wrong.

    ``inf``, ``1e30``, ``1e19``, ``5.5`` and ``-1`` are refused with the row and value
    (pandas would read ``inf`` as a float and turn it into a garbage integer).
    """
    text = frame[column]
    digits = text.str.fullmatch(r"\d{1,7}(\.0*)?")
    values = pd.to_numeric(text.where(digits, ""), errors="coerce")
    empty = text == ""
    wrong = (~digits | (values < minimum) | (values > MAX_CAPACITY)) & ~(empty & allow_empty)
    what = "a whole number >= 0" if minimum == 0 else f"a whole number >= {minimum}"
    problems += [Problem(r, column, text.iloc[r - 2], f"is not {what} (at most {MAX_CAPACITY:,})")
                 for r in _rows(wrong)]
    return values.where(~wrong, -1).fillna(-1).to_numpy().astype(np.int64)


def _check_members(frame, found, path):
    if "members" not in frame.columns:
        return None
    problems = []
    counts = _integers(frame, "members", problems, allow_empty=True, minimum=1)
    _add(found, path, problems)
    return [int(c) if c >= 1 else 1 for c in counts]


def _check_edges(frame, found, path, known):
    problems = _unknown(frame, known)
    score = pd.to_numeric(frame["score"], errors="coerce")
    wrong = score.isna() | ~np.isfinite(score.fillna(0)) | (score < 0)
    problems += [Problem(r, "score", frame["score"].iloc[r - 2], "is not a number >= 0") for r in _rows(wrong)]
    problems += [Problem(r, "score", frame["score"].iloc[r - 2],
                         f"is above {MAX_SCORE:g}, the largest score the solver adds up exactly")
                 for r in _rows(~wrong & (score > MAX_SCORE))]
    dup = frame.duplicated(["lead_id", "partner_id"])
    problems += [Problem(r, "lead_id,partner_id", f"{frame['lead_id'].iloc[r - 2]},{frame['partner_id'].iloc[r - 2]}",
                         "duplicate pair") for r in _rows(dup)]
    _add(found, path, problems)
    return frame.assign(score=score.astype(float))


def _check_pairs(frame, found, path, known):
    _add(found, path, _unknown(frame, known))
    return list(frame.drop_duplicates().itertuples(index=False, name=None))


def _unknown(frame, known):
    problems = []
    for column, ids in zip(("lead_id", "partner_id"), known):
        if ids is None:  # that file could not be read; its own problem says so
            continue
        values = frame[column]
        kind = column.split("_")[0]
        problems += [Problem(r, column, values.iloc[r - 2], f"is not a known {kind}")
                     for r in _rows(~values.isin(ids))]
    return problems


def _raise(found):
    for problems in found.values():
        problems.sort(key=lambda p: (p.row or 0))
    if len(found) == 1:
        (path, problems), = found.items()
        raise ValidationError(problems, source=path)
    if found:
        raise InstanceError(found)
