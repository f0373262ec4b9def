"""Track rules as data (``data/tracks.toml``) and their evaluation with reasons.

"Where is the 5-SME minimum?" — here: each track's ``capacity`` gives, per partner
size class, the minimum and maximum number of leads a partner signs with.

Evaluating a rule never answers a bare yes/no: it returns the list of
:class:`Reason` objects that make a lead, a partner or a pair ineligible (an empty
list means eligible), each in Korean and English.
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import ConfigError, UnknownTrackError
from .firms import CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN, SMALL_SIZES, SME_SIZES
from .messages import Msg, N_, known, msg

from .paths import DATA_DIR
DEFAULT_RULES_PATH = DATA_DIR / "tracks.toml"
TRACKS = ("innovation", "materials", "convergence", "construction", "value")
PRODUCT_KINDS = ("sme_competition", "catalogue", "detailed", "construction")


Reason = Msg
"""Why something is not allowed: a :class:`~matcher.messages.Msg` (``eligibility.*`` codes)."""


def _track(rule):
    return msg(N_("track." + rule.key)) if known("track." + rule.key) else rule.name_ko


@dataclass(frozen=True)
class Capacity:
    """How many leads a partner of the given sizes signs with: ``min``..``max`` (``max`` None = unbounded)."""

    sizes: frozenset
    min: int
    max: int | None


@dataclass(frozen=True)
class TrackRule:
    """The rules of one track. Built by :func:`load_rules`; see ``data/tracks.toml`` for the fields."""

    key: str
    name_ko: str
    name_en: str
    run_by: str
    open: bool
    lead_sizes: frozenset
    lead_any_of: tuple
    partner_sizes: frozenset
    partner_certificates_any: tuple
    certificate_covers_product: bool
    product: str
    capacity: tuple
    lead_licence: bool = False
    partner_licence: bool = False
    weights: tuple = ()
    """The score's weights as ``((component, weight), …)`` when a learned model scores the track (set by the
    run, :func:`matcher.learning.apply_model`); empty: the hand weights of ``data/weights.toml``."""

    def capacity_for(self, size_class):
        """The :class:`Capacity` for a partner of ``size_class`` (None when that size may not partner)."""
        for cap in self.capacity:
            if size_class in cap.sizes:
                return cap
        return None

    @property
    def label(self):
        return f"{self.name_ko} ({self.name_en})"


def load_rules(path=None, overrides=None):
    """Read the track rules, applying per-round ``overrides``.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file shaped like ``data/tracks.toml`` (the default).
    overrides : dict, optional
        ``{track: {field: value}}``; e.g. ``{"construction": {"capacity": [{"sizes": [...], "min": 2, "max": 5}]}}``
        or ``{"value": {"open": True}}``.

    Returns
    -------
    dict of str to TrackRule

    Raises
    ------
    ConfigError
        When the file or an override names an unknown track, size class or certificate,
        or a capacity with min > max.
    """
    path = Path(path) if path else DEFAULT_RULES_PATH
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))["tracks"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise ConfigError(f"{path}: cannot read track rules ({exc})") from exc
    raw = copy.deepcopy(raw)
    for track, fields in (overrides or {}).items():
        if track not in raw:
            raise ConfigError(f"override names unknown track {track!r} (known: {', '.join(raw)})")
        raw[track].update(fields)
    return {key: _build_rule(key, spec, path) for key, spec in raw.items()}


def track_key(text, rules=None):
    """The track key for ``text``: a key (``materials``), Korean name (``소재부품``) or English name.

    Raises
    ------
    UnknownTrackError
        When ``text`` names no track; the message lists the known ones (also a ValueError).

    Examples
    --------
    >>> track_key("소재부품"), track_key(" Materials & parts "), track_key("materials")
    ('materials', 'materials', 'materials')
    """
    rules = rules or load_rules()
    wanted = str(text).strip().casefold()
    for key, rule in rules.items():
        if wanted in (key, rule.name_ko.casefold(), rule.name_en.casefold()):
            return key
    names = ", ".join(f"{key} ({rule.name_ko})" for key, rule in rules.items())
    raise UnknownTrackError(msg("track.unknown", known=names, track=str(text)))


def round_rules(round_row, path=None):
    """The track rules as they apply in a round.

    Parameters
    ----------
    round_row : object
        Anything with ``rule_overrides`` (dict, as for :func:`load_rules`) and ``open_tracks``
        (list of track keys), such as :class:`matcher.db.RoundRow`.

    Returns
    -------
    dict of str to TrackRule
        The round's overrides applied; exactly the round's open tracks are open.
    """
    rules = load_rules(path, overrides=round_row.rule_overrides or {})
    open_tracks = set(round_row.open_tracks or ())
    return {key: dataclasses.replace(rule, open=key in open_tracks) for key, rule in rules.items()}


_RULE_FIELDS = frozenset({
    "name_ko", "name_en", "run_by", "open", "lead_sizes", "lead_any_of", "partner_sizes",
    "partner_certificates_any", "certificate_covers_product", "product", "capacity",
    "lead_licence", "partner_licence",
})


def _build_rule(key, spec, path):
    where = f"{path}: track {key!r}"
    unknown = sorted(set(spec) - _RULE_FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)} (known: {', '.join(sorted(_RULE_FIELDS))})")
    for cert in spec.get("partner_certificates_any", []):
        if cert not in CERTIFICATE_KINDS:
            raise ConfigError(f"{where}: unknown certificate {cert!r}")
    for condition in spec.get("lead_any_of", ["sme"]):
        if condition not in _LEAD_CONDITION:
            raise ConfigError(f"{where}: unknown lead condition {condition!r} (known: {', '.join(_LEAD_CONDITION)})")
    if spec.get("product") not in PRODUCT_KINDS:
        raise ConfigError(f"{where}: product must be one of {PRODUCT_KINDS}, not {spec.get('product')!r}")
    try:
        return TrackRule(
            key=key,
            name_ko=spec["name_ko"],
            name_en=spec["name_en"],
            run_by=spec.get("run_by", ""),
            open=bool(spec.get("open", True)),
            lead_sizes=frozenset(_sizes(spec["lead_sizes"], where)),
            lead_any_of=tuple(spec.get("lead_any_of", ["sme"])),
            partner_sizes=frozenset(_sizes(spec["partner_sizes"], where)),
            partner_certificates_any=tuple(spec.get("partner_certificates_any", [])),
            certificate_covers_product=bool(spec.get("certificate_covers_product", False)),
            product=spec["product"],
            capacity=tuple(_capacity(c, where) for c in spec.get("capacity", [])),
            lead_licence=bool(spec.get("lead_licence", False)),
            partner_licence=bool(spec.get("partner_licence", False)),
        )
    except KeyError as exc:
        raise ConfigError(f"{where}: missing field {exc}") from exc


def _capacity(spec, where):
    try:
        low, high = int(spec["min"]), int(spec["max"])
    except KeyError as exc:
        raise ConfigError(f"{where}: capacity needs min and max, missing {exc}") from exc
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: capacity min {spec['min']!r} and max {spec['max']!r} must be whole numbers") from None
    if low < 0 or high < 0:
        raise ConfigError(f"{where}: capacity min {low} and max {high} must not be negative")
    if high and low > high:
        raise ConfigError(f"{where}: capacity min {low} > max {high}")
    return Capacity(frozenset(_sizes(spec["sizes"], where)), low, high or None)


def _sizes(values, where):
    for v in values:
        if v not in SIZE_CLASSES:
            raise ConfigError(f"{where}: unknown size class {v!r}")
    return values


# --- evaluation -------------------------------------------------------------------------------


def lead_reasons(rule, firm, on):
    """Why ``firm`` may not lead in ``rule``'s track on day ``on`` ([] when it may)."""
    reasons = _common_reasons(rule, firm, on, "lead")
    if firm.size_class not in rule.lead_sizes:
        reasons.append(msg("eligibility.lead_size", size=firm.size_class, size_en=SIZE_NAMES_EN[firm.size_class],
                           track=_track(rule)))
    if not _meets_any(rule.lead_any_of, firm, on):
        reasons.append(msg("eligibility.lead_condition",
                           wanted=[msg(N_("eligibility.condition." + c)) for c in rule.lead_any_of]))
    if rule.lead_licence and not firm.licences:
        reasons.append(msg("eligibility.lead_licence"))
    return reasons


def partner_reasons(rule, firm, on, product_code=""):
    """Why ``firm`` may not partner in ``rule``'s track for ``product_code`` ([] when it may)."""
    reasons = _common_reasons(rule, firm, on, "partner")
    if firm.size_class not in rule.partner_sizes or rule.capacity_for(firm.size_class) is None:
        reasons.append(msg("eligibility.partner_size", size=firm.size_class, track=_track(rule)))
    if rule.partner_licence and not firm.licences:
        reasons.append(msg("eligibility.partner_licence"))
    if rule.partner_certificates_any:
        reasons.extend(_certificate_reasons(rule, firm, on, product_code))
    return reasons


def pair_reasons(rule, lead, partner, on, product_code=""):
    """Every reason the pair (``lead``, ``partner``) is not allowed in ``rule``'s track.

    ``product_code`` is the product the lead applied for (10-digit 세부품명번호 or
    16-digit 물품목록번호). Debarred firms and pairs within one affiliate group are
    never eligible.

    Examples
    --------
    A large partner in 혁신성장 gives the reason "partner 대기업 may not join 혁신성장".
    """
    reasons = lead_reasons(rule, lead, on) + partner_reasons(rule, partner, on, product_code)
    if lead.brn == partner.brn:
        reasons.append(msg("eligibility.same_firm"))
    if lead.affiliate_group and lead.affiliate_group == partner.affiliate_group:
        reasons.append(msg("eligibility.affiliate", group=lead.affiliate_group))
    return reasons


_LEAD_CONDITION = {
    "startup": ("창업기업(7년 미만)", "a startup (under 7 years)"),
    "small": ("소기업", "a small firm (소기업)"),
    "sme": ("중소기업", "an SME (중소기업)"),
}


_CONDITION_SIZES = {"small": SMALL_SIZES, "sme": SME_SIZES}


def size_codes(size_classes):
    """Size classes as codes into :data:`~matcher.firms.SIZE_CLASSES` (-1: not a size class), as the
    directory's index holds them."""
    return np.array([SIZE_CLASSES.index(s) if s in SIZE_CLASSES else -1 for s in size_classes], dtype=np.int64)


def meets_lead_condition(conditions, startup, size):
    """Which firms meet any of a track's lead conditions: 창업기업 (``startup``), 소기업 (``small``), 중소기업
    (``sme``). The one home of those conditions: :func:`lead_reasons` calls it on one firm, the directory on
    every firm of its index.

    Parameters
    ----------
    conditions : iterable of {"startup", "small", "sme"}
    startup : ndarray of bool, shape (n,)
        Whether each firm is a startup (under seven years) on the day judged.
    size : ndarray of int, shape (n,)
        Each firm's size class as :func:`size_codes` gives it.

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> meets_lead_condition(["startup", "small"], np.array([False, True, False]), size_codes(["소기업", "중기업", "중기업"]))
    array([ True,  True, False])
    """
    out = np.zeros(len(size), dtype=bool)
    for condition in conditions:
        if condition == "startup":
            out |= startup
        else:
            table = np.array([s in _CONDITION_SIZES[condition] for s in SIZE_CLASSES] + [False], dtype=bool)
            out |= table[size]
    return out


def _meets_any(conditions, firm, on):
    return bool(meets_lead_condition(conditions, np.array([firm.is_startup(on)]), size_codes([firm.size_class]))[0])


def _common_reasons(rule, firm, on, side):
    reasons = []
    if not rule.open:
        reasons.append(msg("eligibility.track_closed", track=_track(rule)))
    if firm.is_debarred(on):
        until = f" ~{firm.debarred_to.isoformat()}" if firm.debarred_to else ""
        reasons.append(msg("eligibility.debarred", role=msg(N_("role." + side)), firm=firm.name, until=until))
    return reasons


def _certificate_reasons(rule, firm, on, product_code):
    wanted = rule.partner_certificates_any
    held = [c for c in firm.certificates if c.kind in wanted]
    if rule.certificate_covers_product and product_code:
        held = [c for c in held if covers(c.code, product_code)]
    valid = [c for c in held if c.valid_on(on)]
    if valid:
        return []
    names = ", ".join(CERTIFICATE_KINDS[k][0] for k in wanted)
    product = product_code if rule.certificate_covers_product and product_code else ""
    product = msg("eligibility.for_product", product=product) if product else ""
    if held:
        last = max(held, key=lambda c: c.valid_to or on)
        item = msg("eligibility.for_item", item=last.code) if last.code else ""
        if last.valid_to is not None and last.valid_to < on:
            return [msg("eligibility.certificate_expired", certificate=last.name_ko, item=item,
                        date=last.valid_to.isoformat())]
        return [msg("eligibility.certificate_not_yet_valid", certificate=last.name_ko, item=item,
                    date=str(last.valid_from))]
    return [msg("eligibility.certificate_missing", names=names, product=product)]


def covers(certificate_code, product_code):
    """Whether a certificate for ``certificate_code`` covers the product ``product_code``.

    Same 10-digit 세부품명 when both have one; a 16-digit 물품목록번호 is covered by a
    certificate on its 8-digit 물품분류번호.

    Examples
    --------
    >>> covers("4617161001", "4617161001")
    True
    >>> covers("4617161001", "4617161099")
    False
    >>> covers("4617161001", "4617161012345678")
    True
    """
    if not certificate_code:
        return False
    if len(product_code) == 16 or len(certificate_code) == 8:
        return certificate_code[:8] == product_code[:8]
    return certificate_code == product_code
