"""Reference codes a firm profile carries: regions (시도), KSIC industries and G2B product codes.

The regions ship in ``data/regions.csv`` (the 17 시도 with centroids and their share of firms). The code
lists — KSIC (한국표준산업분류, every level of the 10th and 11th revisions), the 중소기업자간 경쟁제품 list and
the G2B 물품분류 — are versions with dates (:mod:`matcher.codelists`): the look-ups here answer from the
list in use (a round's, inside :func:`matcher.codelists.using`; else today's). Nothing is read at import.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import cache

import pandas as pd

from . import codelists
from .errors import InvalidValueError, Problem, ValidationError
from .messages import msg
from .paths import DATA_DIR  # shipped as matcher.data

EARTH_RADIUS_KM = 6371.0088

# --- regions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    """One of the 17 시도: ``short`` ('서울') is the key the rest of the code uses."""

    code: str
    name: str
    short: str
    name_en: str
    lat: float
    lon: float
    firm_share: float


@cache
def regions():
    """The 17 시도 keyed by short name ('서울'), in the order of ``data/regions.csv``.

    Returns
    -------
    dict of str to Region
    """
    with open(DATA_DIR / "regions.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {
        r["short"]: Region(r["code"], r["name"], r["short"], r["name_en"],
                           float(r["lat"]), float(r["lon"]), float(r["firm_share"]))
        for r in rows
    }


# Names in use before the 특별자치도 renamings, and common two-syllable forms.
_OLD_REGION_NAMES = {
    "강원도": "강원", "전라북도": "전북", "제주도": "제주", "충청북": "충북", "충청남": "충남",
    "전라남": "전남", "경상북": "경북", "경상남": "경남", "세종시": "세종", "서울시": "서울",
}


@cache
def _region_aliases():
    aliases = {}
    for short, r in regions().items():
        for alias in (short, r.name, r.name_en, r.code):
            aliases[alias.lower().replace(" ", "")] = short
    for alias, short in _OLD_REGION_NAMES.items():
        aliases[alias] = short
    for short, r in regions().items():
        if r.name.endswith("광역시"):
            aliases[short + "시"] = short
    return aliases


def normalize_region(text):
    """The short name of a 시도 from any usual spelling.

    Parameters
    ----------
    text : str
        '서울', '서울특별시', 'Seoul', 'seoul', the 2-digit code '11', or an address starting with
        one of those ('서울특별시 강남구 …').

    Returns
    -------
    str
        The short name, e.g. '서울'.

    Raises
    ------
    InvalidValueError
        When ``text`` names none of the 17 시도.

    Examples
    --------
    >>> normalize_region("서울특별시")
    '서울'
    >>> normalize_region("Gyeonggi")
    '경기'
    """
    raw = str(text).strip()
    aliases = _region_aliases()
    key = raw.lower().replace(" ", "")
    if key in aliases:
        return aliases[key]
    first = raw.split()[0].lower() if raw.split() else ""
    if first in aliases:
        return aliases[first]
    names = ", ".join(regions())
    raise InvalidValueError(msg("region.unknown", names=names))


def region_distance_km(a, b):
    """Great-circle distance between the centroids of two 시도, in km.

    Examples
    --------
    >>> round(region_distance_km("서울", "부산"))
    325
    >>> region_distance_km("Seoul", "서울특별시")
    0.0
    """
    ra, rb = regions()[normalize_region(a)], regions()[normalize_region(b)]
    lat1, lon1, lat2, lon2 = map(math.radians, (ra.lat, ra.lon, rb.lat, rb.lon))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


# --- KSIC -------------------------------------------------------------------------------------

KSIC_DIVISION_SECTIONS = (
    ((1, 3), "A"), ((5, 8), "B"), ((10, 34), "C"), ((35, 35), "D"), ((36, 39), "E"),
    ((41, 42), "F"), ((45, 47), "G"), ((49, 52), "H"), ((55, 56), "I"), ((58, 63), "J"),
    ((64, 66), "K"), ((68, 68), "L"), ((70, 73), "M"), ((74, 76), "N"), ((84, 84), "O"),
    ((85, 85), "P"), ((86, 87), "Q"), ((90, 91), "R"), ((94, 96), "S"), ((97, 98), "T"),
    ((99, 99), "U"),
)
"""Division number ranges (inclusive) of each KSIC section."""

KSIC_COLUMNS = ("code", "level", "name_ko", "name_en", "section")
_KSIC_CODE = re.compile(r"^(?:[A-U]|\d{2,5})$")

_ksic_override = []  # at most one CodeList set by use_ksic_table()


def ksic_section(code):
    """The section letter (A–U) of a KSIC code of 2 to 5 digits (or a section letter itself).

    Raises
    ------
    InvalidValueError
        When ``code`` is not a KSIC code or its division belongs to no section.

    Examples
    --------
    >>> ksic_section("26421")
    'C'
    >>> ksic_section("42")
    'F'
    """
    code = str(code).strip().upper()
    if not _KSIC_CODE.match(code):
        raise InvalidValueError(msg("ksic.invalid"))
    if code.isalpha():
        return code
    division = int(code[:2])
    for (low, high), section in KSIC_DIVISION_SECTIONS:
        if low <= division <= high:
            return section
    raise InvalidValueError(msg("ksic.no_section", code=code[:2]))


def ksic_list():
    """The KSIC :class:`~matcher.codelists.CodeList` in use.

    Inside :func:`matcher.codelists.using` (a round's run, an import for a round) the list in force on the
    round's reference date; else one set by :func:`use_ksic_table`; else the default
    (:func:`matcher.codelists.default_lists`: the newest shipped or loaded list).
    """
    lists = codelists.active()
    if lists is not None:
        return lists.ksic
    if _ksic_override:
        return _ksic_override[0]
    return codelists.default_lists().ksic


def ksic_table():
    """The KSIC table in use: columns code, level (1 section … 5 sub-class), name_ko, name_en, section."""
    return ksic_list().table


def use_ksic_table(table):
    """Use ``table`` (as :func:`load_ksic_workbook` returns) instead of the shipped ``ksic.csv``.

    ``None`` goes back to the shipped table.
    """
    _ksic_override.clear()
    if table is not None:
        table = table.copy()
        if "section" not in table.columns:
            table["section"] = [ksic_section(c) for c in table["code"]]
        table = table[list(KSIC_COLUMNS)]
        _ksic_override.append(codelists.CodeList("ksic", date.min, table, source="use_ksic_table",
                                                 sha256=codelists.content_sha256(table)))


def ksic_names():
    """Every known KSIC code → (Korean name, English name), of the list in use."""
    return _names_of(ksic_list())


_NAMES = {}  # CodeList.key → {code: (ko, en)}


def _names_of(code_list):
    found = _NAMES.get(code_list.key)
    if found is None:
        table = code_list.table
        ko = table["name_ko"] if "name_ko" in table.columns else table["name"]
        en = table["name_en"] if "name_en" in table.columns else [""] * len(table)
        found = dict(zip(table["code"], zip(ko, en)))
        if len(_NAMES) > 32:
            _NAMES.clear()
        _NAMES[code_list.key] = found
    return found


KSIC_LEVEL_NAMES = {1: ("대분류", "section"), 2: ("중분류", "division"), 3: ("소분류", "group"),
                    4: ("세분류", "class"), 5: ("세세분류", "sub-class")}
"""KSIC levels by the length of their code (the section letter counts as 1)."""


def ksic_level_code(code, level):
    """The code of ``code``'s ancestor at ``level`` (1 section letter … 5 the 5-digit code itself).

    Examples
    --------
    >>> ksic_level_code("20423", 3), ksic_level_code("20423", 1)
    ('204', 'C')
    """
    code = str(code).strip().upper()
    return ksic_section(code) if level == 1 else code[:level]


def ksic_name(code, lang="ko"):
    """The name of the most specific known level of a KSIC code (None if even its section is unknown).

    Examples
    --------
    >>> ksic_name("26")
    '전자부품, 컴퓨터, 영상, 음향 및 통신장비 제조업'
    """
    code = str(code).strip().upper()
    names = ksic_names()
    candidates = [code] if code.isalpha() else [code[:n] for n in range(len(code), 1, -1)]
    try:
        candidates.append(ksic_section(code))
    except ValueError:
        pass
    for c in candidates:
        if c in names:
            return names[c][0 if lang == "ko" else 1]
    return None


def ksic_code_for_name(name):
    """The KSIC code whose Korean name is ``name`` (spaces and middle dots ignored), the deepest level first.

    Public firm lists (KRX's 상장법인목록, say) give a firm's 업종 as a KSIC name, not a code. The list in
    use is searched first, then the other shipped revisions (a list may still use the 10th revision's names).
    None when no list has the name.

    Examples
    --------
    >>> ksic_code_for_name("특수 목적용 기계 제조업")
    '292'
    >>> ksic_code_for_name("화장품제조업")
    '20423'
    """
    key = _name_key(name)
    if not key:
        return None
    for code_list in (ksic_list(), *reversed(codelists.shipped("ksic"))):
        found = _codes_by_name(code_list).get(key)
        if found:
            return found
    return None


_BY_NAME = {}  # CodeList.key → {name key: deepest code}


def _codes_by_name(code_list):
    found = _BY_NAME.get(code_list.key)
    if found is None:
        table = code_list.table.sort_values("level", kind="stable")  # deeper levels overwrite
        found = {_name_key(n): c for c, n in zip(table["code"], table["name_ko"])}
        if len(_BY_NAME) > 8:
            _BY_NAME.clear()
        _BY_NAME[code_list.key] = found
    return found


def _name_key(name):
    return re.sub(r"[\s·ㆍ․‧・,]", "", str(name or ""))


def load_ksic_workbook(path):
    """Read the official 통계청 KSIC workbook (one sheet: code, Korean name, English name).

    Section rows look like ``A 농업, 임업 및 어업(01~03)`` with the English name on the next row;
    codes of 2 to 5 digits are read as text so leading zeros survive (:func:`matcher.codelists.read_list`).

    Returns
    -------
    pandas.DataFrame
        Columns code, level (1 section, 2 division, 3 group, 4 class, 5 sub-class), name_ko,
        name_en, section; one row per code.

    Raises
    ------
    ValidationError
        When the workbook cannot be read or holds no KSIC codes.
    """
    return codelists.read_list("ksic", path)[0]


# --- G2B product codes ------------------------------------------------------------------------

G2B_LEVELS = {2: "segment", 4: "family", 6: "class", 8: "commodity", 10: "detailed"}
"""Levels of a G2B code by length: UNSPSC's four levels, then the 10-digit 세부품명."""


def g2b_list():
    """The G2B 물품분류 :class:`~matcher.codelists.CodeList` in use (as :func:`ksic_list` chooses)."""
    lists = codelists.active()
    return lists.g2b if lists is not None else codelists.default_lists().g2b


def g2b_table():
    """The G2B codes in use: columns code, level, name_ko, name_en, source."""
    return g2b_list().table


def _g2b_names():
    return _names_of(g2b_list())


def _g2b_lookup(code, index):
    code = str(code).strip().replace("-", "")
    if not (code.isdigit() and 2 <= len(code) <= 16):
        raise InvalidValueError(msg("g2b.invalid"))
    names = _g2b_names()
    products = sme_competition_products()
    for n in (10, 8, 6, 4, 2):
        if len(code) < n:
            continue
        prefix = code[:n]
        if prefix in names:
            return names[prefix][index]
        if n == 10 and index == 0 and prefix in products:
            return products[prefix]
    return None


def g2b_name(code):
    """Korean name of the most specific known level of a G2B code (None when nothing is known).

    Accepts an 8-digit 물품분류번호, a 10-digit 세부품명번호, a 16-digit 물품목록번호 or a
    2/4/6-digit segment, family or class.

    Raises
    ------
    InvalidValueError
        When ``code`` is not 2 to 16 digits.

    Examples
    --------
    >>> g2b_name("46171610")
    '보안용카메라'
    >>> g2b_name("4617161012345678")
    '보안용카메라'
    """
    return _g2b_lookup(code, 0)


def g2b_name_en(code):
    """English name of the most specific known level of a G2B code (None when nothing is known)."""
    return _g2b_lookup(code, 1)


# --- SME-competition products -----------------------------------------------------------------

_product_override = []  # at most one dict set by use_product_list()


def product_list():
    """The 중소기업자간 경쟁제품 :class:`~matcher.codelists.CodeList` in use (as :func:`ksic_list` chooses)."""
    lists = codelists.active()
    return lists.products if lists is not None else codelists.default_lists().products


def sme_competition_products():
    """10-digit 세부품명번호 → name of the 중소기업자간 경쟁제품 in use."""
    if _product_override and codelists.active() is None:
        return _product_override[0]
    code_list = product_list()
    found = _PRODUCTS.get(code_list.key)
    if found is None:
        if len(_PRODUCTS) > 16:
            _PRODUCTS.clear()
        found = _PRODUCTS[code_list.key] = dict(zip(code_list.table["code"], code_list.table["name"]))
    return found


_PRODUCTS = {}  # CodeList.key → {code: name}


def is_known_detailed(code):
    """Whether a 10-digit 세부품명번호 is on a list in use (the G2B 물품분류 or the 경쟁제품 list)."""
    code = str(code).strip()
    return code in _g2b_names() or code in sme_competition_products()


def use_product_list(products):
    """Use ``products`` (code10 → name, e.g. from :func:`load_product_list`); ``None`` restores the shipped list."""
    _product_override.clear()
    if products is not None:
        _product_override.append(dict(products))


def is_sme_competition(code):
    """Whether a 10-digit 세부품명번호 is on the SME-competition list in use."""
    return str(code).strip() in sme_competition_products()


def load_product_list(path):
    """Read a list ``[{"code": "1017161101", "name": "석회질비료"}, …]`` (or CSV/XLSX) of SME-competition products.

    Returns
    -------
    dict of str to str
        10-digit code → name.

    Raises
    ------
    ValidationError
        Listing every item whose code is not 10 digits or that lacks a code or name
        (``row`` is the item's 1-based position in the list).
    """
    table, report = codelists.read_list("products", path)
    if report.skipped:
        raise ValidationError(report.skipped, source=str(path))
    return dict(zip(table["code"], table["name"]))
