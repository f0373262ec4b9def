"""The program's code lists as data with dates: KSIC, the 중소기업자간 경쟁제품 list and the G2B 물품분류.

A code list is a table of codes and names (:data:`COLUMNS` per kind) that takes effect on a date
(``valid_from``). The lists shipped in ``data/`` (converted from the official files by
``tools/convert_codes.py``; source, revision and dates in ``data/codes.toml``) are the defaults; staff load
newer (or older) lists into the database with ``matcher codes load KIND FILE --from DATE`` or on the staff
page. A round uses, for each kind, the list in force on its reference date (:func:`lists_on`).

The files as published are read by :mod:`matcher.codefiles` (:func:`matcher.codefiles.read_list`, with a :class:`RowReport`:
rows read, kept, skipped and why). This module knows nothing of the web or the command line.
"""

from __future__ import annotations

import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import pandas as pd

from .codefiles import (COLUMNS, KINDS, RowReport, clean_product_name, content_sha256, kind_name,  # noqa: F401
                        level_name, read_list, sort_codes)
from .paths import DATA_DIR

SHIPPED_FILES = {"ksic": "ksic.csv", "products": "sme_competition_products.csv", "g2b": "g2b_classes.csv"}


@dataclass(frozen=True)
class CodeList:
    """One version of one kind of code list.

    ``table`` has the kind's :data:`COLUMNS`; ``valid_from`` is the date it takes effect (``valid_to``, when
    the source says, the last day it was designated for); ``version_id`` is the database row (None for a
    shipped list).
    """

    kind: str
    valid_from: date
    table: pd.DataFrame = field(repr=False, compare=False, hash=False)
    revision: str = ""
    source: str = ""
    sha256: str = ""
    valid_to: date | None = None
    version_id: int | None = None

    @property
    def key(self):
        """What tells two versions apart in caches: the kind, the date and the content."""
        return (self.kind, self.valid_from, self.sha256)

    @property
    def rows(self):
        return len(self.table)


# --- the shipped lists ----------------------------------------------------------------------------


@cache
def shipped_meta():
    """``data/codes.toml``: for each kind, the shipped versions (file, revision, source, dates)."""
    return tomllib.loads((DATA_DIR / "codes.toml").read_text(encoding="utf-8"))


@cache
def shipped(kind):
    """The shipped :class:`CodeList` versions of ``kind``, oldest first (``data/`` with ``data/codes.toml``)."""
    versions = []
    for meta in shipped_meta()[kind]:
        table = pd.read_csv(DATA_DIR / meta["file"], dtype=str, keep_default_na=False)
        if kind == "ksic":
            table["level"] = table["level"].astype(int)
        table = table[list(COLUMNS[kind])]
        versions.append(CodeList(kind, meta["valid_from"], table, revision=meta.get("revision", ""),
                                 source=meta.get("source", ""), sha256=content_sha256(table),
                                 valid_to=meta.get("valid_to")))
    return tuple(sorted(versions, key=lambda v: v.valid_from))


# --- the lists in force on a date (a round's reference date) ---------------------------------------


@dataclass(frozen=True)
class Lists:
    """The code list of each kind that a round uses."""

    ksic: CodeList
    products: CodeList
    g2b: CodeList

    def __getitem__(self, kind):
        return getattr(self, kind)


_ACTIVE: ContextVar[Lists | None] = ContextVar("matcher_code_lists", default=None)


def active():
    """The :class:`Lists` set by :func:`using` in this context, or None (then the shipped lists apply)."""
    return _ACTIVE.get()


@contextmanager
def using(lists):
    """Use ``lists`` (a :class:`Lists`, or None for the shipped ones) for code look-ups inside the block."""
    token = _ACTIVE.set(lists)
    try:
        yield lists
    finally:
        _ACTIVE.reset(token)


def activate(lists):
    """Use ``lists`` in this context until :func:`deactivate` (a web request's before and teardown hooks);
    returns the token to give back."""
    return _ACTIVE.set(lists)


def deactivate(token):
    _ACTIVE.reset(token)


def in_force(versions, on):
    """The version in force on ``on``: the latest ``valid_from`` not after it, else the earliest of all.

    Parameters
    ----------
    versions : list of CodeList
        One kind's versions (shipped and loaded).
    on : datetime.date

    Examples
    --------
    >>> import pandas as pd
    >>> old = CodeList("products", date(2022, 1, 1), pd.DataFrame())
    >>> new = CodeList("products", date(2025, 1, 1), pd.DataFrame())
    >>> in_force([old, new], date(2024, 12, 31)).valid_from
    datetime.date(2022, 1, 1)
    >>> in_force([old, new], date(2021, 6, 1)).valid_from  # before every list: the earliest
    datetime.date(2022, 1, 1)
    """
    ordered = sorted(versions, key=lambda v: (v.valid_from, v.version_id is not None, v.version_id or 0))
    started = [v for v in ordered if v.valid_from <= on]
    return started[-1] if started else ordered[0]


@cache
def shipped_lists(on):
    """The shipped lists in force on ``on`` (no database)."""
    return Lists(*(in_force(shipped(kind), on) for kind in KINDS))


_DEFAULT = []  # at most one Lists set by set_default()


def default_lists():
    """The lists used outside a round: those set by :func:`set_default`, else the shipped ones in force today."""
    return _DEFAULT[0] if _DEFAULT else shipped_lists(date.today())


def set_default(lists):
    """Use ``lists`` outside a round (the web app sets today's lists from the database); None: the shipped."""
    _DEFAULT.clear()
    if lists is not None:
        _DEFAULT.append(lists)


# --- versions in the database ------------------------------------------------------------------


@dataclass(frozen=True)
class StoreResult:
    """What :func:`store_version` did: ``status`` is 'added', 'replaced' or 'unchanged'."""

    status: str
    version: CodeList
    report: RowReport | None = None
    replaced_rows: int = 0


def _row_list(row):
    table = pd.DataFrame.from_records([tuple(e) for e in row.entries], columns=list(COLUMNS[row.kind]))
    if row.kind == "ksic":
        table["level"] = table["level"].astype(int)
    return CodeList(row.kind, row.valid_from, table, revision=row.revision, source=row.source, sha256=row.sha256,
                    valid_to=row.valid_to, version_id=row.id)


def store_version(session, kind, table, valid_from, source="", revision="", valid_to=None, actor="", report=None):
    """Store ``table`` as the ``kind`` list that takes effect on ``valid_from`` (in the caller's transaction).

    Loading the same content for the same date again changes nothing; other content for a date that already
    has a list replaces it (the audit log keeps who did it and the old digest).

    Parameters
    ----------
    session : sqlalchemy.orm.Session
    kind : {'ksic', 'products', 'g2b'}
    table : pandas.DataFrame
        As :func:`matcher.codefiles.read_list` returns.
    valid_from : datetime.date
    source, revision : str
        The file's name and what it is (e.g. 'KSIC 11th revision'); shown by ``matcher codes list``.

    Returns
    -------
    StoreResult
    """
    from sqlalchemy import select

    from . import db
    table = table[list(COLUMNS[kind])]
    digest = content_sha256(table)
    row = session.scalars(select(db.CodeListVersionRow).filter_by(kind=kind, valid_from=valid_from)).first()
    if row is not None and row.sha256 == digest:
        return StoreResult("unchanged", _row_list(row), report)
    entries = [list(r) for r in table.astype(object).itertuples(index=False)]
    entries = [[int(v) if isinstance(v, int) or hasattr(v, "item") else v for v in r] for r in entries]
    status, old_rows, old_digest = ("replaced", row.rows, row.sha256) if row is not None else ("added", 0, "")
    if row is None:
        row = db.CodeListVersionRow(kind=kind, valid_from=valid_from)
        session.add(row)
    row.valid_to, row.revision, row.source = valid_to, revision[:300], source[:300]
    row.sha256, row.rows, row.entries, row.loaded_by = digest, len(table), entries, actor or ""
    row.loaded_at = db._now()
    session.flush()
    db.audit(session, actor, "codes.load", kind=kind, valid_from=valid_from.isoformat(), source=source,
             rows=len(table), sha256=digest, status=status, replaced_sha256=old_digest)
    _stored_cache.clear()
    return StoreResult(status, _row_list(row), report, old_rows)


def stored_versions(session, kind=None):
    """The lists loaded into the database (of ``kind``, or all), oldest first per kind."""
    from sqlalchemy import select

    from . import db
    stmt = select(db.CodeListVersionRow).order_by(db.CodeListVersionRow.kind, db.CodeListVersionRow.valid_from)
    if kind is not None:
        stmt = stmt.filter_by(kind=kind)
    return [_cached_row_list(row) for row in session.scalars(stmt)]


_stored_cache = {}  # (id, sha256) → CodeList: a round's many look-ups read each stored list once


def _cached_row_list(row):
    key = (row.id, row.sha256)
    found = _stored_cache.get(key)
    if found is None:
        if len(_stored_cache) > 16:
            _stored_cache.clear()
        found = _stored_cache[key] = _row_list(row)
    return found


def all_versions(session, kind):
    """The shipped and the loaded versions of ``kind``, by the date each takes effect."""
    stored = stored_versions(session, kind)
    replaced = {v.valid_from for v in stored}
    shipped_ones = [v for v in shipped(kind) if v.valid_from not in replaced]
    return sorted(shipped_ones + stored, key=lambda v: v.valid_from)


def lists_on(session, on):
    """The :class:`Lists` in force on ``on`` (a round's reference date): shipped and loaded versions alike.

    Examples
    --------
    A round judged on 2024-12-31 uses the 경쟁제품 list designated before 2025-01-01 if one is loaded,
    else the earliest list there is (every list applies to dates before the first).
    """
    return Lists(*(in_force(all_versions(session, kind), on) for kind in KINDS))


@dataclass(frozen=True)
class VersionSummary:
    """One line of ``matcher codes list``: a version, whether it is shipped and whether it is in force today."""

    kind: str
    valid_from: date
    valid_to: date | None
    rows: int
    levels: dict
    revision: str
    source: str
    shipped: bool
    in_force: bool
    loaded_by: str = ""


def summaries(session, on=None):
    """Every version of every kind (shipped and loaded) with counts per level, the one in force on ``on`` marked."""
    on = on or date.today()
    out = []
    for kind in KINDS:
        versions = all_versions(session, kind)
        current = in_force(versions, on)
        for v in versions:
            levels = (v.table["level"].astype(str).value_counts(sort=False).to_dict() if "level" in v.table.columns
                      else {})
            out.append(VersionSummary(kind, v.valid_from, v.valid_to, v.rows, levels, v.revision, v.source,
                                      v.version_id is None, v is current))
    return out
