"""Publishing a round's results: what each firm sees once staff publish, the results export, the funnel.

Before :func:`publish` a firm sees its applications and its interest only; afterwards, for that round,
its approved partner(s), their stage and the outcome — its own, never another firm's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import func, select

from .. import db
from ..firms import format_brn
from ..messages import N_, msg
from ..tracks import TRACKS
from .records import get_round
from .stages import _staff, candidates, products, round_stages


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def publish(session, round_id, actor):
    """Publish the round's results to its firms (again: the time moves on); returns the round row."""
    _staff(actor)
    round_row = get_round(session, round_id)
    round_row.published_at, round_row.published_by = _now(), actor
    db.audit(session, actor, "round.publish", round=round_row.name)
    return round_row


def unpublish(session, round_id, actor):
    """Take the round's results back from the firms (for a correction)."""
    _staff(actor)
    round_row = get_round(session, round_id)
    round_row.published_at = None
    db.audit(session, actor, "round.unpublish", round=round_row.name)
    return round_row


@dataclass
class FirmResult:
    """One application of a firm with, once the round is published, its pair(s), stage and outcome."""

    round_id: int
    round_name: str
    track: str
    role: str
    product_code: str
    published: bool
    pairs: list = field(default_factory=list)  # dicts: other brn/name, stage, scores, outcome

    def to_dict(self):
        return dict(round=self.round_name, track=self.track, role=self.role, product_code=self.product_code,
                    published=self.published, pairs=self.pairs)


def firm_results(session, firm, round_id=None):
    """The firm's applications (in one round, or every round) and, where published, their results.

    Unpublished rounds show the applications only (``published`` False, no pairs).
    """
    me = db.get_firm(session, firm)
    a = db.ApplicationRow
    stmt = (select(a, db.RoundRow).join(db.RoundRow, db.RoundRow.id == a.round_id).where(a.firm_id == me.id)
            .order_by(db.RoundRow.reference_date.desc(), a.track, a.role))
    if round_id is not None:
        stmt = stmt.where(a.round_id == round_id)
    out, seen = [], {}
    for app, round_row in session.execute(stmt):
        published = round_row.published_at is not None
        result = FirmResult(round_row.id, round_row.name, app.track, app.role, app.product_code or "", published)
        if published:
            if round_row.id not in seen:
                seen[round_row.id] = candidates(session, round_row.id)
            for c in seen[round_row.id]:
                mine = c.lead_brn if app.role == "lead" else c.partner_brn
                if c.track != app.track or mine != me.brn:
                    continue
                other_brn, other_name = (c.partner_brn, c.partner_name) if app.role == "lead" else (
                    c.lead_brn, c.lead_name)
                result.pairs.append(dict(brn=other_brn, name=other_name, stage=c.stage, scores=dict(c.scores),
                                         outcome=c.outcome, stages=round_stages(round_row)))
        out.append(result)
    return out


OUTCOME_NAMES = (N_("result.outcome.selected"), N_("result.outcome.rejected"), N_("result.outcome.in_progress"),
                 N_("result.outcome.candidate"), N_("result.outcome.not_candidate"))
RESULT_COLUMNS = (N_("result.col.track"), N_("result.col.role"), N_("result.col.brn"), N_("result.col.name"),
                  N_("result.col.other_brn"), N_("result.col.other_name"), N_("result.col.match_score"))
RESULT_TAIL = (N_("result.col.outcome"), N_("result.col.product_code"), N_("result.col.confirmed_on"),
               N_("result.col.expires_on"))


def results_table(session, round_id, lang="ko"):
    """Every application of the round with its pair, stage scores and outcome, for the results export.

    Returns
    -------
    (list of str, list of list)
        Headers in ``lang`` (Korean by default) and one row per application (an application in several
        candidate pairs has one row per pair).
    """
    round_row = get_round(session, round_id)
    stages = round_stages(round_row)
    head = ([msg(c).text(lang) for c in RESULT_COLUMNS]
            + [msg("result.col.stage_score", stage=msg(N_("stage." + s))).text(lang) for s in stages]
            + [msg(c).text(lang) for c in RESULT_TAIL])
    pairs = {}
    for c in candidates(session, round_row.id):
        pairs.setdefault((c.track, "lead", c.lead_brn), []).append((c, c.partner_brn, c.partner_name))
        pairs.setdefault((c.track, "partner", c.partner_brn), []).append((c, c.lead_brn, c.lead_name))
    made = {(p.lead_brn, p.partner_brn): p for p in products(session, round_id=round_row.id)}
    a = db.ApplicationRow
    rows = []
    stmt = (select(a.track, a.role, db.FirmRow.brn, db.FirmRow.name).join(db.FirmRow, db.FirmRow.id == a.firm_id)
            .where(a.round_id == round_row.id).order_by(a.track, a.role, db.FirmRow.brn))
    for track, role, brn, name in session.execute(stmt):
        base = [msg(N_("track." + track)).text(lang), msg(N_("role." + role)).text(lang), format_brn(brn), name]
        for c, other_brn, other_name in pairs.get((track, role, brn), []) or [(None, "", "")]:
            row = base + [format_brn(other_brn) if other_brn else "", other_name,
                          round(c.match_score, 4) if c is not None and c.match_score is not None else None]
            row += [c.scores.get(s) if c is not None else None for s in stages]
            outcome = c.outcome or ("in_progress" if c.stage else "candidate") if c is not None else "not_candidate"
            product = made.get(c.key) if c is not None else None
            row += [msg(N_("result.outcome." + outcome)).text(lang), product.product_code if product else "",
                    product.confirmed_on if product else None, product.expires_on if product else None]
            rows.append(row)
    return head, rows


def funnel(session, round_id):
    """Per track, how many got how far: applied leads → proposed → approved → each stage → selected.

    Returns
    -------
    dict
        ``{"steps": [(key, Msg)], "tracks": {track: [count per step]}}`` for the round's open tracks.
    """
    round_row = get_round(session, round_id)
    stages = round_stages(round_row)
    steps = ([("applied", msg("funnel.applied")), ("proposed", msg("funnel.proposed")),
              ("approved", msg("funnel.approved"))]
             + [(s, msg(N_("stage." + s))) for s in stages] + [("selected", msg("stage.selected"))])
    a = db.ApplicationRow
    applied = dict(session.execute(select(a.track, func.count()).where(a.round_id == round_row.id, a.role == "lead")
                                   .group_by(a.track)).all())
    proposed = _proposed(session, round_row.id)
    found = candidates(session, round_row.id)
    tracks = {}
    for track in [t for t in TRACKS if t in (round_row.open_tracks or [])]:
        mine = [c for c in found if c.track == track]
        counts = [int(applied.get(track, 0)), proposed.get(track, 0), len(mine)]
        counts += [sum(1 for c in mine if s in c.scores) for s in stages]
        counts.append(sum(1 for c in mine if c.outcome == "selected"))
        tracks[track] = counts
    return {"steps": steps, "tracks": tracks}


def _proposed(session, round_id):
    """Pairs proposed per track by the newest run covering it (a run of every track covers them all)."""
    newest = {}
    for run_id, track in session.execute(select(db.MatchRunRow.id, db.MatchRunRow.track)
                                         .where(db.MatchRunRow.round_id == round_id).order_by(db.MatchRunRow.id)):
        for key in ([track] if track else TRACKS):
            newest[key] = run_id
    if not newest:
        return {}
    p = db.ProposalRow
    counts = session.execute(select(p.run_id, p.track, func.count()).where(p.run_id.in_(set(newest.values())))
                             .group_by(p.run_id, p.track)).all()
    return {track: n for run_id, track, n in counts if newest.get(track) == run_id}
