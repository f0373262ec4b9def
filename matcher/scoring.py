"""The pair score: named components, their weights, and the explanation of a score.

"Why was this pair proposed?" — an :class:`Explanation` answers it: each component's
value in [0, 1], its weight, its contribution (the contributions add up to the
score) and a short reason in Korean and English. The same object serves the CLI,
the web pages and the JSON API (:meth:`Explanation.to_dict`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import codes
from .errors import ConfigError
from .paths import DATA_DIR
from .features import (capability_match, firm_text, g2b_match, ksic_match, lead_product_codes,
                       partner_product_codes, region_closeness, text_similarity, text_words)

COMPONENTS = ("text", "product_code", "industry", "region", "capability")
COMPONENT_NAMES = {
    "text": ("텍스트 유사도", "text similarity"),
    "product_code": ("물품분류", "product code"),
    "industry": ("업종(KSIC)", "industry (KSIC)"),
    "region": ("지역", "region"),
    "capability": ("수행 역량", "capability"),
}
DEFAULT_WEIGHTS_PATH = DATA_DIR / "weights.toml"


def load_weights(track=None, path=None):
    """The component weights for ``track`` (defaults plus the track's overrides).

    Parameters
    ----------
    track : str, optional
        A track key; its ``[tracks.<key>]`` table overrides single weights.
    path : str or Path, optional
        A TOML file shaped like ``data/weights.toml`` (the default).

    Returns
    -------
    dict of str to float
        One weight per name in :data:`COMPONENTS`.

    Raises
    ------
    ConfigError
        Unknown component, negative weight, or all weights zero.
    """
    raw = _read_config(str(path or DEFAULT_WEIGHTS_PATH))
    weights = dict(raw.get("default", {}))
    weights.update(raw.get("tracks", {}).get(track, {}) if track else {})
    return check_weights(weights, source=f"{path or DEFAULT_WEIGHTS_PATH} [{track or 'default'}]")


def rule_weights(rule):
    """The weights that score ``rule``'s track: the learned model's when the run set them
    (:attr:`~matcher.tracks.TrackRule.weights`), else :func:`load_weights` of the track."""
    if getattr(rule, "weights", ()):
        return check_weights(dict(rule.weights), source=f"model weights [{rule.key}]")
    return load_weights(rule.key)


def default_text_method(path=None):
    """The text method chosen in ``[text] method`` of the weights file ("char" or "kiwi")."""
    return _read_config(str(path or DEFAULT_WEIGHTS_PATH)).get("text", {}).get("method", "char")


@lru_cache(maxsize=8)
def _read_config(path):
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read weights ({exc})") from exc


def check_weights(weights, source="weights"):
    """Validate a weight mapping; missing components get weight 0. Returns a new dict."""
    unknown = sorted(set(weights) - set(COMPONENTS))
    if unknown:
        raise ConfigError(f"{source}: unknown component(s) {', '.join(unknown)} (known: {', '.join(COMPONENTS)})")
    out = {}
    for name in COMPONENTS:
        value = weights.get(name, 0.0)
        if not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
            raise ConfigError(f"{source}: weight {name} = {value!r} must be a number ≥ 0")
        out[name] = float(value)
    if sum(out.values()) <= 0:
        raise ConfigError(f"{source}: all weights are zero")
    return out


def combine(values, weights):
    """Score(s) = Σ weight·component / Σ weights; ``values`` maps component → float or array."""
    total = sum(weights.values())
    return sum(weights[name] / total * np.asarray(values[name], dtype=np.float64) for name in COMPONENTS)


@dataclass
class ComponentScore:
    """One component of a score: value in [0, 1], weight, contribution = weight·value / Σ weights."""

    name: str
    value: float
    weight: float
    contribution: float
    ko: str = ""
    en: str = ""

    @property
    def label_ko(self):
        return COMPONENT_NAMES[self.name][0]

    @property
    def label_en(self):
        return COMPONENT_NAMES[self.name][1]


@dataclass
class Explanation:
    """Why a pair scores what it does.

    ``score`` equals the sum of the components' ``contribution``. ``reasons(lang)``
    lists the components' short reasons, largest contribution first.
    """

    lead_brn: str
    partner_brn: str
    track: str
    score: float
    components: list = field(default_factory=list)

    def component(self, name):
        return next(c for c in self.components if c.name == name)

    def reasons(self, lang="ko", limit=3):
        ranked = sorted(self.components, key=lambda c: -c.contribution)
        texts = [(c.ko if lang == "ko" else c.en) for c in ranked if c.contribution > 0]
        return [t for t in texts if t][:limit]

    def to_dict(self):
        """A JSON-serialisable dict (the API's and the stored proposal's form)."""
        out = {"lead_brn": self.lead_brn, "partner_brn": self.partner_brn, "track": self.track, "score": self.score,
               "components": [{"name": c.name, "value": c.value, "weight": c.weight, "contribution": c.contribution,
                               "ko": c.ko, "en": c.en} for c in self.components]}  # asdict's deep copies cost
        for comp in out["components"]:
            comp["label_ko"], comp["label_en"] = COMPONENT_NAMES[comp["name"]]
        out["reasons_ko"] = self.reasons("ko")
        out["reasons_en"] = self.reasons("en")
        return out


def build_explanation(values, reasons, weights, lead_brn, partner_brn, track):
    """An :class:`Explanation` from component ``values`` and ``reasons`` (name → (ko, en))."""
    total = sum(weights.values())
    comps = []
    for name in COMPONENTS:
        value = float(values[name])
        ko, en = reasons.get(name, ("", ""))
        comps.append(ComponentScore(name, value, weights[name], weights[name] * value / total, ko, en))
    score = math.fsum(c.contribution for c in comps)
    return Explanation(lead_brn, partner_brn, track, score, comps)


MUTUAL = "mutual_interest"
"""The explanation line of the mutual-interest bonus (not a weighted component: a fixed addition)."""


def with_mutual_bonus(explanation, bonus):
    """An explanation dict (:meth:`Explanation.to_dict`) with the mutual-interest ``bonus`` as its own line.

    The line's contribution is the bonus itself (value 1, weight = bonus), so the contributions still add
    up to the score, which grows by the bonus. The reason comes first: it is what both firms asked for.
    """
    from .messages import msg
    line_ko = msg("score.mutual_reason", bonus=bonus).text("ko")
    line_en = msg("score.mutual_reason", bonus=bonus).text("en")
    out = dict(explanation)
    out["components"] = [*explanation.get("components", []),
                         {"name": MUTUAL, "value": 1.0, "weight": bonus, "contribution": bonus, "ko": line_ko,
                          "en": line_en, "label_ko": msg("score.mutual").text("ko"),
                          "label_en": msg("score.mutual").text("en")}]
    out["score"] = math.fsum(c["contribution"] for c in out["components"])
    out["reasons_ko"] = [line_ko, *explanation.get("reasons_ko", [])]
    out["reasons_en"] = [line_en, *explanation.get("reasons_en", [])]
    if "reasons" in explanation:
        out["reasons"] = [{"ko": line_ko, "en": line_en}, *explanation["reasons"]]
    return out


def explain(lead, lead_app, partner, partner_app, rule, on, weights=None, text_value=None, text_method=None):
    """Score one (eligible) pair and say why, component by component.

    Parameters
    ----------
    lead, partner : Firm
    lead_app, partner_app : Application or None
    rule : TrackRule
    on : date
        The round's reference date (certificates must be valid on it).
    weights : dict, optional
        Component weights (default: :func:`load_weights` for the track).
    text_value : float, optional
        The text similarity as the candidate graph computed it (a vectoriser fitted on the
        whole pool); by default the two texts are compared with a vectoriser fitted on them alone.
    text_method : str, optional
        "char" or "kiwi" (default: the configured method).

    Returns
    -------
    Explanation
    """
    weights = _checked(weights) if weights is not None else rule_weights(rule)
    lead_codes = lead_product_codes(lead, lead_app)
    lead_text, partner_text = firm_text(lead, lead_app), firm_text(partner, partner_app)
    if text_value is None:
        text_value = text_similarity(lead_text, partner_text, text_method or default_text_method()) \
            if lead_text and partner_text else 0.0
    g2b = g2b_match(lead_codes, partner_product_codes(partner, partner_app))
    ksic = ksic_match(lead.ksic_codes, partner.ksic_codes)
    cap = capability_match(lead_codes, lead.licences, partner, rule, on)
    region, region_reason = _region(lead.region, partner.region)
    values = {"text": text_value, "product_code": g2b.value, "industry": ksic.value,
              "region": region, "capability": cap[0]}
    reasons = {"text": _text_reason(lead_text, partner_text, text_value),
               "product_code": _g2b_reason(g2b), "industry": _ksic_reason(ksic),
               "region": region_reason, "capability": (cap[2], cap[3])}
    return build_explanation(values, reasons, weights, lead.brn, partner.brn, rule.key)


# A page explains ten pairs, a round thousands, over a few hundred codes and 17 regions: the reasons'
# names and distances are looked up once per code (or pair of regions) and weights checked once per table.


def _checked(weights):
    """:func:`check_weights`, remembered for weight tables of plain numbers."""
    try:
        return _checked_weights(tuple(weights.items()))
    except TypeError:  # an unhashable value: check_weights names it
        return check_weights(weights)


@lru_cache(maxsize=64)
def _checked_weights(items):
    return check_weights(dict(items))


@lru_cache(maxsize=1024)
def _region(a, b):
    """(:func:`~matcher.features.region_closeness`, its reason) of two regions."""
    value = region_closeness(a, b)
    return value, _region_reason(a, b, value)


def _g2b_reason(match):
    if not match.value:
        return ("", "")
    return _g2b_reason_of(match.level, match.lead_code, match.ko, match.en, codes.g2b_list().key)


@lru_cache(maxsize=16384)
def _g2b_reason_of(level, lead_code, match_ko, match_en, list_key):
    digits = {"commodity": 8, "class": 6, "family": 4, "segment": 2}[level]
    code = lead_code[:digits]
    ko, en = codes.g2b_name(code) or "", codes.g2b_name_en(code) or ""
    return (f"{match_ko} ({code} {ko})".replace(" )", ")"), f"{match_en} ({code} {en})".replace(" )", ")"))


def _ksic_reason(match):
    if not match.value:
        return ("", "")
    return _ksic_reason_of(match.level, match.lead_code, match.ko, match.en, codes.ksic_list().key)


@lru_cache(maxsize=16384)
def _ksic_reason_of(level, lead_code, match_ko, match_en, list_key):
    """The level that matched with the name of the lead's code at that level in the KSIC list in use
    (``list_key``): '같은 세분류 (2042 화장품 제조업)'; the code alone when the list does not have it."""
    digits = {"sub-class": 5, "class": 4, "group": 3, "division": 2, "section": 1}[level]
    code = codes.ksic_level_code(lead_code, digits)
    ko, en = codes.ksic_names().get(code, ("", ""))
    return (f"{match_ko} ({code} {ko})".replace(" )", ")"), f"{match_en} ({code} {en or ko})".replace(" )", ")"))


def _region_reason(a, b, value):
    if value >= 1.0:
        return (f"같은 지역 ({a})", f"both in {a}")
    if value > 0:
        km = round(codes.region_distance_km(a, b))
        return (f"가까운 지역 ({a}–{b} {km}km)", f"nearby regions ({a}–{b}, {km} km)")
    return ("", "")


def _text_reason(lead_text, partner_text, value):
    if value <= 0:
        return ("", "")
    lead_words, partner_words = text_words(lead_text), set(text_words(partner_text))
    shared = [w for w in dict.fromkeys(lead_words) if w in partner_words and len(w) > 1][:3]
    if not shared:
        return (f"설명 유사도 {value:.2f}", f"descriptions similar ({value:.2f})")
    words = ", ".join(shared)
    return (f"공통 키워드: {words}", f"shared keywords: {words}")
