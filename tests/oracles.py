"""Slow, obviously correct reference implementations the tests check the fast code against.

:func:`recommend_partners` and :func:`recommend_leads` are the recommendation of one firm over a pool of
plain firms, as it was before the stored search index: every eligible pair scored by the scalar
:func:`matcher.scoring.explain` path, the text model fitted on the pool. The directory
(:mod:`matcher.directory`) must give the same ranking and scores from its index
(``tests/test_directory.py``); ``bench/bench_directory.py --baseline`` times them as the re-fit-per-query way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matcher.candidates import pair_components
from matcher.eligibility import eligibility_table, rule_for
from matcher.features import TextVectorizer, firm_text
from matcher.firms import Firm, format_brn
from matcher.recommend import capacity_note, normalize_filters
from matcher.scoring import check_weights, combine, default_text_method, explain, load_weights
from matcher.tracks import lead_reasons, partner_reasons


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


def meets_lead_condition(conditions, firm, on):
    """Whether one firm meets any of a track's lead conditions, written out one condition at a time (what
    :func:`matcher.tracks.meets_lead_condition` computes for many firms at once)."""
    from matcher.firms import SMALL_SIZES
    checks = {
        "startup": lambda: firm.is_startup(on),
        "small": lambda: firm.size_class in SMALL_SIZES,
        "sme": lambda: firm.is_sme,
    }
    return any(checks[c]() for c in conditions)
