"""A run's proposals as the workbench shows them: rows with decisions, loads, graph pairs, diagnostics.

Plain functions from database rows to dicts; the views in :mod:`web.runs` and :mod:`web.api` render them.
"""

from __future__ import annotations

from collections import Counter

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matcher import db
from matcher.errors import NotFoundError
from matcher.firms import format_brn, parse_brn
from matcher.matching import DECISION_KINDS, decide
from matcher.tracks import TRACKS


def decisions_of(session, round_id):
    """``{(lead_id, partner_id): DecisionRow}`` of a round."""
    stmt = select(db.DecisionRow).where(db.DecisionRow.round_id == round_id)
    return {(d.lead_id, d.partner_id): d for d in session.scalars(stmt)}


def proposal_rows(session, run):
    """Every proposal of ``run`` as a dict, with the round's decision on the pair (if any)."""
    decisions = decisions_of(session, run.round_id)
    stmt = (select(db.ProposalRow).where(db.ProposalRow.run_id == run.id).order_by(db.ProposalRow.id)
            .options(selectinload(db.ProposalRow.lead), selectinload(db.ProposalRow.partner)))
    return [_row(p, decisions.get((p.lead_id, p.partner_id))) for p in session.scalars(stmt)]


def _row(p, decision):
    explanation = p.explanation or {}
    return dict(
        id=p.id, track=p.track, score=float(p.score), status=p.status,
        lead_brn=p.lead.brn, lead_name=p.lead.name, lead_size=p.lead.size_class, lead_region=p.lead.region,
        partner_brn=p.partner.brn, partner_name=p.partner.name, partner_size=p.partner.size_class,
        partner_region=p.partner.region, partner_id=p.partner_id,
        components=list(explanation.get("components", [])), reasons=list(explanation.get("reasons", [])),
        decision=decision.kind if decision else "", note=decision.note if decision else "",
        decided_by=decision.decided_by if decision else "",
    )


def as_json(row):
    """A proposal row for the API (the same dict; kept as a function so the API shape is explicit)."""
    return {k: row[k] for k in ("id", "track", "score", "status", "lead_brn", "lead_name", "partner_brn",
                                "partner_name", "partner_size", "components", "reasons", "decision", "note")}


def partner_loads(rows, rules):
    """Leads per (partner, track) among the pairs not rejected, with the track's min and max for it."""
    counts = Counter((r["partner_id"], r["track"]) for r in rows if r["status"] != "rejected"
                     and r["decision"] not in ("reject", "forbid"))
    names = {(r["partner_id"], r["track"]): (r["partner_name"], r["partner_size"]) for r in rows}
    loads = []
    for key, (name, size) in sorted(names.items(), key=lambda kv: kv[1][0]):
        cap = rules[key[1]].capacity_for(size) if key[1] in rules else None
        loads.append(dict(key=key, name=name, size=size, track=key[1], count=counts.get(key, 0),
                          min=cap.min if cap else 0, max=cap.max if cap else None))
    return loads


def unused_loads(session, diagnostics, rules):
    """Zero-load entries for the large partners a run left unused, with their track's minimum."""
    loads = []
    for item in (diagnostics or {}).get("unused_partners", []):
        firm = session.scalars(select(db.FirmRow).where(db.FirmRow.brn == item.get("brn"))).first()
        rule = rules.get(item.get("track"))
        cap = rule.capacity_for(firm.size_class) if firm is not None and rule is not None else None
        loads.append(dict(key=("unused", item.get("brn"), item.get("track")), name=item.get("name", ""),
                          size=firm.size_class if firm else "", track=item.get("track", ""), count=0,
                          min=cap.min if cap else 0, max=cap.max if cap else None))
    return loads


def graph_pairs(rows, loads):
    """The pairs for :func:`web.charts.bipartite_svg`, flagging partners below their minimum."""
    below = {l["key"] for l in loads if l["count"] < l["min"]}
    return [dict(partner=r["partner_name"], lead=r["lead_name"], partner_key=(r["partner_id"], r["track"]),
                 lead_key=r["lead_brn"], track=r["track"], below_min=(r["partner_id"], r["track"]) in below)
            for r in sorted(rows, key=lambda r: (r["partner_name"], r["track"], r["lead_name"]))
            if r["decision"] not in ("reject", "forbid")]


def for_track(diagnostics, track):
    """The diagnostics limited to one track (all of them when ``track`` is empty)."""
    if not track:
        return diagnostics or {}
    return {key: [i for i in items if isinstance(i, dict) and i.get("track") == track]
            for key, items in (diagnostics or {}).items() if isinstance(items, list)}


def unused_partner_names(diagnostics):
    """Names of the large partners a run left unused (from its diagnostics)."""
    return [item.get("name") or item.get("brn", "") for item in (diagnostics or {}).get("unused_partners", [])
            if isinstance(item, dict)]


def diagnostics_sections(diagnostics):
    """The run's diagnostics as ``[(title_key, items)]``; each item ``{"name", "brn", "track", "reasons"}``."""
    diagnostics = diagnostics or {}
    sections = []
    for key in ("unused_partners", "unmatched_leads"):
        items = diagnostics.get(key) or []
        sections.append((key, [_diagnostic_item(i) for i in items]))
    return sections


def _diagnostic_item(item):
    if not isinstance(item, dict):
        return dict(name=str(item), brn="", track="", reasons=[])
    reasons = item.get("reasons", [])
    if isinstance(reasons, (str, dict)):
        reasons = [reasons]
    return dict(name=item.get("name", ""), brn=item.get("brn", ""), track=item.get("track", ""),
                reasons=reasons)


def record_decision(session, round_row, values, actor):
    """Validate a decision from a form or JSON body and hand it to :func:`matcher.matching.decide`."""
    kind = values.get("kind", "")
    if kind not in DECISION_KINDS:
        abort(400, f"decision kind {kind!r} is not one of {', '.join(DECISION_KINDS)}")
    lead, partner = _brn(values, "lead"), _brn(values, "partner")
    rows = []
    for brn in (lead, partner):
        try:
            rows.append(db.get_firm(session, brn))
        except NotFoundError as exc:
            abort(404, str(exc))
    track = str(values.get("track") or "")
    if track and track not in TRACKS:
        abort(400, f"track {track!r} is not one of {', '.join(TRACKS)}")
    problem = pair_problem(session, round_row, *rows, track)
    if problem:
        abort(400, f"lead {format_brn(lead)} ({rows[0].name}) – partner {format_brn(partner)} ({rows[1].name}) "
                   f"in round {round_row.name}: {problem}")
    return decide(session, round_row.name, lead, partner, kind, str(values.get("note", ""))[:2000], actor, track)


def pair_problem(session, round_row, lead_row, partner_row, track=""):
    """Why the pair cannot exist in the round ('' when it can): the same firm twice, roles reversed, or
    no lead application of the lead and partner application of the partner in a common track (``track``
    when given)."""
    if lead_row.id == partner_row.id:
        return "a firm cannot pair with itself"
    stmt = select(db.ApplicationRow.firm_id, db.ApplicationRow.role, db.ApplicationRow.track).where(
        db.ApplicationRow.round_id == round_row.id, db.ApplicationRow.firm_id.in_([lead_row.id, partner_row.id]))
    applied = {(firm_id, role, app_track) for firm_id, role, app_track in session.execute(stmt)
               if not track or app_track == track}
    leads = {t for firm_id, role, t in applied if firm_id == lead_row.id and role == "lead"}
    partners = {t for firm_id, role, t in applied if firm_id == partner_row.id and role == "partner"}
    if leads & partners:
        return ""
    where = f" in track {track}" if track else ""
    if not leads and not partners and any(f == lead_row.id and r == "partner" for f, r, _t in applied) and any(
            f == partner_row.id and r == "lead" for f, r, _t in applied):
        return f"roles reversed: {lead_row.name} applied as partner and {partner_row.name} as lead{where}"
    problems = []
    if not leads:
        problems.append(f"{lead_row.name} has no lead application{where}")
    if not partners:
        problems.append(f"{partner_row.name} has no partner application{where}")
    if leads and partners:
        problems.append(f"no common track ({lead_row.name} leads in {', '.join(sorted(leads))}, "
                        f"{partner_row.name} partners in {', '.join(sorted(partners))})")
    return "; ".join(problems)


def _brn(values, field):
    raw = str(values.get(field, ""))
    try:
        return parse_brn(raw)
    except ValueError as exc:
        abort(400, f"{field} 사업자등록번호 {raw!r} {exc}")
