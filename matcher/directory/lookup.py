"""Finding one's own firm: forgiving keys for names and 사업자등록번호, and their ranking.

Pure functions over strings. A query is read as a 사업자등록번호 when it holds only digits and
separators (any dashes, spaces, dots, full-width digits); otherwise as a name, with company-form
words (주식회사, (주), ㈜, 유한회사, Co., Ltd. …), spaces and punctuation ignored, matched by
substring first and then typo-tolerantly (:mod:`rapidfuzz` on the Hangul jamo, and on a
romanised form so that ``Chungga Energy`` finds 청가에너지).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

COMPANY_FORMS = ("주식회사", "유한책임회사", "유한회사", "합자회사", "합명회사", "사단법인", "재단법인", "협동조합",
                 "(주)", "(유)", "(합)", "(사)", "(재)", "주)", "(주", "co.,ltd.", "co.,ltd", "co.ltd", "co.",
                 "ltd.", "ltd", "inc.", "inc", "corp.", "corporation", "corp", "company", "limited", "llc")
_FORM_RE = re.compile("|".join(re.escape(f) for f in sorted(COMPANY_FORMS, key=len, reverse=True)))
_NOT_WORD = re.compile(r"[\W_]+")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―./·,_]+")
FUZZY_CUTOFF = 75.0
ROMAN_CUTOFF = 80.0

# Loanwords common in firm names, read as their English originals before romanising the rest.
LOANWORDS = {"에너지": "energy", "테크놀로지": "technology", "테크": "tech", "시스템즈": "systems",
             "시스템": "system", "솔루션": "solution", "엔지니어링": "engineering", "코리아": "korea",
             "바이오": "bio", "메디칼": "medical", "메디컬": "medical", "네트웍스": "networks",
             "네트워크": "network", "일렉트릭": "electric", "일렉트로닉스": "electronics", "케미칼": "chemical",
             "소프트": "soft", "로보틱스": "robotics", "로봇": "robot", "모빌리티": "mobility", "메카": "mecha",
             "인더스트리": "industry", "글로벌": "global", "디지털": "digital", "스마트": "smart", "랩": "lab",
             "컴퍼니": "company", "그룹": "group", "산업": "sanup", "전자": "electronics"}
_INITIALS = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"]
_VOWELS = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we",
           "wi", "yu", "eu", "ui", "i"]
_FINALS = ["", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t",
           "t", "ng", "t", "t", "k", "t", "p", "t"]


def normalize_text(text):
    """NFKC (full-width digits and letters become ASCII, ㈜ becomes (주)), lower-cased."""
    return unicodedata.normalize("NFKC", str(text or "")).casefold().strip()


def brn_digits(query):
    """The digits of ``query`` when it is a 사업자등록번호 or a prefix of one, else None.

    Examples
    --------
    >>> brn_digits("208 81 07080"), brn_digits("２０８－８１－０７０８０"), brn_digits("청가")
    ('2088107080', '2088107080', None)
    """
    text = _SEPARATORS.sub("", normalize_text(query))
    return text if text.isdigit() and 3 <= len(text) <= 10 else None


def name_key(name):
    """The key a name is matched on: company-form words, spaces and punctuation removed.

    Examples
    --------
    >>> name_key("주식회사 청가 에너지"), name_key("㈜청가에너지"), name_key("Chungga Energy Co., Ltd.")
    ('청가에너지', '청가에너지', 'chunggaenergy')
    """
    text = _FORM_RE.sub(" ", _strip_spaces_in_forms(normalize_text(name)))
    return _NOT_WORD.sub("", text)


def _strip_spaces_in_forms(text):
    return re.sub(r"co\.\s*,\s*ltd", "co.,ltd", text)


def jamo_key(key):
    """``key`` with Hangul syllables split into jamo (NFD), so one wrong vowel is one edit."""
    return unicodedata.normalize("NFD", key)


def roman_key(key):
    """A rough romanisation of ``key`` (loanwords in English, Hangul in Revised Romanisation,
    vowels simplified on both sides) for matching names typed in Latin letters.

    Examples
    --------
    >>> roman_key("청가에너지") == roman_key(name_key("Chungga Energy"))
    True
    """
    for hangul, latin in LOANWORDS.items():
        key = key.replace(hangul, latin)
    out = []
    for ch in key:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _VOWELS[(code % 588) // 28] + _FINALS[code % 28])
        else:
            out.append(ch)
    return _simplify("".join(out))


def _simplify(latin):
    """Collapse spellings used interchangeably in romanised names (eo/u, eu/u, oo/u, k/g, sh/s, l/r)."""
    text = latin.replace("eo", "u").replace("eu", "u").replace("oo", "u")
    for a, b in (("k", "g"), ("sh", "s"), ("l", "r")):
        text = text.replace(a, b)
    return text


@dataclass(frozen=True)
class NameKeys:
    """The keys of every firm name, built once (``names`` in the firms' order)."""

    keys: list
    jamo: list
    roman: list

    @classmethod
    def of(cls, names):
        keys = [name_key(n) for n in names]
        return cls(keys, [jamo_key(k) for k in keys], [roman_key(k) for k in keys])


def rank_names(query, keys, limit=None):
    """Positions of the names matching ``query``, best first, with how each matched.

    Exact key first, then keys starting with the query, then keys containing it (shorter first),
    then typo-tolerant matches (rapidfuzz ``ratio`` on jamo, ≥ :data:`FUZZY_CUTOFF`; and on the
    romanised forms for a Latin query, ≥ :data:`ROMAN_CUTOFF`).

    Parameters
    ----------
    query : str
    keys : NameKeys
    limit : int, optional
        At most this many fuzzy matches are looked for (substring matches are all kept).

    Returns
    -------
    list of (int, str, float)
        (position, "exact" | "prefix" | "contains" | "fuzzy", score 0–100).
    """
    wanted = name_key(query)
    if not wanted:
        return []
    found, seen = [], set()
    for pos, key in enumerate(keys.keys):
        if wanted in key:
            kind = "exact" if key == wanted else "prefix" if key.startswith(wanted) else "contains"
            found.append((pos, kind, 100.0 * len(wanted) / max(len(key), 1)))
            seen.add(pos)
    order = {"exact": 0, "prefix": 1, "contains": 2}
    found.sort(key=lambda item: (order[item[1]], -item[2], item[0]))
    extra = _fuzzy(wanted, keys, seen, limit or 50)
    return found + extra


def _fuzzy(wanted, keys, seen, limit):
    hits = {}
    for pos, score in _extract(jamo_key(wanted), keys.jamo, FUZZY_CUTOFF, limit, fuzz.ratio):
        hits[pos] = score
    if wanted.isascii() and len(wanted) >= 3:
        roman = _simplify(wanted)
        for pos, score in _extract(roman, keys.roman, ROMAN_CUTOFF, limit, fuzz.ratio):
            hits[pos] = max(hits.get(pos, 0.0), score)
        if not hits:
            for pos, score in _extract(roman, keys.roman, ROMAN_CUTOFF, limit, fuzz.partial_ratio):
                hits[pos] = score * 0.95
    out = [(pos, "fuzzy", score) for pos, score in hits.items() if pos not in seen]
    return sorted(out, key=lambda item: (-item[2], item[0]))


def _extract(query, choices, cutoff, limit, scorer):
    results = process.extract(query, choices, scorer=scorer, score_cutoff=cutoff, limit=limit)
    return [(pos, float(score)) for _choice, score, pos in results]
