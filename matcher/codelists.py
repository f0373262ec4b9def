"""The program's code lists as data with dates: KSIC, the 중소기업자간 경쟁제품 list and the G2B 물품분류.

A code list is a table of codes and names (:data:`COLUMNS` per kind) that takes effect on a date
(``valid_from``). The lists shipped in ``data/`` (converted from the official files by
``tools/convert_codes.py``; source, revision and dates in ``data/codes.toml``) are the defaults; staff load
newer (or older) lists into the database with ``matcher codes load KIND FILE --from DATE`` or on the staff
page. A round uses, for each kind, the list in force on its reference date (:func:`lists_on`).

Readers (:func:`read_list`) take the files as published: the 통계청 KSIC workbook, the 경쟁제품 list as JSON,
CSV or a workbook, the G2B 물품분류 as JSON or CSV, and each returns the table with a :class:`RowReport`
(rows read, kept, skipped and why). This module knows nothing of the web or the command line.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd

from .errors import Problem, ValidationError
from .messages import N_, msg
from .paths import DATA_DIR

KINDS = ("ksic", "products", "g2b")
COLUMNS = {
    "ksic": ("code", "level", "name_ko", "name_en", "section"),
    "products": ("code", "name", "published"),
    "g2b": ("code", "level", "name_ko", "name_en", "source"),
}
"""The columns of each kind's table (every value a string but KSIC's ``level``, 1 section … 5 세세분류)."""

SHIPPED_FILES = {"ksic": "ksic.csv", "products": "sme_competition_products.csv", "g2b": "g2b_classes.csv"}
G2B_LEVELS = {2: "segment", 4: "family", 6: "class", 8: "commodity", 10: "detailed"}


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


@dataclass
class RowReport:
    """What a reader made of a file: rows read, kept, each skipped row and why, counts per level."""

    kind: str
    source: str
    read: int = 0
    kept: int = 0
    skipped: list = field(default_factory=list)  # Problem per row left out
    levels: dict = field(default_factory=dict)   # level → rows kept

    def messages(self):
        """The report as messages: the counts, each level's, then the skipped rows (the first 20)."""
        out = [msg("codes.report", file=self.source, read=self.read, kept=self.kept, skipped=len(self.skipped))]
        out += [msg("codes.level_count", level=level_name(self.kind, level), count=count)
                for level, count in self.levels.items()]
        out += [msg("codes.skipped_row", row=p.row or "", column=p.column or "", value=p.value or "",
                    reason=p.reason) for p in self.skipped[:20]]
        if len(self.skipped) > 20:
            out.append(msg("codes.skipped_more", count=len(self.skipped) - 20))
        return out


_OTHER_LEVEL = N_("codes.level.other")
_KIND_CODES = {"ksic": N_("codes.kind.ksic"), "products": N_("codes.kind.products"), "g2b": N_("codes.kind.g2b")}
_LEVEL_CODES = {
    ("ksic", "1"): N_("codes.level.ksic1"), ("ksic", "2"): N_("codes.level.ksic2"),
    ("ksic", "3"): N_("codes.level.ksic3"), ("ksic", "4"): N_("codes.level.ksic4"),
    ("ksic", "5"): N_("codes.level.ksic5"),
    ("g2b", "segment"): N_("codes.level.segment"), ("g2b", "family"): N_("codes.level.family"),
    ("g2b", "class"): N_("codes.level.class"), ("g2b", "commodity"): N_("codes.level.commodity"),
    ("g2b", "detailed"): N_("codes.level.detailed"), ("products", "10-digit"): N_("codes.level.detailed"),
}


def kind_name(kind):
    """The name of a kind of code list, as a message."""
    return msg(_KIND_CODES[kind])


def level_name(kind, level):
    """The name of a level of a kind of code list (KSIC ``"5"`` → 세세분류), as a message."""
    return msg(_LEVEL_CODES.get((kind, str(level)), _OTHER_LEVEL), level=str(level))


# --- reading the published files -----------------------------------------------------------------


def read_list(kind, path):
    """Read a code list file as published.

    Parameters
    ----------
    kind : {'ksic', 'products', 'g2b'}
    path : str or Path
        KSIC: the 통계청 workbook (``.xlsx``: code, Korean name, English name, sections as ``A 농업…(01~03)``)
        or a CSV in :data:`COLUMNS` form. Products: JSON ``[{"code", "name"}, …]``, or CSV/XLSX with a
        세부품명번호 (code) and a 품명 (name) column. G2B: JSON ``[{"code", "name", "parent"}, …]`` or CSV.

    Returns
    -------
    table : pandas.DataFrame
        The kind's :data:`COLUMNS`, one row per code, sorted by code.
    report : RowReport

    Raises
    ------
    ValidationError
        When the file cannot be read or yields no code at all.
    """
    if kind not in KINDS:
        raise ValidationError([Problem(None, None, kind, msg("codes.problem.not_kind", kinds=list(KINDS)))])
    path = Path(path)
    report = RowReport(kind, path.name)
    reader = {"ksic": _read_ksic, "products": _read_products, "g2b": _read_g2b}[kind]
    table = reader(path, report)
    if table.empty:
        raise ValidationError([Problem(None, None, None, msg("codes.problem.no_codes", kind=kind))] + report.skipped[:50],
                              source=str(path))
    table = sort_codes(kind, table.drop_duplicates("code", keep="first"))
    report.kept = len(table)
    level_column = "level" if "level" in table.columns else None
    report.levels = (table[level_column].astype(str).value_counts(sort=False).to_dict() if level_column
                     else {"10-digit": len(table)})
    return table[list(COLUMNS[kind])], report


def sort_codes(kind, table):
    """Rows in code order; KSIC's by section first (``A``, ``01``, ``011`` … ``B``, ``05`` …)."""
    if kind == "ksic":
        key = table["section"] + table["code"].where(table["code"].str.isdigit(), "")
        order = key.argsort(kind="stable")
    else:
        order = table["code"].argsort(kind="stable")
    return table.iloc[order].reset_index(drop=True)


def _cells(path, report):
    """Rows of the first sheet of a workbook or of a CSV, each a tuple of stripped strings."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from zipfile import BadZipFile

        from openpyxl import load_workbook
        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except (OSError, ValueError, KeyError, BadZipFile) as exc:
            raise _unreadable(path, msg("codes.problem.unreadable", format="XLSX", error=str(exc))) from exc
        try:
            return [tuple("" if v is None else str(v).strip() for v in r)
                    for r in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=_encoding(path), header=None)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise _unreadable(path, msg("codes.problem.unreadable", format="CSV", error=str(exc))) from exc
    return [tuple(v.strip() for v in r) for r in frame.itertuples(index=False)]


def _encoding(path):
    head = path.read_bytes()[:65536]
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the 64 KiB window
            return "utf-8"
        return "cp949"


def _unreadable(path, reason):
    return ValidationError([Problem(None, None, str(path.name), reason)], source=str(path))


def _json(path):
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise _unreadable(path, msg("codes.problem.unreadable", format="JSON", error=str(exc))) from exc


# KSIC


_SECTION_ROW = re.compile(r"^([A-U])\s+(.+?)\s*(?:\([\d~\s,]+\))?\s*$")
_KSIC_DIGITS = re.compile(r"^\d{2,5}$")


def _read_ksic(path, report):
    from .codes import ksic_section
    rows = _cells(path, report)
    if rows and [c.lower() for c in rows[0][:5]] == list(COLUMNS["ksic"]):
        return _ksic_from_csv(rows, report)
    records = []
    for number, row in enumerate(rows, start=1):
        row = tuple(_dots(c) for c in row) + ("", "", "")
        first = row[0]
        if not any(row):
            continue
        if not first and records and records[-1][1] > 1:  # a name wrapped onto the next row
            code, level, name_ko, name_en, section = records[-1]
            records[-1] = (code, level, _join(name_ko, row[1]), _join(name_en, row[2]), section)
            continue
        section = _SECTION_ROW.match(first)
        if section and not any(row[1:3]):
            name_en = next((r[0] for r in rows[number:number + 2] if r and r[0]), "")
            records.append((section.group(1), 1, section.group(2), name_en, section.group(1)))
        elif _KSIC_DIGITS.match(first):
            report.read += 1
            try:
                records.append((first, len(first), row[1], row[2], ksic_section(first)))
            except ValueError as exc:
                report.skipped.append(Problem(number, "code", first, exc.args[0] if exc.args else str(exc)))
            if not row[1]:
                report.skipped.append(Problem(number, "name_ko", "", msg("codes.problem.empty")))
                records.pop()
        elif number > 1 and first and not _is_english_line(rows, number):
            report.skipped.append(Problem(number, "code", first, msg("codes.problem.not_ksic")))
    report.read += sum(1 for r in records if r[1] == 1)
    return pd.DataFrame.from_records(records, columns=list(COLUMNS["ksic"]))


_DOTS = str.maketrans({"\u2024": "·", "\u318d": "·", "\u2027": "·", "\u30fb": "·"})


def _dots(text):
    """One middle dot (U+00B7) for the several the published files use (ㆍ, ․, ‧, ・) between words."""
    return text.translate(_DOTS)


def _join(head, tail):
    return f"{head.strip()} {tail.strip()}".strip() if tail else head


def _is_english_line(rows, number):
    """The English name of a section sits on the row after the section's own row."""
    before = rows[number - 2] if number >= 2 else ()
    return bool(before) and bool(_SECTION_ROW.match(before[0] if before else ""))


def _ksic_from_csv(rows, report):
    from .codes import ksic_section
    records = []
    for number, row in enumerate(rows[1:], start=2):
        report.read += 1
        code, level, name_ko, name_en, section = (tuple(row) + ("",) * 5)[:5]
        try:
            if not (code.isalpha() and len(code) == 1 or _KSIC_DIGITS.match(code)):
                raise ValueError(msg("codes.problem.not_ksic"))
            wanted = 1 if code.isalpha() else len(code)
            records.append((code, wanted, name_ko, name_en, ksic_section(code)))
            if not name_ko:
                records.pop()
                report.skipped.append(Problem(number, "name_ko", "", msg("codes.problem.empty")))
        except ValueError as exc:
            report.skipped.append(Problem(number, "code", code, exc.args[0] if exc.args else str(exc)))
    return pd.DataFrame.from_records(records, columns=list(COLUMNS["ksic"]))


# SME-competition products

_CODE_HEADERS = ("code", "code10", "세부품명번호", "세부품명 번호", "물품분류번호", "품목코드")
_NAME_HEADERS = ("name", "세부품명", "품명", "제품명", "품목명")


def _read_products(path, report):
    if path.suffix.lower() == ".json":
        items = _json(path)
        if not isinstance(items, list):
            raise _unreadable(path, msg("codes.problem.not_list", fields="code, name"))
        pairs = [(i, (item.get("code"), item.get("name")) if isinstance(item, dict) else (None, None))
                 for i, item in enumerate(items, start=1)]
    else:
        rows = _cells(path, report)
        header = next((i for i, r in enumerate(rows[:20]) if _find(r, _CODE_HEADERS) is not None), None)
        if header is None:
            raise _unreadable(path, msg("codes.problem.no_code_column"))
        ci, ni = _find(rows[header], _CODE_HEADERS), _find(rows[header], _NAME_HEADERS)
        pairs = [(number, (r[ci] if ci < len(r) else "", r[ni] if ni is not None and ni < len(r) else ""))
                 for number, r in enumerate(rows[header + 1:], start=header + 2) if any(r)]
    records = []
    for number, (code, name) in pairs:
        report.read += 1
        code = re.sub(r"[\s-]", "", str(code or ""))
        published = str(name or "").strip()
        if not (len(code) == 10 and code.isdigit()):
            report.skipped.append(Problem(number, "code", code, msg("codes.problem.not_detailed")))
        elif not published:
            report.skipped.append(Problem(number, "name", "", msg("codes.problem.empty")))
        else:
            records.append((code, clean_product_name(published), published))
    return pd.DataFrame.from_records(records, columns=list(COLUMNS["products"]))


def _find(row, names):
    keys = [re.sub(r"\s", "", c).lower() for c in row]
    for name in names:
        key = re.sub(r"\s", "", name).lower()
        if key in keys:
            return keys.index(key)
    return None


_TRAILING_MARKS = re.compile(r"(?:\s*(?:(?<![A-Za-z])[ox]|-))+\s*$")
_SINGLE = re.compile(r"^[가-힣]$")
_LONE_END = re.compile(r"(?:^|[^가-힣])[가-힣]$")
_LONE_START = re.compile(r"^[가-힣](?:[^가-힣]|$)")


def clean_product_name(published):
    """A product name as printed in the designation notice, without the layout marks its text carries.

    The published list's text runs its columns together: letter-spaced names (``보 차 도 용``), the
    직접생산 mark (``o``/``x``) and an empty column (``-``) after the name. Those are taken off; a 비고 (note)
    run into the name is left as it is (it cannot be told from the name by its letters alone).

    Examples
    --------
    >>> clean_product_name("보 차 도 용 콘 크 리 트 블 록o")
    '보차도용콘크리트블록'
    >>> clean_product_name("대형냉장고 o -")
    '대형냉장고'
    >>> clean_product_name("스 마 트LED실 내 조 명 등o")
    '스마트LED실내조명등'
    >>> clean_product_name("흡음형방음벽 및 방음판")
    '흡음형방음벽 및 방음판'
    """
    text = _TRAILING_MARKS.sub("", published.strip()).strip()
    words = text.split(" ")
    if sum(bool(_SINGLE.match(w)) for w in words) < 3:
        return text or published.strip()
    out = words[0]
    for before, word in zip(words, words[1:]):
        glued = bool(_LONE_END.search(before)) and bool(_LONE_START.match(word))
        out += word if glued else " " + word
    return out


# G2B


def _read_g2b(path, report):
    if path.suffix.lower() != ".json":
        return _g2b_from_csv(path, report)
    items = _json(path)
    if not isinstance(items, list):
        raise _unreadable(path, msg("codes.problem.not_list", fields="code, name, parent"))
    records, parents = [], {}
    for number, item in enumerate(items, start=1):
        report.read += 1
        code = re.sub(r"[\s-]", "", str(item.get("code", "") if isinstance(item, dict) else ""))
        name = str(item.get("name", "") if isinstance(item, dict) else "").strip()
        parent = str(item.get("parent", "") if isinstance(item, dict) else "").strip()
        if not (code.isdigit() and len(code) in G2B_LEVELS):
            report.skipped.append(Problem(number, "code", code, msg("codes.problem.not_g2b")))
            continue
        if not name:
            report.skipped.append(Problem(number, "name", "", msg("codes.problem.empty")))
            continue
        records.append((code, G2B_LEVELS[len(code)], name, "", "file"))
        if parent and len(code) >= 8:
            parents.setdefault(code[:len(code) - 2], parent)
    named = {r[0] for r in records}
    for code, parent in parents.items():  # a code's parent is the level above: its name is sourced too
        if code not in named:
            records.append((code, G2B_LEVELS[len(code)], parent, "", "file (parent name)"))
    return pd.DataFrame.from_records(records, columns=list(COLUMNS["g2b"]))


def _g2b_from_csv(path, report):
    rows = _cells(path, report)
    header = [c.lower() for c in rows[0]] if rows else []
    if "code" not in header or "name_ko" not in header:
        raise _unreadable(path, msg("codes.problem.g2b_columns", columns="code, name_ko", optional="name_en, source"))
    at = {name: header.index(name) for name in header}
    records = []
    for number, row in enumerate(rows[1:], start=2):
        report.read += 1
        get = lambda name: row[at[name]] if name in at and at[name] < len(row) else ""  # noqa: E731
        code = re.sub(r"[\s-]", "", get("code"))
        if not (code.isdigit() and len(code) in G2B_LEVELS):
            report.skipped.append(Problem(number, "code", code, msg("codes.problem.not_g2b")))
        elif not get("name_ko"):
            report.skipped.append(Problem(number, "name_ko", "", msg("codes.problem.empty")))
        else:
            records.append((code, G2B_LEVELS[len(code)], get("name_ko"), get("name_en"), get("source") or "file"))
    return pd.DataFrame.from_records(records, columns=list(COLUMNS["g2b"]))


def content_sha256(table):
    """A digest of a table's content (its rows in code order), so re-loading an unchanged list is seen."""
    text = table.astype(str).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        As :func:`read_list` returns.
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
