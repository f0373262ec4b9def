"""Where each track of a round stands: applications, eligible firms, proposals, decisions, what is left."""

from __future__ import annotations

import json

from sqlalchemy import select

from .. import db
from ..errors import NotFoundError
from ..matching import DROP_KINDS, KEEP_KINDS
from ..summary import RoundSummary, pool_summary
from ..tracks import TRACKS, round_rules
from .pools import current_decisions, round_pools
from .records import TrackOverview, find_round, get_round


def round_overview(session, round_id):
    """One :class:`~matcher.rounds.records.TrackOverview` per track that is open or has applications.

    Eligible leads and partners are judged firm by firm on the reference date (a partner's
    certificate is matched to each lead's product only when pairs are scored). Proposed, pending,
    unmatched and unused count the latest run that covered the track; approved and rejected the
    decisions that count now (approve/lock and reject/forbid); new interests are SMEs' requests
    on pairs nobody has decided yet.
    """
    round_row = get_round(session, round_id)
    rules = round_rules(round_row)
    applied = _applied(session, round_row.id)
    eligible = _eligible_counts(session, round_row, rules)
    decisions = current_decisions(session, round_row.id)
    runs = list(session.scalars(select(db.MatchRunRow).where(db.MatchRunRow.round_id == round_row.id)
                                .order_by(db.MatchRunRow.id.desc())))
    interests = _interests(session, round_row.id)
    decided = {(d.lead, d.partner) for d in decisions}
    out = []
    for track in (t for t in TRACKS if t in rules):
        leads, partners = applied.get((track, "lead"), set()), applied.get((track, "partner"), set())
        is_open = track in (round_row.open_tracks or [])
        if not is_open and not (leads or partners):
            continue
        o = TrackOverview(track=track, open=is_open, leads=len(leads), partners=len(partners))
        o.eligible_leads, o.eligible_partners = eligible.get(track, (0, 0))
        mine = [d for d in decisions if _track_of(d, applied) == track]
        o.approved = sum(d.kind in KEEP_KINDS for d in mine)
        o.rejected = sum(d.kind in DROP_KINDS for d in mine)
        o.new_interests = sum(1 for t, pair in interests if t == track and pair not in decided)
        run = next((r for r in runs if r.track in (None, track)), None)
        if run is not None:
            _from_run(session, o, run, leads, decided)
        out.append(o)
    return out


def round_summary(session, round_name=None):
    """``matcher summary``: applications, eligible firms, allowed pairs and refusals per track that is open or
    has applications, from the pools matching reads (:func:`~.pools.round_pools`), counted as the round page
    counts its eligible firms.

    Parameters
    ----------
    round_name : str, optional
        A round's name, else its id; default :func:`matcher.db.latest_round` (the latest reference date).

    Returns
    -------
    matcher.summary.RoundSummary

    Raises
    ------
    NotFoundError
        When there is no such round (or no round at all).
    """
    if round_name is None:
        row = db.latest_round(session)
        if row is None:
            raise NotFoundError("no round yet; create one with: matcher round create NAME --reference-date YYYY-MM-DD")
    else:
        row = find_round(session, round_name)
    rules = round_rules(row)
    applied = {track for track, _role in _applied(session, row.id)}
    pools = round_pools(session, row, [t for t in TRACKS if t in rules and (t in (row.open_tracks or []) or t in applied)])
    tracks = [pool_summary(rules[t], pool.leads, pool.partners, row.reference_date) for t, pool in pools.items()]
    firms = {firm.brn for pool in pools.values() for firm, _app in (*pool.leads, *pool.partners)}
    return RoundSummary(row.name, row.reference_date, len(firms), tracks)


def _applied(session, round_id):
    """``{(track, role): {brn}}`` of the round's applications (one light query, no firm profiles)."""
    stmt = (select(db.ApplicationRow.track, db.ApplicationRow.role, db.FirmRow.brn)
            .join(db.FirmRow, db.FirmRow.id == db.ApplicationRow.firm_id)
            .where(db.ApplicationRow.round_id == round_id))
    out = {}
    for track, role, brn in session.execute(stmt):
        out.setdefault((track, role), set()).add(brn)
    return out


_ELIGIBLE = {}
"""Eligible (leads, partners) per track, by round and the data they were counted on (kept for 32 rounds)."""


def _eligible_counts(session, round_row, rules):
    from .jobs import data_version
    key = (round_row.id, json.dumps(data_version(session, round_row.id), default=str))
    if key not in _ELIGIBLE:
        pools = round_pools(session, round_row, [t for t in TRACKS if t in rules])
        counts = {}
        for track, pool in pools.items():
            if pool.leads or pool.partners:
                s = pool_summary(rules[track], pool.leads, pool.partners, round_row.reference_date, pairs=False)
                counts[track] = (s.eligible_leads, s.eligible_partners)
        while len(_ELIGIBLE) >= 32:
            _ELIGIBLE.pop(next(iter(_ELIGIBLE)))
        _ELIGIBLE[key] = counts
    return _ELIGIBLE[key]


def _track_of(d, applied):
    if d.track:
        return d.track
    for track in TRACKS:
        if d.lead in applied.get((track, "lead"), ()) and d.partner in applied.get((track, "partner"), ()):
            return track
    return ""


def _from_run(session, o, run, leads, decided):
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    rows = session.execute(select(db.ProposalRow.track, lead.c.brn, partner.c.brn)
                           .join(lead, lead.c.id == db.ProposalRow.lead_id)
                           .join(partner, partner.c.id == db.ProposalRow.partner_id)
                           .where(db.ProposalRow.run_id == run.id)).all()
    here = [(l, p) for t, l, p in rows if t == o.track]
    o.run_id = run.id
    o.proposed = len(here)
    o.pending = sum(1 for pair in here if pair not in decided)
    matched = {l for _t, l, _p in rows}
    o.unmatched_leads = len(leads - matched)
    o.unused_large_partners = sum(1 for item in (run.diagnostics or {}).get("unused_partners", [])
                                  if isinstance(item, dict) and item.get("track") == o.track)


def _interests(session, round_id):
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    stmt = (select(db.InterestRow.track, lead.c.brn, partner.c.brn)
            .join(lead, lead.c.id == db.InterestRow.lead_id).join(partner, partner.c.id == db.InterestRow.partner_id)
            .where(db.InterestRow.round_id == round_id))
    return [(t, (l, p)) for t, l, p in session.execute(stmt)]
