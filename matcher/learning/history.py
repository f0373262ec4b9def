"""The decision history as a labelled table: staff decisions on pairs, with the pairs' score components.

Labels (from the decisions that count, one per pair and round):

* **positive** (1): approved or locked; selected after the stages (``stage_events``, outcome ``selected``);
  firms' mutual interest (an interest the other firm accepted, :mod:`matcher.rounds.interest`) when staff
  did not decide the pair otherwise;
* **negative** (0): rejected or forbidden;
* **passed over** (0, weight :data:`PASSED_OVER_WEIGHT`): the pair a run proposed for a lead when staff
  approved or locked another partner for that lead in the track and left the proposal undecided.

Position bias: staff see a run's proposal and whatever they open beside it, not a lead's whole list, so
pairs nobody decided are never taken as negatives (they were most likely not seen); the one implicit
negative kept, a proposal passed over, was certainly seen, and counts less than a decision. A candidate
dropped at a stage keeps its staff decision (the selection judges the project, not the match).

Features are the five score components (:data:`matcher.scoring.COMPONENTS`) as a run computes them (the
text model fitted on the track's whole pool); a labelled pair that is not eligible has no score and is
left out (counted in ``skipped``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import func, select

from .. import db
from ..candidates import candidate_edges
from ..scoring import COMPONENTS, load_weights
from ..rounds.pools import current_decisions, round_pools
from ..tracks import round_rules

POSITIVE_KINDS = ("approve", "lock")
NEGATIVE_KINDS = ("reject", "forbid")
PASSED_OVER_WEIGHT = 0.5


@dataclass
class LabelledPairs:
    """The labelled pairs, one row each: components ``X`` (n, 5), label ``y``, sample ``weight``, the hand
    score, and where each row came from (round, track, lead, partner, source kind)."""

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    hand: np.ndarray
    round: np.ndarray
    track: np.ndarray
    lead: np.ndarray
    partner: np.ndarray
    source: np.ndarray
    skipped: int = 0
    rounds: list = field(default_factory=list)

    def __len__(self):
        return len(self.y)

    def subset(self, mask):
        return LabelledPairs(*(getattr(self, n)[mask] for n in _ARRAYS), skipped=self.skipped, rounds=self.rounds)

    def queries(self):
        """One id per (round, track, lead): the group a ranking is judged in."""
        keys = np.char.add(np.char.add(self.round.astype(str), "|"), np.char.add(np.char.add(
            self.track.astype(str), "|"), self.lead.astype(str)))
        return np.unique(keys, return_inverse=True)[1]

    def counts(self):
        return {"pairs": int(len(self)), "positive": int((self.y == 1).sum()),
                "selected": int((self.source == "selected").sum()), "mutual": int((self.source == "mutual").sum()),
                "negative": int(((self.y == 0) & (self.source != "passed_over")).sum()),
                "passed_over": int((self.source == "passed_over").sum()), "skipped": int(self.skipped)}

    def fingerprint(self):
        """SHA-256 of the table (rounds, pairs, labels, weights, components rounded to 1e-9)."""
        h = hashlib.sha256()
        for row in zip(self.round, self.track, self.lead, self.partner, self.y, self.weight,
                       np.round(self.X, 9).tolist()):
            h.update(repr(row).encode())
        return h.hexdigest()


_ARRAYS = ("X", "y", "weight", "hand", "round", "track", "lead", "partner", "source")


def decision_history(session, rounds=None, track=None):
    """The labelled pairs of ``rounds`` (names or ids; default every round with a decision), in ``track``
    (default every track).

    Returns
    -------
    LabelledPairs
    """
    rows = _rounds(session, rounds)
    parts, skipped = [], 0
    for round_row in rows:
        labels = _labels(session, round_row)
        pools = round_pools(session, round_row)
        rules = round_rules(round_row)
        for key, pool in pools.items():
            if track and key != track:
                continue
            found, missed = _track_rows(round_row, rules[key], pool, labels)
            parts.extend(found)
            skipped += missed
    if not parts:
        empty = np.zeros((0, len(COMPONENTS)))
        return LabelledPairs(empty, np.zeros(0, int), np.zeros(0), np.zeros(0),
                             *(np.zeros(0, dtype=object) for _ in range(5)), skipped=skipped,
                             rounds=[r.name for r in rows])
    cols = list(zip(*parts))
    return LabelledPairs(np.array(cols[0], dtype=float), np.array(cols[1], dtype=int), np.array(cols[2], dtype=float),
                         np.array(cols[3], dtype=float), *(np.array(c, dtype=object) for c in cols[4:]),
                         skipped=skipped, rounds=[r.name for r in rows])


def _rounds(session, rounds):
    from ..rounds.records import find_round
    if rounds:
        return [find_round(session, r) for r in rounds]
    with_decisions = select(db.DecisionRow.round_id).distinct()
    return list(session.scalars(select(db.RoundRow).where(db.RoundRow.id.in_(with_decisions)).order_by(db.RoundRow.id)))


def _labels(session, round_row):
    """``{(track or '', lead, partner): (label, weight, source)}`` of one round."""
    out = {}
    chosen = set()
    for d in current_decisions(session, round_row.id):
        if d.kind in POSITIVE_KINDS:
            out[(d.track, d.lead, d.partner)] = (1, 1.0, d.kind)
            chosen.add(d.lead)
        elif d.kind in NEGATIVE_KINDS:
            out[(d.track, d.lead, d.partner)] = (0, 1.0, d.kind)
    _selected_and_mutual(session, round_row.id, out, chosen)
    decided = {(lead, partner) for _t, lead, partner in out}
    run_id = session.scalar(select(func.max(db.MatchRunRow.id)).where(db.MatchRunRow.round_id == round_row.id))
    if run_id is not None:
        lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
        p = db.ProposalRow
        stmt = (select(p.track, lead.c.brn, partner.c.brn).join(lead, lead.c.id == p.lead_id)
                .join(partner, partner.c.id == p.partner_id).where(p.run_id == run_id))
        for t, lead_brn, partner_brn in session.execute(stmt):
            if lead_brn in chosen and (lead_brn, partner_brn) not in decided:
                out[(t, lead_brn, partner_brn)] = (0, PASSED_OVER_WEIGHT, "passed_over")
    return out


def _selected_and_mutual(session, round_id, out, chosen):
    """Add the round's selected pairs (over any decision) and mutual interests (where staff did not decide)."""
    lead, partner = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner")
    e = db.StageEventRow
    outcome = {}
    stmt = (select(e.track, lead.c.brn, partner.c.brn, e.stage).join(lead, lead.c.id == e.lead_id)
            .join(partner, partner.c.id == e.partner_id).where(e.round_id == round_id, e.stage.in_(("selected", "rejected")))
            .order_by(e.id))
    for t, lead_brn, partner_brn, stage in session.execute(stmt):
        outcome[(t, lead_brn, partner_brn)] = stage
    for (t, lead_brn, partner_brn), stage in outcome.items():
        if stage == "selected":
            out.pop(("", lead_brn, partner_brn), None)
            out[(t, lead_brn, partner_brn)] = (1, 1.0, "selected")
            chosen.add(lead_brn)
    decided = {(lead_brn, partner_brn) for _t, lead_brn, partner_brn in out}
    i = db.InterestRow
    stmt = (select(i.track, lead.c.brn, partner.c.brn).join(lead, lead.c.id == i.lead_id)
            .join(partner, partner.c.id == i.partner_id).where(i.round_id == round_id, i.status == "accepted"))
    for t, lead_brn, partner_brn in session.execute(stmt):
        if (lead_brn, partner_brn) not in decided:
            out[(t, lead_brn, partner_brn)] = (1, 1.0, "mutual")


def _track_rows(round_row, rule, pool, labels):
    """The labelled rows of one track: (components, label, weight, hand score, round, track, lead, partner, source)."""
    wanted = {}
    for (t, lead, partner), label in labels.items():
        if t in ("", rule.key):
            wanted[(lead, partner)] = label
    lead_pos = {firm.brn: i for i, (firm, _a) in enumerate(pool.leads)}
    partner_brns = {firm.brn for firm, _a in pool.partners}
    here = {pair: label for pair, label in wanted.items() if pair[0] in lead_pos and pair[1] in partner_brns}
    if not here:
        return [], 0
    subset = sorted({lead_pos[lead] for lead, _p in here})
    hand = load_weights(rule.key)
    edges = candidate_edges(pool.leads, pool.partners, rule, round_row.reference_date, k=len(pool.partners),
                            weights=hand, lead_subset=subset)
    rows = []
    for rec in edges.itertuples(index=False):
        label = here.get((rec.lead_brn, rec.partner_brn))
        if label is None:
            continue
        rows.append(([getattr(rec, c) for c in COMPONENTS], label[0], label[1], rec.score, round_row.name, rule.key,
                     rec.lead_brn, rec.partner_brn, label[2]))
    return rows, len(here) - len(rows)
