"""Recommendations as the templates and the API show them: plain dicts from :mod:`matcher.recommend`.

Each row: ``{"brn", "name", "size_class", "region", "score", "components": [{"name", "value",
"weight", "contribution"}], "reasons": [{"ko", "en"}]}``.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlalchemy import select

from matcher import codes, db, eligibility
from matcher import recommend as engine
from matcher.firms import Application
from matcher.tracks import lead_reasons, load_rules, round_rules


REASONS_SHOWN = 3
NOTE_MAX = 500  # characters of an interest note (the form says so too)
PAIR_K = 10 ** 9  # every row: the detail page looks one pair up in the whole ranking


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
    """Ranked partners (or leads, with ``form["as_partner"]``) for a registered firm.

    Returns
    -------
    dict
        ``rows`` (see the module docstring), ``reasons`` (why the firm itself may not take the
        role), ``note`` (``{"ko", "en"}``: a partner's pairing requirement) and ``pool_size``.
    """
    data = engine.recommend_for_brn(session, brn, track=form["track"], k=form["k"],
                                    as_partner=form["as_partner"], filters=_filters(form),
                                    round_name=form["round"] or None)
    return dict(rows=[as_row(session, item) for item in data["recommendations"]],
                reasons=data.get("reasons", []), pool_size=data.get("pool_size"),
                note={"ko": data.get("note_ko", ""), "en": data.get("note_en", "")})


def recommend_described(session, firm, form):
    """Ranked partners for a firm described on the form (scored transiently, not stored)."""
    round_row = _round(session, form["round"])
    rules, on = round_rules_and_day(round_row)
    application = Application(round_name=round_row.name if round_row else "", brn=firm.brn, role="lead",
                              track=form["track"], product_code=form.get("product", ""), text=firm.description)
    reasons = lead_reasons(rules[form["track"]], firm, on)
    items = [] if reasons else engine.recommend_partners(
        firm, form["track"], form["k"], _filters(form), partners=partner_pool(session, round_row, form["track"]),
        rules=rules, on=on, lead_application=application)
    return dict(rows=[as_row(session, item) for item in items], reasons=[_reason(r) for r in reasons],
                pool_size=None, note={"ko": "", "en": ""})


def round_rules_and_day(round_row):
    """The rules of ``round_row`` (its overrides; tracks it did not open are closed) and its reference date.

    Without a round: the shipped rules, judged today.
    """
    if round_row is None:
        return load_rules(), date.today()
    return round_rules(round_row), round_row.reference_date


def partner_pool(session, round_row, track):
    """(Firm, Application) of the round's partner applications in ``track``; every firm when none."""
    if round_row is not None:
        stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                               db.ApplicationRow.role == "partner",
                                               db.ApplicationRow.track == track)
        apps = list(session.scalars(stmt))
        if apps:
            return [(db.firm_from_row(a.firm), db.application_from_row(a)) for a in apps]
    return [(db.firm_from_row(row), None) for row in session.scalars(select(db.FirmRow))]


def pair_row(session, brn, other_brn, form):
    """The row of ``other_brn`` exactly as the ranked list for ``brn`` scores it, else None.

    The same engine call as :func:`recommend` (same round, role, track and pool), without the filters
    (they only remove rows) or the cut to ``k``; so the detail page, the list and the API agree.
    None when the other firm is not in the round's pool or the pair is not eligible.
    """
    data = engine.recommend_for_brn(session, brn, track=form["track"] or None, k=PAIR_K,
                                    as_partner=form["as_partner"], round_name=form["round"] or None)
    for item in data["recommendations"]:
        if item["brn"] == other_brn:
            return as_row(session, item)
    return None


def resolve_round(session, firm_row, name):
    """The round a firm's page uses: the one named, else the latest round in which the firm applied,
    else :func:`matcher.db.latest_round` (as :func:`matcher.recommend.recommend_for_brn` chooses it).

    Raises
    ------
    NotFoundError
        For an unknown round name.
    """
    if name:
        return db.get_round(session, name)
    stmt = (select(db.RoundRow).join(db.ApplicationRow, db.ApplicationRow.round_id == db.RoundRow.id)
            .where(db.ApplicationRow.firm_id == firm_row.id)
            .order_by(db.RoundRow.reference_date.desc(), db.RoundRow.id.desc()))
    return session.scalars(stmt).first() or db.latest_round(session)


def own_application(session, firm_row, round_row):
    """``{"track", "as_partner"}`` of the firm's first application in the round ({} when it has none)."""
    if round_row is None:
        return {}
    stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                           db.ApplicationRow.firm_id == firm_row.id).order_by(db.ApplicationRow.id)
    row = session.scalars(stmt).first()
    return dict(track=row.track, as_partner=row.role == "partner") if row else {}


def _round(session, name):
    return db.get_round(session, name) if name else db.latest_round(session)


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


def interest_problems(session, round_row, lead, partner, track, note):
    """Why an SME's interest request cannot be recorded, as ``{"ko", "en"}`` ([] when it can).

    The two firms differ, the track is open in the round, the lead applied as lead in that track (and
    the partner as partner, when the round has partner applications there), the pair is eligible
    (:func:`matcher.eligibility.why_not`) and the note has at most :data:`NOTE_MAX` characters.
    """
    problems = []
    if len((note or "").strip()) > NOTE_MAX:
        problems.append({"ko": f"메모는 {NOTE_MAX}자까지 쓸 수 있습니다 ({len(note.strip())}자).",
                         "en": f"the note may have at most {NOTE_MAX} characters (it has {len(note.strip())})."})
    if lead.id == partner.id:
        return problems + [{"ko": f"{lead.name}: 자기 자신과는 짝이 될 수 없습니다.",
                            "en": f"{lead.name} cannot pair with itself."}]
    rules, on = round_rules_and_day(round_row)
    rule = rules.get(track)
    where_ko, where_en = (f"{round_row.name} 회차", f"round {round_row.name}") if round_row else ("", "the rules")
    if rule is None or not rule.open:
        open_keys = ", ".join(key for key, r in rules.items() if r.open) or "-"
        return problems + [{"ko": f"{where_ko}에 {track} 과제가 열려 있지 않습니다 (열린 과제: {open_keys}).",
                            "en": f"track {track} is not open in {where_en} (open: {open_keys})."}]
    lead_app = _application_row(session, round_row, lead, "lead", track)
    if round_row is not None and lead_app is None:
        problems.append({"ko": f"{lead.name}은(는) {where_ko} {rule.name_ko} 과제에 주관기업으로 신청하지 않았습니다.",
                         "en": f"{lead.name} has no lead application in {rule.name_en} in {where_en}."})
    if round_row is not None and _has_side(session, round_row, "partner", track) and _application_row(
            session, round_row, partner, "partner", track) is None:
        problems.append({"ko": f"{partner.name}은(는) {where_ko} {rule.name_ko} 과제에 협력기업으로 신청하지 않았습니다.",
                         "en": f"{partner.name} has no partner application in {rule.name_en} in {where_en}."})
    product = lead_app.product_code if lead_app is not None else ""
    reasons = eligibility.why_not(db.firm_from_row(lead), db.firm_from_row(partner), rule, rules, on, product)
    return problems + [_reason(r) for r in reasons]


def _application_row(session, round_row, firm_row, role, track):
    if round_row is None:
        return None
    stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                           db.ApplicationRow.firm_id == firm_row.id,
                                           db.ApplicationRow.role == role, db.ApplicationRow.track == track)
    return session.scalars(stmt).first()


def _has_side(session, round_row, role, track):
    stmt = select(db.ApplicationRow.id).where(db.ApplicationRow.round_id == round_row.id,
                                              db.ApplicationRow.role == role, db.ApplicationRow.track == track)
    return session.scalars(stmt.limit(1)).first() is not None


def record_interest(session, round_row, lead, partner, track, note):
    """Store (or refresh) an SME's request to pair with ``partner``.

    Staff see it on their list, and the partner joins the lead's stated preferences in the round
    (the end of the list), so a stable-matching run takes it into account. Check the request first
    with :func:`interest_problems`.
    """
    stmt = select(db.InterestRow).where(
        db.InterestRow.round_id == (round_row.id if round_row else None), db.InterestRow.lead_id == lead.id,
        db.InterestRow.partner_id == partner.id, db.InterestRow.track == track)
    row = session.scalars(stmt).first()
    if row is None:
        row = db.InterestRow(round_id=round_row.id if round_row else None, lead_id=lead.id,
                             partner_id=partner.id, track=track)
        session.add(row)
    row.note = (note or "").strip()[:NOTE_MAX]
    _add_preference(session, round_row, lead, partner, track)
    db.audit(session, f"firm:{lead.brn}", "interest.create", lead=lead.brn, partner=partner.brn, track=track,
             round=round_row.name if round_row else None)
    return row


def _add_preference(session, round_row, lead, partner, track):
    """Add ``partner`` to the lead's stated preferences in the round, which the stable solver reads."""
    if round_row is None:
        return
    stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                           db.ApplicationRow.firm_id == lead.id, db.ApplicationRow.role == "lead",
                                           db.ApplicationRow.track == track)
    application = session.scalars(stmt).first()
    if application is not None and partner.brn not in (application.preferences or []):
        application.preferences = [*(application.preferences or []), partner.brn]  # new list: JSON change seen


def region_names():
    """The 17 시도 short names, in the order of ``data/regions.csv``."""
    return tuple(_regions())


@lru_cache(maxsize=1)
def _regions():
    return codes.regions()
