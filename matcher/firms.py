"""Firms, their identifiers and certificates, and applications to a round.

Plain dataclasses: the storage layer converts its rows into these and the rules,
scoring and solver work on them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from .errors import InvalidValueError
from .messages import msg
from .text import ascii_digits

SIZE_CLASSES = ("소상공인", "소기업", "중기업", "중견기업", "대기업")
"""Size classes, smallest first. 소상공인, 소기업 and 중기업 together are 중소기업 (SMEs)."""

SME_SIZES = frozenset({"소상공인", "소기업", "중기업"})
SMALL_SIZES = frozenset({"소상공인", "소기업"})
LARGE_SIZES = frozenset({"중견기업", "대기업"})
SIZE_NAMES_EN = {
    "소상공인": "micro business",
    "소기업": "small firm",
    "중기업": "medium firm",
    "중견기업": "mid-sized firm",
    "대기업": "large firm",
}

STARTUP_YEARS = 7
"""A 창업기업 (startup) is a firm under this many years old on the round's reference date."""

CERTIFICATE_KINDS = {
    # key: (Korean name, English name)
    "direct_production": ("직접생산확인", "direct-production certificate"),
    "startup": ("창업기업 확인", "startup confirmation"),
    "materials_parts": ("소재부품기업 확인", "materials/parts firm confirmation"),
    "rnd_product": ("R&D 성공제품", "R&D-success product"),
    "patent": ("특허제품", "patented product"),
    "venture": ("벤처기업", "venture firm"),
    "innobiz": ("이노비즈", "Inno-Biz"),
    "mainbiz": ("메인비즈", "Main-Biz"),
    "sobujang": ("소재·부품·장비 전문기업", "materials/parts/equipment specialist"),
    "performance": ("성능인증", "performance certification"),
    "gpass": ("G-PASS", "G-PASS export-capable supplier"),
}
CERTIFICATE_ALIASES = {ko.replace(" ", ""): key for key, (ko, _en) in CERTIFICATE_KINDS.items()}
CERTIFICATE_ALIASES.update({
    "직접생산": "direct_production", "직생": "direct_production", "창업기업": "startup",
    "소재부품": "materials_parts", "R&D": "rnd_product", "RND": "rnd_product", "특허": "patent",
    "벤처": "venture", "소부장": "sobujang", "GPASS": "gpass",
})

LICENCE_KINDS = {"general": ("종합", "general"), "specialty": ("전문", "specialty")}
LICENCE_ALIASES = {"종합": "general", "전문": "specialty", "general": "general", "specialty": "specialty"}

BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)
_DASHES = re.compile("[\u2010-\u2015\u2212\ufe63\uff0d]")
_BRN_SHAPE = re.compile(r"^([0-9]{3})-?([0-9]{2})-?([0-9]{5})$")


def brn_check_digit(first_nine):
    """Check digit of a 사업자등록번호 (business registration number).

    Parameters
    ----------
    first_nine : str
        The first nine digits.

    Returns
    -------
    int
        The tenth digit a valid number must carry.

    Examples
    --------
    >>> brn_check_digit("107815366")
    0
    """
    digits = [int(c) for c in first_nine]
    s = sum(d * w for d, w in zip(digits, BRN_WEIGHTS)) + (5 * digits[8]) // 10
    return (10 - s % 10) % 10


def parse_brn(text):
    """Normalise a 사업자등록번호 to ten digits, verifying its check digit.

    Accepts ``123-45-67890`` and ``1234567890`` (surrounding spaces ignored); full-width and other
    Unicode digits and dashes are read as ASCII (NFKC: ``９００`` → ``900``), so one firm cannot be stored twice.

    Raises
    ------
    InvalidValueError
        With a message saying what is wrong (shape or check digit).

    Examples
    --------
    >>> parse_brn("107-81-53660")
    '1078153660'
    """
    raw = _DASHES.sub("-", ascii_digits(text)).strip()
    m = _BRN_SHAPE.match(raw)
    if not m:
        raise InvalidValueError(msg("brn.invalid"))
    digits = "".join(m.groups())
    if brn_check_digit(digits[:9]) != int(digits[9]):
        raise InvalidValueError(msg("brn.check_digit"))
    return digits


def format_brn(digits):
    """``1078153660`` → ``107-81-53660``."""
    return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"


@dataclass(frozen=True)
class Certificate:
    """A certificate a firm holds, valid from ``valid_from`` to ``valid_to`` inclusive.

    ``code`` is the 세부품명번호 (10 digits) a 직접생산확인 covers, or the product code
    an R&D/patent/performance certificate is for; empty when the certificate is firm-wide.
    """

    kind: str
    code: str = ""
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day):
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )

    @property
    def name_ko(self):
        return CERTIFICATE_KINDS[self.kind][0]

    @property
    def name_en(self):
        return CERTIFICATE_KINDS[self.kind][1]


@dataclass(frozen=True)
class Licence:
    """A construction licence: ``kind`` is ``general`` (종합) or ``specialty`` (전문)."""

    kind: str
    work_type: str = ""


@dataclass
class Firm:
    """A firm's profile as the rules and the scoring see it."""

    brn: str
    name: str
    size_class: str
    region: str
    founded: date | None = None
    ksic_codes: list[str] = field(default_factory=list)
    g2b_codes: list[str] = field(default_factory=list)
    description: str = ""
    certificates: list[Certificate] = field(default_factory=list)
    licences: list[Licence] = field(default_factory=list)
    debarred_from: date | None = None
    debarred_to: date | None = None
    affiliate_group: str | None = None
    members: int = 1
    """SMEs the firm stands for: a 협동조합 or association of SMEs (조합) counts its members toward a
    large partner's minimum and maximum (2021 notice: "5개 이상 중소기업(조합)"); 1 for any other firm."""

    @property
    def is_sme(self):
        return self.size_class in SME_SIZES

    @property
    def is_large(self):
        return self.size_class in LARGE_SIZES

    def is_startup(self, on):
        """창업기업: founded less than seven years before ``on``."""
        if self.founded is None:
            return False
        try:
            anniversary = self.founded.replace(year=self.founded.year + STARTUP_YEARS)
        except ValueError:  # founded on 29 February
            anniversary = date(self.founded.year + STARTUP_YEARS, 3, 1)
        return on < anniversary

    def is_debarred(self, on):
        if self.debarred_from is None and self.debarred_to is None:
            return False
        return (self.debarred_from is None or self.debarred_from <= on) and (
            self.debarred_to is None or on <= self.debarred_to
        )


ROLES = ("lead", "partner")
ROLE_ALIASES = {"lead": "lead", "주관": "lead", "주관기업": "lead",
                "partner": "partner", "협력": "partner", "협력기업": "partner"}


@dataclass
class Application:
    """A firm's entry into a round, as lead (주관기업) or partner (협력기업), for a track.

    ``product_code`` is a 10-digit 세부품명번호 or a 16-digit 물품목록번호; ``text``
    says what the lead needs or what the partner offers. ``preferences`` lists the
    사업자등록번호 of firms on the other side this firm would rather pair with, best first.
    """

    round_name: str
    brn: str
    role: str
    track: str
    product_code: str = ""
    text: str = ""
    preferences: list[str] = field(default_factory=list)
