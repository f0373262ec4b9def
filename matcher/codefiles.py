"""Reading the code lists as published: the 통계청 KSIC workbook, the 경쟁제품 list (JSON, CSV or a workbook)
and the G2B 물품분류 (JSON or CSV), each into the table of its kind (:data:`COLUMNS`) with a :class:`RowReport`.

:mod:`matcher.codelists` keeps the versions with their dates; this module only reads files.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import Problem, ValidationError
from .messages import N_, msg

KINDS = ("ksic", "products", "g2b")
COLUMNS = {
    "ksic": ("code", "level", "name_ko", "name_en", "section"),
    "products": ("code", "name", "published"),
    "g2b": ("code", "level", "name_ko", "name_en", "source"),
}
"""The columns of each kind's table (every value a string but KSIC's ``level``, 1 section … 5 세세분류)."""

G2B_LEVELS = {2: "segment", 4: "family", 6: "class", 8: "commodity", 10: "detailed"}


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
