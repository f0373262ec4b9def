"""The pools of a round: its applications per track and side, and its current decisions, as plain values."""

from __future__ import annotations

from sqlalchemy import select

from .. import db
from ..firms import Application, Certificate, Firm, Licence
from ..matching import Decision, Pool, RoundInput
from ..tracks import TRACKS, round_rules


def round_pools(session, round_row, tracks=None):
    """``{track: Pool}`` for the round's open tracks (or ``tracks``), in program order.

    Every open track has a pool, empty when nobody applied in it. Read with three plain
    queries (applications, their firms, the firms' certificates) rather than through ORM
    objects: a round of 100,000 applications loads in seconds. A firm applying several times
    is one :class:`~matcher.firms.Firm` object.
    """
    rules = round_rules(round_row)
    wanted = [t for t in TRACKS if t in (tracks or round_row.open_tracks or []) and t in rules]
    pools = {t: Pool(t) for t in wanted}
    a = db.ApplicationRow
    applied = select(a.firm_id).where(a.round_id == round_row.id, a.track.in_(wanted))
    f, c = db.FirmRow, db.CertificateRow
    certificates = {}
    for firm_id, kind, code, valid_from, valid_to in session.execute(
            select(c.firm_id, c.kind, c.code, c.valid_from, c.valid_to).where(c.firm_id.in_(applied)).order_by(c.id)):
        certificates.setdefault(firm_id, []).append(Certificate(kind, code or "", valid_from, valid_to))
    firms = {}
    for r in session.execute(select(f.id, f.brn, f.name, f.size_class, f.region, f.founded, f.ksic_codes,
                                    f.g2b_codes, f.description, f.licences, f.debarred_from, f.debarred_to,
                                    f.affiliate_group, f.members).where(f.id.in_(applied))):
        firms[r.id] = Firm(
            brn=r.brn, name=r.name, size_class=r.size_class, region=r.region, founded=r.founded,
            ksic_codes=list(r.ksic_codes or []), g2b_codes=list(r.g2b_codes or []), description=r.description or "",
            certificates=certificates.get(r.id, []),
            licences=[Licence(x["kind"], x.get("work_type", "")) for x in (r.licences or [])],
            debarred_from=r.debarred_from, debarred_to=r.debarred_to, affiliate_group=r.affiliate_group or None,
            members=r.members or 1)
    stmt = (select(a.firm_id, a.role, a.track, a.product_code, a.text, a.preferences)
            .where(a.round_id == round_row.id, a.track.in_(wanted)).order_by(a.id))
    for firm_id, role, track, product_code, text, preferences in session.execute(stmt):
        firm = firms[firm_id]
        app = Application(round_name=round_row.name, brn=firm.brn, role=role, track=track,
                          product_code=product_code or "", text=text or "", preferences=list(preferences or []))
        side = pools[track].leads if role == "lead" else pools[track].partners
        side.append((firm, app))
    return pools


def current_decisions(session, round_id):
    """The round's decisions that count (the latest of each pair), as :class:`~matcher.matching.Decision`."""
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    d = db.DecisionRow
    stmt = (select(lead.c.brn, partner.c.brn, d.kind, d.track)
            .join(lead, lead.c.id == d.lead_id).join(partner, partner.c.id == d.partner_id)
            .where(d.round_id == round_id).order_by(d.id))
    return [Decision(lead=l, partner=p, kind=k, track=t or "") for l, p, k, t in session.execute(stmt)]


def round_input(session, round_row, tracks=None, mutual_bonus=None):
    """The :class:`~matcher.matching.RoundInput` of a round (its open tracks, or ``tracks``), with its
    mutually interested pairs and the bonus the optimal solver gives them (``data/program.toml``'s
    ``mutual_bonus`` unless given)."""
    from ..codelists import lists_on
    from .interest import mutual_pairs
    from .stages import program_settings
    bonus = program_settings()["mutual_bonus"] if mutual_bonus is None else mutual_bonus
    return RoundInput(name=round_row.name, reference_date=round_row.reference_date, rules=round_rules(round_row),
                      pools=round_pools(session, round_row, tracks),
                      decisions=current_decisions(session, round_row.id),
                      mutual=frozenset(mutual_pairs(session, round_row.id)), mutual_bonus=float(bonus),
                      code_lists=lists_on(session, round_row.reference_date))
