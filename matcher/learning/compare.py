"""Hand weights against a fitted model, on rounds (or folds) the model did not see.

Each held-out (round, track, lead) with a positive and a negative labelled pair is a query: its labelled
pairs are ranked by the hand score and by the model's, and judged by precision@k and NDCG@k (binary
relevance: approved or locked), and by the AUC of its approved against its rejected or forbidden pairs
(passed-over proposals left out; averaged over the queries that have both). Intervals: 95 % bootstrap over queries, paired
(the same resampled queries for both scorers), so the difference's interval says whether the model is
better beyond noise.
"""

from __future__ import annotations

import numpy as np

from ..scoring import COMPONENTS, load_weights
from .estimator import AdditiveLogit

K = 1
BOOTSTRAP = 1000
MIN_TRACK_PAIRS = 40


def fit_weights(pairs, alpha=0.01):
    """Per-track weights fitted on ``pairs``: ``{"default": {...}, "tracks": {track: {...}}, "intercepts": {...}}``.

    A track with fewer than :data:`MIN_TRACK_PAIRS` pairs or one class only takes the model of all tracks
    together (``default``); a model whose coefficients are all zero leaves its track to the hand weights
    (absent from ``tracks``).
    """
    out = {"default": None, "tracks": {}, "intercepts": {}}
    pooled = _fit(pairs.X, pairs.y, pairs.weight, alpha)
    if pooled is not None:
        out["default"], out["intercepts"]["default"] = _as_weights(pooled), pooled.intercept_
    for track in sorted(set(pairs.track)):
        mask = pairs.track == track
        model = _fit(pairs.X[mask], pairs.y[mask], pairs.weight[mask], alpha) if mask.sum() >= MIN_TRACK_PAIRS else None
        if model is not None:
            out["tracks"][track], out["intercepts"][track] = _as_weights(model), model.intercept_
    return out


def _fit(X, y, weight, alpha):
    if len(set(y.tolist())) < 2:
        return None
    model = AdditiveLogit(alpha=alpha).fit(X, y, sample_weight=weight)
    return model if model.coef_.sum() > 0 else None


def _as_weights(model):
    return {c: float(b) for c, b in zip(COMPONENTS, model.coef_)}


def weights_for(fitted, track):
    """The weights a fitted table gives ``track``: its own, else ``default``, else the hand weights."""
    return fitted["tracks"].get(track) or fitted.get("default") or load_weights(track)


def model_scores(fitted, pairs):
    """Σ weight·component / Σ weights of each pair under the fitted weights (the score a run would give)."""
    out = np.zeros(len(pairs))
    for track in set(pairs.track):
        mask = pairs.track == track
        w = weights_for(fitted, track)
        total = sum(w.values()) or 1.0
        out[mask] = pairs.X[mask] @ np.array([w[c] for c in COMPONENTS]) / total
    return out


def folds(pairs, n_folds=5, seed=0):
    """Test masks: one per round when there are at least two rounds (leave one round out), else
    ``n_folds`` folds of leads."""
    rounds = sorted(set(pairs.round))
    if len(rounds) >= 2:
        return "rounds", [pairs.round == r for r in rounds]
    leads = np.array(sorted(set(pairs.lead)))
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(leads, rng.permutation(len(leads)) % n_folds))
    assignment = np.array([fold_of[lead] for lead in pairs.lead])
    return "leads", [assignment == f for f in range(n_folds)]


def cross_validate(pairs, alpha=0.01, k=K, rounds=BOOTSTRAP, seed=0):
    """Hand against model on held-out folds: per-query metrics, their means and paired intervals.

    Returns
    -------
    dict
        ``folds`` (how the data was split, and how many), ``queries``, ``k``, and for ``hand``, ``model``
        and ``difference`` (model − hand): ``p@k``, ``ndcg@k`` and ``auc``, each ``{"mean", "low", "high"}``.
    """
    kind, masks = folds(pairs)
    hand_q, model_q = [], []
    for test in masks:
        train = ~test
        if test.sum() == 0 or train.sum() == 0:
            continue
        fitted = fit_weights(pairs.subset(train), alpha)
        held = pairs.subset(test)
        scores = model_scores(fitted, held)
        hand_q.extend(_per_query(held, held.hand, k))
        model_q.extend(_per_query(held, scores, k))
    return summarise(kind, len(masks), hand_q, model_q, k, rounds, seed)


def _per_query(pairs, scores, k):
    """(p@k, ndcg@k, auc) of each query with a positive and a negative; auc over its explicit decisions
    (approved or locked against rejected or forbidden; NaN when it has not both)."""
    q = pairs.queries()
    explicit = pairs.source != "passed_over"
    out = []
    gains = 1.0 / np.log2(np.arange(2, k + 2))
    for g in np.unique(q):
        idx = np.flatnonzero(q == g)
        if pairs.y[idx].min() == pairs.y[idx].max():
            continue
        order = idx[np.lexsort((np.arange(len(idx)), -scores[idx]))]
        rel = pairs.y[order][:k].astype(float)
        ideal = np.sort(pairs.y[idx])[::-1][:k].astype(float)
        ndcg = float((rel * gains[:len(rel)]).sum() / (ideal * gains[:len(ideal)]).sum())
        e = idx[explicit[idx]]
        out.append((float(rel.sum() / k), ndcg, auc(pairs.y[e], scores[e])))
    return out


def auc(labels, scores):
    """Area under the ROC curve (ties count half); NaN without both classes.

    Examples
    --------
    >>> auc(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.5, 0.5]))
    0.875
    """
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    pos, neg = scores[labels == 1], scores[labels == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    diff = pos[:, None] - neg[None, :]  # a lead's reviewed pairs are few: the plain pairwise count
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def summarise(kind, n_folds, hand_q, model_q, k, rounds, seed):
    """Means and paired bootstrap intervals of the per-query metrics (AUC: the mean over queries that have one)."""
    n = len(hand_q)
    out = {"folds": {"by": kind, "count": n_folds}, "queries": n, "k": k}
    if not n:
        return out
    hand, model = np.array(hand_q, dtype=float), np.array(model_q, dtype=float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(rounds, n))
    names = (f"p@{k}", f"ndcg@{k}", "auc")
    for label, values in (("hand", hand), ("model", model), ("difference", model - hand)):
        boot = np.nanmean(values[draws], axis=1)  # (rounds, 3)
        out[label] = {m: {"mean": float(np.nanmean(values[:, i])), "low": float(np.percentile(boot[:, i], 2.5)),
                          "high": float(np.percentile(boot[:, i], 97.5))} for i, m in enumerate(names)}
    return out


def better_beyond_noise(metrics):
    """True when the model's NDCG@k is better than the hand weights' with the whole 95 % interval above 0."""
    diff = metrics.get("difference")
    if not diff:
        return False
    key = f"ndcg@{metrics['k']}"
    return diff[key]["low"] > 0
