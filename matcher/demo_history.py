"""A simulated decision history for the demo: past rounds whose staff decided by preferences of their own.

:func:`simulate_history` adds ``rounds`` past rounds to a database that holds the demo round (``matcher demo
load``): each takes a random share (:data:`SHARE`) of the demo round's applications, track by track, and
its simulated staff review each lead's :data:`REVIEWED` best partners under the **hand** weights (what a
run and the workbench show them). They value a reviewed pair by the **hidden** weights below, plus Gumbel
noise of scale :data:`NOISE`: they approve the pair they value most (for a share :data:`DECIDED` of the
leads) and reject each other reviewed pair with probability :data:`REJECT`.

The hidden weights differ from ``data/weights.toml`` on purpose — these staff care about a nearby partner
and proven capability much more, about similar wording much less — so a model fitted on the history can be
checked against the hand weights on rounds it did not see (``tests/test_learning.py``). Nothing in
:mod:`matcher.learning` reads them: the trainer sees only the decisions.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from . import db
from .candidates import candidate_edges
from .scoring import COMPONENTS, load_weights
from .rounds.pools import round_pools
from .tracks import round_rules

HIDDEN_WEIGHTS = {"text": 0.10, "product_code": 0.10, "industry": 0.05, "region": 0.45, "capability": 0.30}
"""What the simulated staff value (every track alike). Never read by the trainer."""
SHARE = 0.7
REVIEWED = 5
NOISE = 0.02
DECIDED = 0.8
REJECT = 0.6
ACTOR = "simulated staff"


def hidden_value(values):
    """The simulated staff's value of pairs: Σ hidden weight · component / Σ hidden weights (no noise)."""
    total = sum(HIDDEN_WEIGHTS.values())
    return sum(HIDDEN_WEIGHTS[c] / total * np.asarray(values[c], dtype=float) for c in COMPONENTS)


def simulate_history(session, rounds=4, seed=7, source_round=None, prefix="모의 과거 회차"):
    """Add ``rounds`` simulated past rounds with staff decisions (the caller commits).

    Parameters
    ----------
    session : Session
    rounds : int
    seed : int
    source_round : str, optional
        The round whose applications are sampled (default: the demo round).
    prefix : str
        Round names are ``f"{prefix} {i}"``; a name already taken is left as it is.

    Returns
    -------
    dict
        ``{round name: {"approve": n, "reject": n}}`` of the rounds added.
    """
    from .demo import ROUND_NAME
    rng = np.random.default_rng(seed)
    source = session.scalars(select(db.RoundRow).where(db.RoundRow.name == (source_round or ROUND_NAME))).one()
    apps = list(session.scalars(select(db.ApplicationRow).where(db.ApplicationRow.round_id == source.id)
                                .order_by(db.ApplicationRow.id)))
    out = {}
    for i in range(1, rounds + 1):
        name = f"{prefix} {i}"
        if session.scalars(select(db.RoundRow).where(db.RoundRow.name == name)).first() is not None:
            continue
        row = db.RoundRow(name=name, reference_date=source.reference_date, open_tracks=list(source.open_tracks),
                          rule_overrides=dict(source.rule_overrides or {}))
        session.add(row)
        session.flush()
        keep = rng.random(len(apps)) < SHARE
        session.add_all([db.ApplicationRow(round_id=row.id, firm_id=a.firm_id, role=a.role, track=a.track,
                                           product_code=a.product_code, text=a.text, preferences=list(a.preferences or []))
                         for a, k in zip(apps, keep) if k])
        session.flush()
        out[name] = _decide(session, row, rng)
    return out


def _decide(session, round_row, rng):
    ids = dict(session.execute(select(db.FirmRow.brn, db.FirmRow.id)).all())
    counts = {"approve": 0, "reject": 0}
    rules = round_rules(round_row)
    for track, pool in round_pools(session, round_row).items():
        if not pool.leads or not pool.partners:
            continue
        edges = candidate_edges(pool.leads, pool.partners, rules[track], round_row.reference_date, k=REVIEWED,
                                weights=load_weights(track))
        if not len(edges):
            continue
        value = hidden_value({c: edges[c].to_numpy() for c in COMPONENTS}) + rng.gumbel(0.0, NOISE, len(edges))
        edges = edges.assign(value=value)
        for lead, group in edges.groupby("lead_brn", sort=False):
            if rng.random() >= DECIDED:
                continue
            best = group["value"].idxmax()
            for index, rec in group.iterrows():
                kind = "approve" if index == best else ("reject" if rng.random() < REJECT else None)
                if kind is None:
                    continue
                _record(session, round_row.id, ids[lead], ids[rec.partner_brn], track, kind)
                counts[kind] += 1
    return counts


def _record(session, round_id, lead_id, partner_id, track, kind):
    note = "모의 결정 (simulated)"
    session.add(db.DecisionRow(round_id=round_id, lead_id=lead_id, partner_id=partner_id, track=track, kind=kind,
                               note=note, decided_by=ACTOR))
    session.add(db.DecisionEventRow(round_id=round_id, lead_id=lead_id, partner_id=partner_id, track=track,
                                    kind=kind, note=note, decided_by=ACTOR))
