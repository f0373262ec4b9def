"""The pools of a round: its applications per track and side, and its current decisions, as plain values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import db
from ..firms import Application
from ..matching import Decision, Pool, RoundInput
from ..tracks import TRACKS, round_rules


def round_pools(session, round_row, tracks=None):
    """``{track: Pool}`` for the round's open tracks (or ``tracks``), in program order.

    Every open track has a pool, empty when nobody applied in it.
    """
    rules = round_rules(round_row)
    wanted = [t for t in TRACKS if t in (tracks or round_row.open_tracks or []) and t in rules]
    pools = {t: Pool(t) for t in wanted}
    stmt = (select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                            db.ApplicationRow.track.in_(wanted))
            .options(selectinload(db.ApplicationRow.firm).selectinload(db.FirmRow.certificates))
            .order_by(db.ApplicationRow.id))
    for row in session.scalars(stmt):
        app = Application(round_name=round_row.name, brn=row.firm.brn, role=row.role, track=row.track,
                             product_code=row.product_code or "", text=row.text or "",
                             preferences=list(row.preferences or []))
        side = pools[row.track].leads if row.role == "lead" else pools[row.track].partners
        side.append((db.firm_from_row(row.firm), app))
    return pools


def current_decisions(session, round_id):
    """The round's decisions that count (the latest of each pair), as :class:`~matcher.matching.Decision`."""
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    d = db.DecisionRow
    stmt = (select(lead.c.brn, partner.c.brn, d.kind, d.track)
            .join(lead, lead.c.id == d.lead_id).join(partner, partner.c.id == d.partner_id)
            .where(d.round_id == round_id).order_by(d.id))
    return [Decision(lead=l, partner=p, kind=k, track=t or "") for l, p, k, t in session.execute(stmt)]


def round_input(session, round_row, tracks=None):
    """The :class:`~matcher.matching.RoundInput` of a round (its open tracks, or ``tracks``)."""
    return RoundInput(name=round_row.name, reference_date=round_row.reference_date, rules=round_rules(round_row),
                      pools=round_pools(session, round_row, tracks),
                      decisions=current_decisions(session, round_row.id))
