"""Recommendations as the templates and the API show them: plain dicts from :mod:`matcher.recommend`.

Each row: ``{"brn", "name", "size_class", "region", "score", "components": [{"name", "value",
"weight", "contribution"}], "reasons": [{"ko", "en"}]}``.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from sqlalchemy import select

from matcher import db


REASONS_SHOWN = 3


class EngineUnavailable(Exception):
    """The scoring engine is not installed in this checkout (shown as a message, not a 500)."""


def _recommend_module():
    try:
        from matcher import recommend
    except ImportError as exc:
        raise EngineUnavailable(str(exc)) from exc
    return recommend


def _filters(form):
    filters = {}
    if form.get("region"):
        filters["region"] = form["region"]
    if form.get("size"):
        filters["size_class"] = form["size"]
    if form.get("certificate"):
        filters["certificate"] = form["certificate"]
    return filters or None


def recommend(session, brn, form):
    """Ranked partners (or leads, with ``form["as_partner"]``) for a registered firm."""
    module = _recommend_module()
    items = module.recommend_for_brn(session, brn, track=form["track"], k=form["k"],
                                     as_partner=form["as_partner"], filters=_filters(form),
                                     round_name=form["round"] or None)
    return [as_row(session, item) for item in items]


def recommend_described(session, firm, form):
    """Ranked partners for a firm described on the form (scored transiently, not stored)."""
    module = _recommend_module()
    items = module.recommend_partners(session, firm, track=form["track"], k=form["k"],
                                      filters=_filters(form), round_name=form["round"] or None)
    return [as_row(session, item) for item in items]


def explain(session, lead_brn, partner_brn, form):
    """The score explanation of one pair as a dict, or None when the engine cannot give one."""
    try:
        module = _recommend_module()
    except EngineUnavailable:
        return None
    explain_pair = getattr(module, "explain_pair", None)
    if explain_pair is None:
        return None
    if form["as_partner"]:
        lead_brn, partner_brn = partner_brn, lead_brn
    result = explain_pair(session, lead_brn, partner_brn, track=form["track"] or None,
                          round_name=form["round"] or None)
    return _explanation_dict(result) if result is not None else None


def as_row(session, item):
    """One recommendation (an engine object or a dict) → the dict the templates use."""
    data = item.to_dict() if hasattr(item, "to_dict") else dict(item)
    explanation = _explanation_dict(data.get("explanation", data))
    brn = data.get("brn") or data.get("partner_brn") or data.get("firm_brn")
    firm = db.get_firm(session, brn) if brn else None
    return dict(
        brn=brn, name=data.get("name") or (firm.name if firm else ""),
        size_class=data.get("size_class") or (firm.size_class if firm else ""),
        region=data.get("region") or (firm.region if firm else ""),
        score=float(data.get("score", explanation.get("score", 0.0))),
        components=explanation["components"], reasons=explanation["reasons"],
    )


def _explanation_dict(value):
    """An :class:`~matcher.scoring.Explanation` (or its ``to_dict()``) → score, components, reasons."""
    data = value.to_dict() if hasattr(value, "to_dict") else dict(value or {})
    components = [dict(c) for c in data.get("components", [])]
    if "reasons" in data:
        reasons = [_reason(r) for r in data["reasons"]]
    else:
        ranked = sorted(components, key=lambda c: -c.get("contribution", 0.0))
        reasons = [{"ko": c.get("ko", ""), "en": c.get("en", "")} for c in ranked
                   if c.get("contribution", 0.0) > 0 and (c.get("ko") or c.get("en"))][:REASONS_SHOWN]
    return dict(score=float(data.get("score", 0.0) or 0.0), components=components, reasons=reasons)


def _reason(reason):
    if isinstance(reason, dict):
        return reason
    if isinstance(reason, str):
        return {"ko": reason, "en": reason}
    return {"code": getattr(reason, "code", ""), "ko": reason.ko, "en": reason.en}


def record_interest(session, round_row, lead, partner, track, note):
    """Store (or refresh) an SME's request to pair with ``partner``; staff see it on their list."""
    stmt = select(db.InterestRow).where(
        db.InterestRow.round_id == (round_row.id if round_row else None), db.InterestRow.lead_id == lead.id,
        db.InterestRow.partner_id == partner.id, db.InterestRow.track == track)
    row = session.scalars(stmt).first()
    if row is None:
        row = db.InterestRow(round_id=round_row.id if round_row else None, lead_id=lead.id,
                             partner_id=partner.id, track=track)
        session.add(row)
    row.note = (note or "").strip()[:2000]
    db.audit(session, f"firm:{lead.brn}", "interest.create", lead=lead.brn, partner=partner.brn, track=track,
             round=round_row.name if round_row else None)
    return row


@lru_cache(maxsize=1)
def region_names():
    """The 17 시도 short names, as in ``data/regions.csv``."""
    path = db.PROJECT_ROOT / "data" / "regions.csv"
    with path.open(encoding="utf-8") as handle:
        return tuple(row["short"] for row in csv.DictReader(handle))
