"""Import firms and applications from the files program staff keep (CSV or Excel).

Reading (:func:`read_table`) accepts UTF-8, UTF-8 with BOM and CP949/EUC-KR CSV, and XLSX;
everything is read as text so leading zeros survive, and Korean or English headers map to
the same column names. Validation (:func:`validate_firms`, :func:`validate_applications`)
checks every row and field and collects *all* problems. Import (:func:`import_firms`,
:func:`import_applications`) is all-or-nothing by default; with ``skip_invalid`` the good
rows go in and the refused ones are written to ``<file>.rejected.csv`` with a reason.
Rows upsert by 사업자등록번호 (firms) and by (round, firm, role, track) (applications),
so importing the same file twice changes nothing; a firm column the file does not have
leaves the stored values alone (an empty cell in a column it has clears them).
"""

from __future__ import annotations

import io
import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from zipfile import BadZipFile

import pandas as pd
from sqlalchemy import select
from tqdm import tqdm

from . import db
from .errors import Problem, ValidationError
from .messages import N_, msg
from .validate import (APPLICATION_COLUMNS, APPLICATION_REQUIRED, FIRM_COLUMNS, FIRM_REQUIRED, certificate_key,
                       check_applications, check_firms, missing_column_problems)

__all__ = ["read_table", "validate_firms", "validate_applications", "import_firms",
           "import_applications", "rejected_frame", "ImportResult", "FIRM_COLUMNS", "APPLICATION_COLUMNS"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
OLD_EXCEL_SUFFIXES = (".xls",)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel (.xls) and other OLE2 compound files
FALLBACK_ENCODINGS = ("utf-8-sig", "cp949")
MAX_ROWS = 200_000
"""The most data rows one file may have (the rest is never read: split a larger file)."""
MAX_COLUMNS = 200
"""The most columns one file may have."""


# --- reading ----------------------------------------------------------------------------------


def read_table(source, encoding=None, columns=None, filename=None, required=None, max_rows=None):
    """Read a CSV or XLSX file of firms or applications into a frame of strings.

    Parameters
    ----------
    source : str, Path or binary file-like
        A path, or an uploaded file (anything with ``read()``); its format is taken from
        ``filename`` or the object's ``name``/``filename`` attribute (``.xlsx`` → Excel, else CSV).
    encoding : str, optional
        CSV encoding; by default UTF-8 (with or without BOM), then CP949, then a guess by
        charset-normalizer.
    columns : dict or str or Path, optional
        Extra header mapping ``{"업체명": "name"}``, or a TOML file with a ``[columns]`` table.
    filename : str, optional
        The name to detect the format from when ``source`` is a file-like object.
    required : iterable of str, optional
        Column names the file must have; checked on the header before any row is read.
    max_rows : int, optional
        The most data rows accepted (default :data:`MAX_ROWS`); reading stops as soon as there are more.
        A file may have at most :data:`MAX_COLUMNS` columns.

    Returns
    -------
    pandas.DataFrame
        One column per header, renamed to the English column names where one is known
        (:data:`FIRM_COLUMNS`, :data:`APPLICATION_COLUMNS`); empty cells are ``""``; the
        index is the spreadsheet row number (the header is row 1); completely empty rows
        are dropped. ``df.attrs["headers"]`` maps each column back to the file's header.

    Raises
    ------
    ValidationError
        When the file cannot be read or decoded, is an old Excel file, lacks a ``required`` column, or has
        too many rows or columns.
    """
    name = _source_name(source, filename)
    raw = _read_bytes(source, name)
    extra = _column_map(columns)
    limit = MAX_ROWS if max_rows is None else max_rows
    sheet_note = None
    if name.lower().endswith(OLD_EXCEL_SUFFIXES) or raw[:8] == OLE2_MAGIC:
        raise ValidationError([Problem(None, None, None, msg("upload.old_excel", old=".xls", new=".xlsx"))], source=name)
    try:
        if name.lower().endswith(EXCEL_SUFFIXES):
            frame, sheet_note = _read_workbook(raw, extra, limit, required, name)
        else:
            text = _decode(raw, encoding, name)
            header = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=0,
                                 skipinitialspace=True)
            _check_header(list(header.columns), extra, required, name)
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                                skip_blank_lines=False, skipinitialspace=True, nrows=limit + 1)
    except (ValueError, KeyError, OSError, BadZipFile, pd.errors.ParserError) as exc:
        raise ValidationError([Problem(None, None, None, msg("upload.not_a_table", why=str(exc)))],
                              source=name) from exc
    if len(frame) > limit:
        raise ValidationError([Problem(None, None, None, msg("upload.too_many_rows", n=limit))], source=name)
    frame = _tidy(frame, extra, name)
    frame.attrs["sheet_note"] = sheet_note
    return frame


def _check_header(headers, extra, required, name):
    """Refuse a file with too many columns or without a ``required`` column, from its header alone."""
    if len(headers) > MAX_COLUMNS:
        raise ValidationError([Problem(None, None, None, msg("upload.too_many_columns", n=len(headers),
                                                             max=MAX_COLUMNS))], source=name)
    if required:
        aliases = _header_aliases()
        present = {extra.get(_nfc(h)) or aliases.get(_header_key(_nfc(h))) for h in headers}
        missing = missing_column_problems(required, present)
        if missing:
            raise ValidationError(missing, source=name)


def _nfc(text):
    return unicodedata.normalize("NFC", str(text)).strip()


def _read_workbook(raw, extra, limit, required, name):
    """The first sheet with a 사업자등록번호 (brn) column (else the first sheet), and a note naming it.

    Read in openpyxl's streaming (read-only) mode: the header of each sheet first, then at most
    ``limit + 1`` rows of the chosen one. The note is None when the workbook has a single sheet.
    """
    from openpyxl import load_workbook

    from .xlsx_guard import check_workbook
    check_workbook(raw, name)  # before openpyxl builds a gigabyte cell
    book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    try:
        names = book.sheetnames
        if not names:
            raise ValueError("the workbook has no sheets")
        aliases = _header_aliases()
        headers = {}
        for sheet in names:
            first = next(book[sheet].iter_rows(max_row=1, values_only=True), ())
            headers[sheet] = list(first)[:MAX_COLUMNS + 1]
        with_brn = [n for n in names if "brn" in {extra.get(_nfc(h)) or aliases.get(_header_key(_nfc(h)))
                                                  for h in headers[n] if h is not None}]
        chosen = with_brn[0] if with_brn else names[0]
        header = _column_names(headers[chosen])
        _check_header(header, extra, required, name)
        rows = []
        for values in book[chosen].iter_rows(min_row=2, values_only=True):
            rows.append(["" if v is None else str(v) for v in values[:MAX_COLUMNS + 1]])
            if len(rows) > limit:
                break
    finally:
        book.close()
    width = max([len(header), *map(len, rows)]) if rows else len(header)
    if width > len(header):
        header = _column_names(headers[chosen] + [None] * (width - len(header)))
        _check_header(header, extra, None, name)
    while header and header[-1].startswith("Unnamed: ") and all(len(r) < len(header) or r[len(header) - 1] == ""
                                                               for r in rows):
        header.pop()  # trailing empty columns (openpyxl reads the sheet's full width)
    frame = pd.DataFrame([r[:len(header)] + [""] * (len(header) - len(r)) for r in rows], columns=header, dtype=str)
    if len(names) == 1:
        return frame, None
    return frame, msg(N_("upload.sheet_with_brn") if with_brn else N_("upload.sheet_without_brn"), sheet=repr(chosen),
                      sheets=[repr(n) for n in names])


def _column_names(cells):
    """Header cells as pandas names them: empty → ``Unnamed: i``, a repeated name → ``name.1``."""
    names, seen = [], {}
    for i, cell in enumerate(cells):
        text = f"Unnamed: {i}" if cell is None or str(cell).strip() == "" else str(cell)
        if text in seen:
            seen[text] += 1
            text = f"{text}.{seen[text]}"
        else:
            seen[text] = 0
        names.append(text)
    return names


def _read_bytes(source, name):
    if hasattr(source, "read"):
        data = source.read()
        return data.encode("utf-8") if isinstance(data, str) else data
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise ValidationError([Problem(None, None, None, msg("upload.cannot_open", why=str(exc.strerror)))],
                              source=name) from exc


def _decode(raw, encoding, name):
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ValidationError([Problem(None, None, encoding, msg("upload.cannot_decode", why=str(exc)))],
                                  source=name) from exc
    for enc in FALLBACK_ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ValidationError([Problem(None, None, None, msg("upload.unknown_encoding"))], source=name)
    return str(best)


def _column_map(columns):
    """The extra header mapping: ``columns`` itself (a dict) or the ``[columns]`` table of a TOML file.

    Every entry must map a header to one of our column names; all bad entries are reported at once.
    """
    if columns is None:
        return {}
    source = "columns mapping" if isinstance(columns, dict) else str(columns)
    table = columns if isinstance(columns, dict) else _read_column_file(Path(columns))
    targets = set(FIRM_COLUMNS) | set(APPLICATION_COLUMNS)
    problems = []
    for header, target in table.items():
        if not isinstance(target, str):
            problems.append(Problem(None, str(header), str(target), "must map to a column name in quotes"))
        elif target.strip() not in targets:
            problems.append(Problem(None, str(header), target,
                                    f"is not one of our columns ({', '.join(sorted(targets))})"))
    if problems:
        raise ValidationError(problems, source=source)
    return {str(k).strip(): v.strip() for k, v in table.items()}


def _read_column_file(path):
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("columns")
    except OSError as exc:
        reason = f"cannot be opened ({exc.strerror})"
    except UnicodeDecodeError:
        reason = "is not UTF-8 text (save the mapping file as UTF-8)"
    except tomllib.TOMLDecodeError as exc:
        reason = f"is not valid TOML ({exc})"
    else:
        if isinstance(table, dict):
            return table
        reason = "needs a [columns] table mapping headers to our column names"
    raise ValidationError([Problem(None, None, None, reason)], source=str(path))


def _header_aliases():
    aliases = {}
    for spec in (FIRM_COLUMNS, APPLICATION_COLUMNS):
        for canonical, names in spec.items():
            for alias in (canonical, *names):
                aliases.setdefault(_header_key(alias), canonical)
    return aliases


def _header_key(text):
    return str(text).strip().lower().replace(" ", "").replace("_", "")


def _tidy(frame, extra, name=None):
    aliases = _header_aliases()
    headers = [unicodedata.normalize("NFC", str(h)).strip() for h in frame.columns]
    renamed = [extra.get(h) or aliases.get(_header_key(h), h) for h in headers]
    _refuse_ambiguous_columns(headers, renamed, name)
    frame = frame.set_axis(renamed, axis=1).fillna("")
    frame = frame.loc[:, ~frame.columns.duplicated()]
    frame = frame.apply(lambda col: col.astype(str).str.strip())
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")
    frame = frame[(frame != "").any(axis=1)]
    frame.attrs["headers"] = dict(zip(renamed, headers))
    return frame


_MANGLED = re.compile(r"^(.*)\.(\d+)$")


def _refuse_ambiguous_columns(headers, renamed, name):
    """Two headers that give the same column of ours (``사업자등록번호`` and ``brn``, or one header twice).

    pandas reads a repeated header ``X`` as ``X.1``; that is taken as ``X`` again. Columns we do not
    read may repeat.
    """
    ours = set(FIRM_COLUMNS) | set(APPLICATION_COLUMNS)
    by_column = {}
    for header, column in zip(headers, renamed):
        base = _MANGLED.match(header)
        if column not in ours and base and base.group(1) in headers:
            header, column = base.group(1), renamed[headers.index(base.group(1))]
        if column in ours:
            by_column.setdefault(column, []).append(header)
    problems = [Problem(None, column, None, msg("upload.column_repeated", n=len(found), headers=[repr(h) for h in found]))
                for column, found in by_column.items() if len(found) > 1]
    if problems:
        raise ValidationError(problems, source=name)


# --- validation -------------------------------------------------------------------------------


def validate_firms(frame, notes=None):
    """Check every row of a firms frame (from :func:`read_table`).

    Parameters
    ----------
    frame : pandas.DataFrame
    notes : list, optional
        Repairs made (e.g. '서울특별시' → '서울') are appended here as :class:`Problem`.

    Returns
    -------
    records : list of (int, Firm)
        The spreadsheet row and the firm, for each row without problems.
    problems : list of Problem
        Every problem found, with row, column and value.
    """
    return check_firms(frame, notes)


def validate_applications(frame, session, round_name=None, known_brns=(), only_round=False, notes=None):
    """Check every row of an applications frame against the database in ``session``.

    Parameters
    ----------
    frame : pandas.DataFrame
    session : sqlalchemy.orm.Session
        Used to look up rounds and firms.
    round_name : str, optional
        The round for rows with an empty 회차 (round) cell.
    only_round : bool, optional
        Refuse rows naming a round other than ``round_name`` (an upload on that round's page).
    known_brns : iterable of str, optional
        사업자등록번호 of firms being imported in the same run (not yet in the database).
    notes : list, optional
        Warnings on accepted rows are appended here (a 세부품명번호 on no loaded list).

    Returns
    -------
    records : list of (int, Application)
    problems : list of Problem
        Each row is checked against the code lists in force on its round's reference date.
    """
    from . import codelists
    rounds = {r.name: r for r in session.scalars(select(db.RoundRow))}
    stored = set(session.scalars(select(db.FirmRow.brn)))
    lists = {name: codelists.lists_on(session, r.reference_date) for name, r in rounds.items()}
    return check_applications(frame, rounds, stored | set(known_brns), round_name, only_round, lists, notes)


# --- import -----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did: counts of rows, the refused rows and where they were written.

    ``rejected_rows`` (with ``skip_invalid``) is the refused rows as a frame with a ``reason``
    column, for a web page to offer as a download; ``notes`` are the repairs made.
    """

    kind: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_path: Path | None = None
    rejected_rows: pd.DataFrame | None = None
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sheet_note: object = None
    """Which sheet of a workbook was read (a :class:`~matcher.messages.Msg`), when it had several."""

    def __str__(self):
        return self.message().text("en")

    def message(self):
        """The counts as a :class:`~matcher.messages.Msg` (``import.summary``)."""
        summary = msg("import.summary", kind=msg(N_("import.kind." + self.kind)), inserted=self.inserted,
                      updated=self.updated, unchanged=self.unchanged, rejected=self.rejected)
        return msg("import.summary_rejected", summary=summary, path=str(self.rejected_path)) if self.rejected_path \
            else summary


def import_firms(source, session, skip_invalid=False, encoding=None, columns=None, filename=None,
                 progress=None):
    """Validate a firms file and upsert its rows by 사업자등록번호 in ``session``.

    Nothing is committed here: the caller's transaction (:func:`matcher.db.transaction`)
    commits or rolls back the whole file.

    Parameters
    ----------
    source : str, Path or binary file-like
        See :func:`read_table`.
    session : sqlalchemy.orm.Session
    skip_invalid : bool
        Import the good rows and write the refused ones to ``<file>.rejected.csv``
        (when ``source`` is a path); otherwise one bad row refuses the whole file.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).

    Returns
    -------
    ImportResult

    Raises
    ------
    ValidationError
        Listing every problem, when any row is invalid and ``skip_invalid`` is false.
    """
    name = _source_name(source, filename)
    frame = read_table(source, encoding=encoding, columns=columns, filename=filename, required=FIRM_REQUIRED)
    result = ImportResult("firms", sheet_note=frame.attrs.get("sheet_note"))
    records, problems = check_firms(frame, result.notes)
    _refuse_or_reject(frame, problems, skip_invalid, source, name, result)
    existing = _firms_by_brn(session, [firm.brn for _row, firm in records])
    present = set(frame.columns)
    for _row, firm in _progress(records, progress, "firms"):
        _upsert_firm(session, existing.get(firm.brn), firm, result, present)
    session.flush()
    return result


def import_applications(source, session, round_name=None, skip_invalid=False, encoding=None,
                        columns=None, filename=None, progress=None, known_brns=(), only_round=False):
    """Validate an applications file and upsert its rows on (round, firm, role, track).

    Parameters are as for :func:`import_firms`, plus ``round_name`` (the round for rows
    whose 회차 cell is empty), ``only_round`` and ``known_brns`` (see :func:`validate_applications`).

    Returns
    -------
    ImportResult

    Raises
    ------
    ValidationError
        Listing every problem, when any row is invalid and ``skip_invalid`` is false.
    """
    name = _source_name(source, filename)
    frame = read_table(source, encoding=encoding, columns=columns, filename=filename,
                       required=APPLICATION_REQUIRED)
    result = ImportResult("applications", sheet_note=frame.attrs.get("sheet_note"))
    records, problems = validate_applications(frame, session, round_name, known_brns, only_round, result.notes)
    _refuse_or_reject(frame, problems, skip_invalid, source, name, result)
    session.flush()
    firms = _firms_by_brn(session, {app.brn for _row, app in records})
    rounds = {r.name: r for r in session.scalars(select(db.RoundRow))}
    round_ids = {rounds[app.round_name].id for _row, app in records}
    existing = {(a.round_id, a.firm_id, a.role, a.track): a for a in session.scalars(
        select(db.ApplicationRow).where(db.ApplicationRow.round_id.in_(round_ids)))}
    for _row, app in _progress(records, progress, "applications"):
        key = (rounds[app.round_name].id, firms[app.brn].id, app.role, app.track)
        _upsert_application(session, existing.get(key), key, app, result)
    session.flush()
    return result


WARNINGS = frozenset({"import.product_unlisted", "import.industry_unknown"})
"""Codes of the notes that are warnings (the row is taken as it is) rather than repairs."""


@dataclass(frozen=True)
class NoteKind:
    """Notes of one kind (the same column, value and reason): the first of them, how many, on which rows."""

    note: Problem
    count: int
    rows: tuple


def note_kinds(notes):
    """``notes`` (repairs and warnings, :class:`Problem`) grouped by kind, in the order each kind first appears.

    A file of 2,745 firms whose 지역 reads 서울특별시 has one kind of repair (서울특별시 → 서울) 1,024 times:
    a person reads it once, with the count.
    """
    kinds = {}
    for note in notes:
        key = (note.column, note.value, str(note.reason))
        kinds.setdefault(key, []).append(note)
    return [NoteKind(found[0], len(found), tuple(n.row for n in found if n.row is not None))
            for found in kinds.values()]


def _source_name(source, filename):
    """The name to report and to detect the format from: ``filename``, the path, or the upload's name."""
    if filename:
        return str(filename)
    if isinstance(source, (str, Path)):
        return str(source)
    return str(getattr(source, "filename", None) or getattr(source, "name", None) or "upload")


def _refuse_or_reject(frame, problems, skip_invalid, source, name, result):
    result.problems = problems
    if not problems:
        return
    if not skip_invalid or any(p.row is None for p in problems):  # a file-wide problem cannot be skipped
        raise ValidationError(problems, source=name)
    result.rejected_rows = rejected_frame(frame, problems)
    result.rejected = len(result.rejected_rows)
    if isinstance(source, (str, Path)) and result.rejected:
        result.rejected_path = Path(str(source) + ".rejected.csv")
        # utf-8-sig: the BOM makes Excel show Korean text correctly
        result.rejected_rows.to_csv(result.rejected_path, index=False, encoding="utf-8-sig")


def rejected_frame(frame, problems):
    """The rows named by ``problems``, with the file's headers plus ``row`` and ``reason`` columns."""
    reasons = {}
    for p in problems:
        if p.row is not None:
            text = f"{p.column}: {p.value!r} {p.reason}" if p.column else p.reason
            reasons.setdefault(p.row, []).append(text)
    rejected = frame.loc[[r for r in frame.index if r in reasons]].copy()
    rejected = rejected.rename(columns=frame.attrs.get("headers", {}))
    rejected.insert(0, "row", rejected.index)
    rejected["reason"] = ["; ".join(reasons[r]) for r in rejected.index]
    return rejected.reset_index(drop=True)


def _progress(items, progress, what):
    if progress is None:
        progress = sys.stderr.isatty()
    return tqdm(items, desc=what, unit="row", disable=not progress or len(items) < 200, leave=False)


def _firms_by_brn(session, brns):
    brns, found = list(brns), {}
    for start in range(0, len(brns), 500):
        chunk = brns[start:start + 500]
        found.update((r.brn, r) for r in session.scalars(select(db.FirmRow).where(db.FirmRow.brn.in_(chunk))))
    return found


def _firm_values(firm):
    return dict(
        name=firm.name, size_class=firm.size_class, region=firm.region, founded=firm.founded,
        ksic_codes=list(firm.ksic_codes), g2b_codes=list(firm.g2b_codes), description=firm.description,
        licences=[{"kind": lic.kind, "work_type": lic.work_type} for lic in firm.licences],
        debarred_from=firm.debarred_from, debarred_to=firm.debarred_to,
        affiliate_group=firm.affiliate_group, members=firm.members,
    )


_STORED_FIELDS = {
    "name": ("name",), "size_class": ("size_class",), "region": ("region",), "founded": ("founded",),
    "ksic": ("ksic_codes",), "g2b": ("g2b_codes",), "description": ("description",), "licences": ("licences",),
    "debarment": ("debarred_from", "debarred_to"), "affiliate_group": ("affiliate_group",),
    "members": ("members",),
}
"""File column → the stored fields it sets (certificates are handled on their own)."""


def _upsert_firm(session, row, firm, result, present):
    """Insert ``firm``, or update the stored row from the columns ``present`` in the file.

    A column the file does not have leaves the stored values alone (re-importing a shorter
    file must not wipe a debarment); an empty cell in a present column clears the value.
    """
    values = _firm_values(firm)
    certs = [certificate_key(c) for c in firm.certificates]
    if row is None:
        row = db.FirmRow(brn=firm.brn, **values)
        row.certificates = [db.CertificateRow(kind=k, code=c, valid_from=f, valid_to=t) for k, c, f, t in certs]
        session.add(row)
        result.inserted += 1
        return
    fields = [f for column, names in _STORED_FIELDS.items() if column in present for f in names]
    changed = {k: values[k] for k in fields if getattr(row, k) != values[k]}
    stored_certs = [(c.kind, c.code or "", c.valid_from, c.valid_to) for c in row.certificates]
    new_certs = "certificates" in present and sorted(stored_certs, key=str) != sorted(certs, key=str)
    if not changed and not new_certs:
        result.unchanged += 1
        return
    for k, v in changed.items():
        setattr(row, k, v)
    if new_certs:
        row.certificates = [db.CertificateRow(kind=k, code=c, valid_from=f, valid_to=t) for k, c, f, t in certs]
    result.updated += 1


def _upsert_application(session, row, key, app, result):
    values = dict(product_code=app.product_code, text=app.text, preferences=list(app.preferences))
    if row is None:
        round_id, firm_id, role, track = key
        session.add(db.ApplicationRow(round_id=round_id, firm_id=firm_id, role=role, track=track, **values))
        result.inserted += 1
    elif all(getattr(row, k) == v for k, v in values.items()):
        result.unchanged += 1
    else:
        for k, v in values.items():
            setattr(row, k, v)
        result.updated += 1

