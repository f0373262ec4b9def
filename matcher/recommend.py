"""Recommendations: the best partners for a lead, and the SMEs a partner should invite.

Pure functions over plain inputs (no session): :func:`recommend_partners` and
:func:`recommend_leads` take a firm, a pool of plain firms (with their applications) and the
track rules, and return :class:`Recommendation` dataclasses. Only eligible firms are ever
recommended (:func:`matcher.eligibility.eligibility_table` drops every pair the rules forbid).
The database side (which firms, which round, the stored search index) is
:mod:`matcher.directory`, which scores the whole directory the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .candidates import pair_components
from .codes import normalize_region
from .eligibility import eligibility_table, rule_for
from .errors import MatcherError, as_msg
from .messages import N_, msg
from .features import TextVectorizer, firm_text
from .firms import CERTIFICATE_ALIASES, CERTIFICATE_KINDS, SIZE_CLASSES, SIZE_NAMES_EN, Firm, format_brn
from .scoring import check_weights, combine, default_text_method, explain, load_weights
from .tracks import lead_reasons, partner_reasons

FILTERS = ("region", "size_class", "certificate")


@dataclass
class Recommendation:
    """One recommended firm (a partner for a lead, or a lead for a partner) and why."""

    rank: int
    firm: Firm
    explanation: object
    application: object = None
    applied: bool = False

    @property
    def score(self):
        return self.explanation.score

    def to_dict(self):
        f = self.firm
        return {"rank": self.rank, "brn": f.brn, "brn_display": format_brn(f.brn), "name": f.name,
                "size_class": f.size_class, "region": f.region, "score": round(self.score, 4),
                "product_code": self.application.product_code if self.application else "",
                "applied": self.applied, "explanation": self.explanation.to_dict()}


@dataclass
class LeadInvitations:
    """The SMEs a partner should invite, with what the track asks of that partner.

    ``min_leads`` / ``max_leads`` come from the track's pairing structure (a large
    partner in 소재부품 or 기술융합 must sign with 5 or more SMEs); ``note_ko`` /
    ``note_en`` say so in words, and whether the partner's eligible leads reach the minimum.
    ``eligible_leads`` counts every lead in the pool the partner may sign with (before
    filters and the cut to ``k``).
    """

    partner: Firm
    track: str
    recommendations: list = field(default_factory=list)
    min_leads: int = 1
    max_leads: int | None = 1
    note_ko: str = ""
    note_en: str = ""
    reasons: list = field(default_factory=list)
    eligible_leads: int = 0


def _as_pairs(items):
    return [(item, None) if isinstance(item, Firm) else tuple(item) for item in items]


def normalize_filters(filters):
    """``filters`` with every value in its canonical form, as sets.

    Parameters
    ----------
    filters : dict, optional
        ``region``: 시도 in any spelling :func:`matcher.codes.normalize_region` accepts
        ('서울', '서울특별시', 'Seoul', '11'); ``size_class``: a size class (소기업) or its
        English name (small firm); ``certificate``: a certificate kind key (patent), its
        Korean or English name, or a usual alias (특허, 직접생산). Each a string or a list.

    Returns
    -------
    dict of str to set of str
        Only the filters given (empty values dropped): 시도 short names, size classes and
        certificate kind keys.

    Raises
    ------
    MatcherError
        For an unknown filter name or value, every one listed with the values allowed.

    Examples
    --------
    >>> normalize_filters({"region": "Seoul", "size_class": ["small firm"], "certificate": "특허"})
    {'region': {'서울'}, 'size_class': {'소기업'}, 'certificate': {'patent'}}
    """
    filters = {key: value for key, value in (filters or {}).items() if value}
    unknown = sorted(set(filters) - set(FILTERS))
    if unknown:
        raise MatcherError(msg("filter.unknown", filters=unknown, known=list(FILTERS)))
    wanted, problems = {}, []
    for key, values in filters.items():
        wanted[key] = set()
        for value in [values] if isinstance(values, str) else values:
            try:
                wanted[key].add(_NORMALIZERS[key](value))
            except ValueError as exc:
                problems.append(msg("filter.bad_value", filter=msg(N_("filter." + key)), value=repr(str(value)),
                                    why=as_msg(exc)))
    if problems:
        raise MatcherError(msg("filter.problems", problems=problems))
    return wanted


def _size_class(value):
    names = {name.lower(): size for size, name in SIZE_NAMES_EN.items()} | {size: size for size in SIZE_CLASSES}
    key = " ".join(str(value).split()).lower()
    if key not in names:
        allowed = ", ".join(f"{size} ({SIZE_NAMES_EN[size]})" for size in SIZE_CLASSES)
        raise ValueError(f"is not a size class ({allowed})")
    return names[key]


def _certificate(value):
    names = {key.lower(): key for key in CERTIFICATE_KINDS}
    names |= {en.replace(" ", "").lower(): key for key, (_ko, en) in CERTIFICATE_KINDS.items()}
    names |= {alias.lower(): key for alias, key in CERTIFICATE_ALIASES.items()}
    key = str(value).replace(" ", "").lower()
    if key not in names:
        allowed = ", ".join(f"{kind} ({ko})" for kind, (ko, _en) in CERTIFICATE_KINDS.items())
        raise ValueError(f"is not a certificate kind ({allowed})")
    return names[key]


_NORMALIZERS = {"region": normalize_region, "size_class": _size_class, "certificate": _certificate}


def apply_filters(pool, filters, on):
    """Keep the (Firm, Application) pairs that pass ``filters``.

    Parameters
    ----------
    pool : list of (Firm, Application or None)
    filters : dict, optional
        See :func:`normalize_filters`; a ``certificate`` must be held valid on ``on``.
    on : date

    Raises
    ------
    MatcherError
        For an unknown filter name or value.
    """
    passes = _passes(normalize_filters(filters), on)
    return [(firm, app) for firm, app in pool if passes(firm)]


def _passes(wanted, on):
    """Whether a firm passes the normalised filters ``wanted`` (see :func:`normalize_filters`)."""
    def passes(firm):
        if "region" in wanted and firm.region not in wanted["region"]:
            return False
        if "size_class" in wanted and firm.size_class not in wanted["size_class"]:
            return False
        if "certificate" in wanted:
            return any(c.kind in wanted["certificate"] and c.valid_on(on) for c in firm.certificates)
        return True
    return passes


def text_values(model, lead_text, texts):
    """Cosine of ``lead_text`` with each of ``texts`` under a fitted text ``model``; shape (len(texts),)."""
    if not texts:
        return np.zeros(0)
    x = model.transform([lead_text] + list(texts)).astype(np.float64)
    return np.clip(np.asarray((x[1:] @ x[0].T).todense()).ravel(), 0.0, 1.0)


def _fitted(text_model, texts):
    if text_model is not None:
        return text_model
    return TextVectorizer(method=default_text_method()).fit(texts)


def _ranked(rows, scores, k, passes):
    order = sorted(range(len(rows)), key=lambda i: (-round(float(scores[i]), 12), rows[i][0].brn))
    return [i for i in order if passes(rows[i][0])][:k]


def recommend_partners(lead, track, k=10, filters=None, *, partners, rules, on, lead_application=None,
                       weights=None, text_model=None, applied=()):
    """The ``k`` best eligible partners for ``lead`` in ``track``, best first.

    Every eligible partner of the pool is scored, then the filters remove rows: a filter
    never changes a score. Pure: a pool of plain firms in, plain recommendations out (the
    database directory does the same over its stored index, :mod:`matcher.directory`).

    Parameters
    ----------
    lead : Firm
    track : str or TrackRule
    k : int
    filters : dict, optional
        See :func:`normalize_filters`.
    partners : list of Firm or of (Firm, Application or None)
        The pool to choose from (e.g. every firm of the directory, applicants with their application).
    rules : dict of str to TrackRule
    on : date
        The round's reference date.
    lead_application : Application, optional
        The lead's application (product applied for and text); without one the lead is
        scored on its description and G2B codes.
    weights : dict, optional
        Component weights (default: the track's in ``data/weights.toml``).
    text_model : TextVectorizer, optional
        A fitted text model (the directory's); by default one is fitted on this pool.
    applied : collection of str
        사업자등록번호 of the partners that applied in the round (marked on their rows).

    Returns
    -------
    list of Recommendation
        Empty when the lead itself may not lead (see ``tracks.lead_reasons``) or nothing fits.

    Raises
    ------
    MatcherError
        For an unknown filter name or value.
    """
    rule = rule_for(track, rules)
    passes = _passes(normalize_filters(filters), on)
    pool = _as_pairs(partners)
    weights = check_weights(weights) if weights is not None else load_weights(rule.key)
    if not pool or lead_reasons(rule, lead, on):
        return []
    table = eligibility_table([(lead, lead_application)], pool, rule, on)
    ok = np.flatnonzero(table.pair_ok(np.zeros(len(pool), np.int64), np.arange(len(pool))))
    rows = [pool[j] for j in ok]
    lead_text = firm_text(lead, lead_application)
    texts = [firm_text(*row) for row in rows]
    model = _fitted(text_model, [lead_text] + [firm_text(*row) for row in pool])
    values = pair_components([(lead, lead_application)], rows, rule, on, np.zeros(len(rows), np.int64),
                             np.arange(len(rows)))
    values["text"] = text_values(model, lead_text, texts)
    scores = combine(values, weights)
    out = []
    for i in _ranked(rows, scores, k, passes):
        partner, app = rows[i]
        expl = explain(lead, lead_application, partner, app, rule, on, weights, text_value=float(values["text"][i]))
        out.append(Recommendation(len(out) + 1, partner, expl, app, applied=partner.brn in applied))
    return out


def recommend_leads(partner, track, k=10, filters=None, *, leads, rules, on, partner_application=None,
                    weights=None, text_model=None, applied=()):
    """The SMEs ``partner`` should invite in ``track``, best first, with its pairing requirement.

    Parameters are as for :func:`recommend_partners`, with the roles swapped (``leads`` is the
    pool, with their applications where they applied; ``filters`` apply to the leads).

    Returns
    -------
    LeadInvitations
    """
    rule = rule_for(track, rules)
    passes = _passes(normalize_filters(filters), on)
    weights = check_weights(weights) if weights is not None else load_weights(rule.key)
    cap = rule.capacity_for(partner.size_class)
    pool = _as_pairs(leads)
    result = LeadInvitations(partner, rule.key, min_leads=cap.min if cap else 0, max_leads=cap.max if cap else 0,
                             reasons=partner_reasons(rule, partner, on))
    table = eligibility_table(pool, [(partner, partner_application)], rule, on)
    ok = np.flatnonzero(table.pair_ok(np.arange(len(pool)), np.zeros(len(pool), np.int64))) if pool else []
    # Whether the partner can reach its minimum depends on the whole pool, not on k or the filters.
    result.eligible_leads = len(ok)
    if len(ok) and not result.reasons:
        rows = [pool[i] for i in ok]
        own_text = firm_text(partner, partner_application)
        model = _fitted(text_model, [own_text] + [firm_text(*row) for row in pool])
        values = pair_components(rows, [(partner, partner_application)], rule, on, np.arange(len(rows)),
                                 np.zeros(len(rows), np.int64))
        values["text"] = text_values(model, own_text, [firm_text(*row) for row in rows])
        scores = combine(values, weights)
        for i in _ranked(rows, scores, k, passes):
            lead, app = rows[i]
            expl = explain(lead, app, partner, partner_application, rule, on, weights,
                           text_value=float(values["text"][i]))
            result.recommendations.append(Recommendation(len(result.recommendations) + 1, lead, expl, app,
                                                         applied=lead.brn in applied))
    result.note_ko, result.note_en = capacity_note(rule, partner, cap, result.eligible_leads)
    return result


def capacity_note(rule, partner, cap, found):
    """The partner's pairing requirement in words (Korean, English)."""
    if cap is None:
        return (f"{partner.size_class}는 {rule.name_ko} 과제의 협력기업이 될 수 없음",
                f"a {partner.size_class} may not partner in {rule.name_ko}")
    low, high = max(cap.min, 1), cap.max
    if high is None:
        ko, en = f"주관기업 {low}곳 이상", f"{low} or more leads"
    elif low == high:
        ko, en = f"주관기업 {low}곳", f"{low} lead{'s' if low > 1 else ''}"
    elif low == 1:
        ko, en = f"주관기업 최대 {high}곳", f"up to {high} leads"
    else:
        ko, en = f"주관기업 {low}~{high}곳", f"{low} to {high} leads"
    ko = f"{rule.name_ko}: {partner.size_class} 협력기업은 {ko}과 협약"
    en = f"{rule.name_en}: a {partner.size_class} partner signs with {en}"
    if found < cap.min:
        ko += f" (최소 {cap.min}곳 필요; 적격 후보 {found}곳뿐이라 참여 불가)"
        en += f" (needs at least {cap.min}; only {found} eligible candidates, so it cannot take part)"
    return ko, en
