"""Checks on imported rows: every field of a firm or an application, each problem named.

Field parsers (``parse_*``) take one cell's text and return the value or raise
``ValueError`` with a reason; :func:`check_firms` and :func:`check_applications` run them
over a frame (as :func:`matcher.importer.read_table` returns it) and collect every
problem as :class:`~matcher.errors.Problem` (row, column, value, reason).
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from . import codelists, codes
from .messages import N_, msg
from .firms import (CERTIFICATE_ALIASES, CERTIFICATE_KINDS, LICENCE_ALIASES, ROLE_ALIASES, SIZE_CLASSES,
                    SIZE_NAMES_EN, Application, Certificate, Firm, Licence, parse_brn)
from .errors import InvalidValueError, Problem, as_msg
from .messages import N_, msg
from .text import MAX_TEXT, TextError, clean_name, clean_text, shown
from .tracks import load_rules, round_rules

FIRM_COLUMNS = {
    "brn": ("사업자등록번호", "사업자번호", "business_registration_number"),
    "name": ("회사명", "기업명", "업체명", "상호", "firm_name", "company"),
    "size_class": ("기업규모", "규모", "size"),
    "founded": ("설립일", "설립일자", "founded_on"),
    "region": ("지역", "소재지", "시도"),
    "ksic": ("업종코드", "산업분류", "ksic_codes"),
    "industry": ("업종", "업종명", "industry_name"),
    "g2b": ("물품분류번호", "g2b_codes"),
    "description": ("제품기술", "제품·기술", "주요제품", "description_ko"),
    "certificates": ("인증", "인증서", "certs"),
    "licences": ("건설면허", "면허", "licenses"),
    "debarment": ("제재기간", "부정당제재", "debarred"),
    "affiliate_group": ("계열그룹", "계열", "affiliate"),
    "members": ("조합원수", "조합원", "member_count"),
}
"""Firm columns: English name → Korean and other accepted headers."""
FIRM_REQUIRED = ("brn", "name", "size_class", "region")

APPLICATION_COLUMNS = {
    "round": ("회차", "round_name"),
    "brn": ("사업자등록번호", "사업자번호"),
    "role": ("역할", "구분"),
    "track": ("과제", "과제유형"),
    "product_code": ("신청물품", "물품번호", "세부품명번호", "물품목록번호", "product"),
    "text": ("내용", "신청내용", "요청사항"),
    "preferences": ("선호기업", "preferred"),
}
"""Application columns: English name → Korean and other accepted headers."""
APPLICATION_REQUIRED = ("brn", "role", "track")

MAX_LENGTH = {"name": 200, "affiliate_group": 50, "round": 100, "region": 20, "size_class": 20,
              "brn": 40, "role": 20, "track": 40, "founded": 40, "debarment": 80, "product_code": 40}
"""The longest cell accepted per column: the database column's width (``matcher.db``) where the cell is
stored as it is, else a bound well above any valid value; other columns take up to ``MAX_TEXT``."""
NAMES = frozenset({"name", "round", "affiliate_group"})
"""Columns read as names (:func:`matcher.text.clean_name`: look-alikes made one, invisible characters dropped)."""
SINGLE_LINE = frozenset({"brn", "name", "size_class", "founded", "region", "affiliate_group", "round", "role",
                         "track", "product_code", "debarment"})
"""Columns whose cells may not hold a line break or tab."""

SIZE_ALIASES = {s: s for s in SIZE_CLASSES}
SIZE_ALIASES.update({en: ko for ko, en in SIZE_NAMES_EN.items()})
SIZE_ALIASES.update({"micro": "소상공인", "small": "소기업", "medium": "중기업", "mid-sized": "중견기업",
                     "midsize": "중견기업", "large": "대기업"})

_DATE = re.compile(r"^(\d{4})[-./]?(\d{1,2})[-./]?(\d{1,2})\.?(?:[ T]00:00(?::00)?)?$")
_LIST_SEP = re.compile(r"[;,\n]")


MAX_MEMBERS = 100_000


@lru_cache(maxsize=1)
def column_headers():
    """Column name → the Korean header a file uses for it (the first Korean alias)."""
    headers = {}
    for aliases in (APPLICATION_COLUMNS, FIRM_COLUMNS):
        for column, names in aliases.items():
            korean = [n for n in names if not n.isascii()]
            if korean:
                headers[column] = korean[0]
    return headers


def parse_members(text):
    """조합원수: a whole number 1..100,000 (``7``, ``7.0``, ``1,200``); empty means 1 (set by the caller)."""
    cleaned = text.replace(",", "").strip()
    if not re.fullmatch(r"\d{1,6}(\.0*)?", cleaned) or not 1 <= int(float(cleaned)) <= MAX_MEMBERS:
        raise InvalidValueError(msg("value.members", max=MAX_MEMBERS))
    return int(float(cleaned))


def parse_date(text):
    """``2024-01-31``, ``2024.1.31``, ``2024/01/31``, ``20240131`` (and Excel's ``… 00:00:00``) → date.

    Examples
    --------
    >>> parse_date("2024.1.31")
    datetime.date(2024, 1, 31)
    """
    m = _DATE.match(str(text).strip())
    if not m:
        raise InvalidValueError(msg("value.not_a_date", format="YYYY-MM-DD"))
    try:
        return date(*map(int, m.groups()))
    except ValueError:
        raise InvalidValueError(msg("value.not_a_calendar_date")) from None


def parse_period(text):
    """``2026-01-01~2026-12-31`` → (from, to); either side may be empty (open-ended)."""
    parts = str(text).split("~")
    if len(parts) != 2:
        raise InvalidValueError(msg("value.not_a_period"))
    start, end = (parse_date(p) if p.strip() else None for p in parts)
    if start and end and start > end:
        raise InvalidValueError(msg("value.period_reversed"))
    return start, end


def split_list(text):
    """Split a cell on ';' (or ',' or newlines), dropping empty items."""
    return [item.strip() for item in _LIST_SEP.split(str(text)) if item.strip()]


def parse_size(text):
    key = str(text).strip()
    size = SIZE_ALIASES.get(key) or SIZE_ALIASES.get(key.lower())
    if size is None:
        raise InvalidValueError(msg("value.not_a_size", sizes=list(SIZE_CLASSES)))
    return size


def parse_ksic(text):
    """';'-separated 5-digit KSIC sub-classes → list of codes."""
    found = []
    for code in split_list(text):
        if not (len(code) == 5 and code.isdigit()):
            raise InvalidValueError(msg("value.not_ksic5", code=repr(code)))
        codes.ksic_section(code)
        found.append(code)
    return found


def parse_g2b(text):
    """';'-separated 8-digit G2B 물품분류번호 → list of codes."""
    found = []
    for code in split_list(text):
        code = code.replace("-", "")
        if not (len(code) == 8 and code.isdigit()):
            raise InvalidValueError(msg("value.not_g2b8", code=repr(code)))
        found.append(code)
    return found


def parse_certificate(text):
    """``직접생산확인:4617161001:2024-01-01~2026-12-31`` → :class:`Certificate` (code and period optional)."""
    parts = [p.strip() for p in str(text).split(":")]
    kind_text = parts[0]
    kind = CERTIFICATE_ALIASES.get(kind_text.replace(" ", "")) or (
        kind_text if kind_text in CERTIFICATE_KINDS else None)
    if kind is None:
        known = ", ".join(ko for ko, _en in CERTIFICATE_KINDS.values())
        raise InvalidValueError(msg("value.unknown_certificate", kind=repr(kind_text), known=known))
    code = parts[1].replace("-", "") if len(parts) > 1 else ""
    if code and not (code.isdigit() and len(code) in (8, 10, 16)):
        raise InvalidValueError(msg("value.certificate_code", code=repr(code)))
    if kind == "direct_production" and not code:
        raise InvalidValueError(msg("value.direct_production_code"))
    start, end = parse_period(parts[2]) if len(parts) > 2 and parts[2] else (None, None)
    if len(parts) > 3:
        raise InvalidValueError(msg("value.not_a_certificate"))
    return Certificate(kind, code, start, end)


def parse_certificates(text):
    return [parse_certificate(item) for item in split_list(text)]


def parse_licences(text):
    """``종합:건축; 전문:전기`` → list of :class:`Licence`."""
    found = []
    for item in split_list(text):
        kind_text, _, work = item.partition(":")
        kind = LICENCE_ALIASES.get(kind_text.strip())
        if kind is None:
            raise InvalidValueError(msg("value.unknown_licence", kind=repr(kind_text.strip())))
        found.append(Licence(kind, work.strip()))
    return found


def certificate_key(cert):
    """A certificate as a comparable tuple (kind, code, valid_from, valid_to)."""
    return (cert.kind, cert.code or "", cert.valid_from, cert.valid_to)


# --- rows -------------------------------------------------------------------------------------


def _missing_columns(frame, required):
    return missing_column_problems(required, set(frame.columns))


_MISSING = {"brn": N_("import.missing_brn"), "size_class": N_("import.missing_size_class")}


def missing_column_problems(required, present):
    """A problem for each ``required`` column not in ``present``; what a missing 사업자등록번호 or 기업규모
    means is said in full, since public firm lists (KRX's 상장법인목록, say) carry neither."""
    return [Problem(None, col, None, msg(_MISSING[col], option="--columns", mapping="data/columns.krx.toml")
                    if col in _MISSING else msg("upload.column_missing"))
            for col in required if col not in present]


class _Row:
    """One row being checked: reads cells through parsers, recording problems."""

    def __init__(self, number, cells, problems):
        self.number, self.cells, self.problems = number, cells, problems
        self.ok = True

    def get(self, column, parser=None, required=False, default=None):
        value = self.cells.get(column, "")
        if value == "":
            if required:
                self.fail(column, value, msg("value.empty"))
            return default
        try:
            if column in NAMES:
                value = clean_name(value, MAX_LENGTH.get(column, MAX_TEXT))
                if not value:
                    self.fail(column, shown(self.cells[column]), "has only spaces or invisible characters")
                    return default
            else:
                value = clean_text(value, MAX_LENGTH.get(column, MAX_TEXT), single_line=column in SINGLE_LINE)
        except TextError as exc:
            self.fail(column, shown(value), exc.reason)
            return default
        if parser is None:
            return value
        try:
            return parser(value)
        except ValueError as exc:
            self.fail(column, value, as_msg(exc))
            return default

    def fail(self, column, value, reason):
        self.ok = False
        self.problems.append(Problem(self.number, column, value, reason))


def _no_rows(frame):
    return [Problem(None, None, None, msg("upload.no_rows"))] if frame.empty else []


def check_firms(frame, notes=None):
    """Every problem in a firms frame, and the :class:`Firm` of each good row."""
    problems = _missing_columns(frame, FIRM_REQUIRED) or _no_rows(frame)
    if problems:
        return [], problems
    records, first_row = [], {}
    for number, cells in zip(frame.index, frame.to_dict("records")):
        row = _Row(number, cells, problems)
        firm = _firm_from_row(row, notes)
        if firm is not None and firm.brn in first_row:
            row.fail("brn", cells["brn"], msg("upload.repeated_brn", row=first_row[firm.brn]))
        elif firm is not None:
            first_row[firm.brn] = number
        if row.ok:
            records.append((number, firm))
    return records, problems


def _firm_from_row(row, notes):
    brn = row.get("brn", parse_brn, required=True)
    name = row.get("name", required=True)
    size = row.get("size_class", parse_size, required=True)
    founded = row.get("founded", parse_date)
    region = row.get("region", codes.normalize_region, required=True)
    debarment = row.get("debarment", parse_period, default=(None, None))
    if notes is not None:
        _note_repairs(row, notes, region=region, size_class=size, founded=founded, debarment=debarment)
    firm = Firm(
        brn=brn, name=name, size_class=size, region=region, founded=founded,
        ksic_codes=_ksic_with_industry(row, notes),
        g2b_codes=row.get("g2b", parse_g2b, default=[]),
        description=row.get("description", default=""),
        certificates=row.get("certificates", parse_certificates, default=[]),
        licences=row.get("licences", parse_licences, default=[]),
        affiliate_group=row.get("affiliate_group"),
        members=row.get("members", parse_members, default=1),
    )
    firm.debarred_from, firm.debarred_to = debarment
    return firm if brn else None


def _ksic_with_industry(row, notes):
    """The 업종코드 cell's KSIC codes, then the code of the 업종 (a KSIC name, as public firm lists give it).

    An 업종 that names no KSIC level is left out with a note: the firm is still imported.
    """
    found = row.get("ksic", parse_ksic, default=[])
    industry = row.get("industry", default="")
    if industry and industry.isdigit():  # a file whose 업종 column holds the code itself
        return found + [c for c in row.get("industry", parse_ksic, default=[]) if c not in found]
    if industry:
        code = codes.ksic_code_for_name(industry)
        if code and code not in found:
            found.append(code)
        if notes is not None:
            notes.append(Problem(row.number, "industry", industry,
                                 msg("import.industry_read", ksic=code) if code else msg("import.industry_unknown")))
    return found


_EXCEL_MIDNIGHT = re.compile(r"[ T]00:00(?::00)?$")


def _note_repairs(row, notes, **values):
    """A note for each cell read as something other than its text ('small' → '소기업', '20150301' → '2015-03-01')."""
    for column, value in values.items():
        cell = row.cells.get(column, "")
        if column == "debarment" and any(value):
            shown = "~".join(d.isoformat() if d else "" for d in value)
            typed = re.sub(r"\s", "", _EXCEL_MIDNIGHT.sub("", cell))
        elif isinstance(value, date):
            shown, typed = value.isoformat(), _EXCEL_MIDNIGHT.sub("", cell)
        else:
            shown, typed = value, cell
        if value and cell and shown != typed:
            notes.append(Problem(row.number, column, cell, msg("upload.read_as", value=str(shown))))


def check_applications(frame, rounds, known_brns, round_name=None, only_round=False, code_lists=None, notes=None):
    """Every problem in an applications frame, and the :class:`Application` of each good row.

    ``rounds`` maps round names to objects with ``open_tracks`` and ``rule_overrides`` (such
    as :class:`matcher.db.RoundRow`); each row is checked against its round's rules
    (:func:`matcher.tracks.round_rules`). ``known_brns`` are the firms that exist (in the
    database or the same import). With ``only_round`` every row must be of round ``round_name`` (an upload
    on one round's page): a row naming another round is refused, not written into that round.
    ``code_lists`` maps round names to the
    :class:`matcher.codelists.Lists` in force on each round's reference date (default: the lists in use);
    a well-formed 10-digit 세부품명번호 on none of them is accepted with a warning added to ``notes``.
    """
    problems = _missing_columns(frame, APPLICATION_REQUIRED)
    if "round" not in frame.columns and not round_name:
        problems.append(Problem(None, "round", None, msg("upload.round_column_missing")))
    problems = problems or _no_rows(frame)
    if problems:
        return [], problems
    default = load_rules()
    track_names = {r.name_ko: key for key, r in default.items()} | {key: key for key in default}
    rules_of = {name: round_rules(r) for name, r in rounds.items()}
    records, seen = [], {}
    for number, cells in zip(frame.index, frame.to_dict("records")):
        row = _Row(number, cells, problems)
        app = _application_from_row(row, rules_of, known_brns, round_name, track_names, default, only_round,
                                    code_lists or {}, notes)
        key = app and (app.round_name, app.brn, app.role, app.track)
        if key and all(key) and key in seen:
            row.fail("brn", cells["brn"], msg("upload.applies_again", role=msg(N_("role." + app.role)),
                                              track=msg(N_("track." + app.track)), row=seen[key]))
        elif key and all(key):
            seen[key] = number
        if row.ok:
            records.append((number, app))
    return records, problems


def _application_from_row(row, rules_of, known_brns, round_name, track_names, default, only_round=False,
                          code_lists=None, notes=None):
    cell = row.cells.get("round", "")
    name = (row.get("round") or "") if cell else round_name
    if cell and not name:
        pass  # refused by row.get (a control character, too long)
    elif not name:
        row.fail("round", "", msg("upload.round_empty"))
    elif only_round and name != round_name:
        row.fail("round", name, msg("upload.other_round", round=round_name))
    elif name not in rules_of:
        row.fail("round", name, msg("upload.not_a_round", round=name))
    rules = rules_of.get(name, default)
    brn = row.get("brn", parse_brn, required=True)
    if brn and brn not in known_brns:
        row.fail("brn", row.cells["brn"], msg("upload.unknown_firm"))
    role = row.get("role", _parse_role, required=True)
    track = row.get("track", lambda t: _parse_track(t, track_names), required=True)
    if track and name in rules_of and not rules[track].open:
        row.fail("track", row.cells["track"], msg("upload.track_not_open", round=name))
    product = row.get("product_code", default="").replace("-", "").replace(" ", "")
    if track:
        with codelists.using(code_lists.get(name) or codelists.active()):
            _check_product(row, product, rules[track], notes)
    prefs = row.get("preferences", lambda t: [parse_brn(b) for b in split_list(t)], default=[])
    return Application(round_name=name or "", brn=brn or "", role=role or "", track=track or "",
                       product_code=product, text=row.get("text", default=""), preferences=prefs)


def _parse_role(text):
    role = ROLE_ALIASES.get(text.strip()) or ROLE_ALIASES.get(text.strip().lower())
    if role is None:
        raise InvalidValueError(msg("value.not_a_role"))
    return role


def _parse_track(text, track_names):
    key = track_names.get(text.strip()) or track_names.get(text.strip().lower())
    if key is None:
        raise InvalidValueError(msg("track.unknown", known=[k for k in track_names if not k.isascii()]))
    return key


_PRODUCT_RULES = {
    "sme_competition": (10, N_("product.sme_competition")),
    "catalogue": (16, N_("product.catalogue")),
    "detailed": (10, N_("product.detailed")),
}


def _check_product(row, product, rule, notes=None):
    value = row.cells.get("product_code", "")
    if product and not product.isdigit():
        row.fail("product_code", value, msg("upload.product_not_digits"))
        return
    if rule.product == "construction":
        if product and len(product) not in (8, 10, 16):
            row.fail("product_code", value, msg("upload.product_length"))
        return
    length, wanted = _PRODUCT_RULES[rule.product]
    if len(product) != length:
        row.fail("product_code", value, msg("upload.product_wanted", wanted=msg(wanted), track=_track(rule)))
    elif rule.product == "sme_competition" and not codes.is_sme_competition(product):
        row.fail("product_code", value, msg("import.product_not_listed", date=codes.product_list().valid_from,
                                            track=_track(rule)))
    if len(product) == 10 and rule.product != "sme_competition" and notes is not None \
            and not codes.is_known_detailed(product):
        notes.append(Problem(row.number, "product_code", value, msg("import.product_unlisted")))


def _track(rule):
    return msg(N_("track." + rule.key))
