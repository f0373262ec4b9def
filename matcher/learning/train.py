"""The use cases: train a scoring model on the decision history, evaluate it against the hand weights,
switch the runs to it (or back). The CLI and the web pages call these."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import metadata

from ..errors import RefusedError
from ..scoring import COMPONENTS, load_weights
from ..tracks import TRACKS
from . import artifact
from .compare import better_beyond_noise, cross_validate, fit_weights, model_scores, summarise, _per_query
from .history import PASSED_OVER_WEIGHT, decision_history
from ..messages import msg
from .messages import error

ALPHA = 0.01


def train(session, rounds=None, track=None, alpha=ALPHA, folder=None):
    """Fit a model on the decisions of ``rounds`` (default all) in ``track`` (default all), cross-validate it
    against the hand weights on the same folds, and save it as the next version.

    Returns
    -------
    (str, dict)
        The version and the saved payload.

    Raises
    ------
    RefusedError
        No decision to learn from (``model.no_data``), or only one kind (``model.one_class``).
    """
    pairs = decision_history(session, rounds, track)
    if not len(pairs):
        raise error(RefusedError, msg("model.no_data", rounds=pairs.rounds or ["—"]))
    if len(set(pairs.y.tolist())) < 2:
        raise error(RefusedError, msg("model.one_class"))
    metrics = cross_validate(pairs, alpha=alpha)
    fitted = fit_weights(pairs, alpha=alpha)
    payload = {
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "estimator": {"name": "AdditiveLogit", "alpha": alpha, "monotone": True, "features": list(COMPONENTS)},
        "data": {"fingerprint": pairs.fingerprint(), "rounds": pairs.rounds, "track": track or None,
                 "tracks": sorted(set(pairs.track.tolist())), "counts": pairs.counts(),
                 "labels": {"positive": "approve, lock, selected, mutual interest", "negative": "reject, forbid",
                            "passed_over": f"a run's proposal left undecided when another partner was approved "
                                           f"(weight {PASSED_OVER_WEIGHT})"}},
        "weights": {"default": fitted["default"], "tracks": fitted["tracks"]},
        "intercepts": fitted["intercepts"],
        "hand_weights": {t: load_weights(t) for t in TRACKS},
        "metrics": metrics,
        "libraries": _libraries(),
    }
    return artifact.save(payload, folder), payload


def _libraries():
    out = {}
    for name in ("matcher", "numpy", "scipy", "scikit-learn"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def evaluate_model(session, version, rounds=None, folder=None):
    """Hand weights against model ``version``.

    On rounds the model was not trained on (``rounds`` given and disjoint from its training rounds) the
    model's saved weights are judged as they are; otherwise its training is repeated fold by fold on its
    rounds (cross-validation, the folds its metadata were measured on).

    Returns
    -------
    dict
        As :func:`~matcher.learning.compare.cross_validate`, plus ``how`` ("held-out rounds" or
        "cross-validation"), ``version``, ``rounds`` and ``same_data`` (cross-validation: the data still has
        the fingerprint the model was trained on; None on held-out rounds).
    """
    body = artifact.load(version, folder)
    trained_on = body["data"]["rounds"]
    track = body["data"].get("track")
    if rounds and not set(_names(session, rounds)) & set(trained_on):
        pairs = decision_history(session, rounds, track)
        fitted = {"default": body["weights"].get("default"), "tracks": body["weights"].get("tracks") or {}}
        scores = model_scores(fitted, pairs)
        out = summarise("rounds", len(set(pairs.round.tolist())), _per_query(pairs, pairs.hand, 1),
                        _per_query(pairs, scores, 1), 1, 1000, 0)
        out["how"] = "held-out rounds"
    else:
        pairs = decision_history(session, rounds or trained_on, track)
        out = cross_validate(pairs, alpha=body["estimator"]["alpha"])
        out["how"] = "cross-validation"
    out.update(version=version, rounds=sorted(set(pairs.round.tolist())),
               same_data=pairs.fingerprint() == body["data"]["fingerprint"] if out["how"] == "cross-validation" else None)
    return out


def _names(session, rounds):
    from ..rounds.records import find_round
    return [find_round(session, r).name for r in rounds]


def refuse_unless_better(version, metrics):
    """Raise ``model.not_better`` unless the model beats the hand weights beyond noise (:func:`better_beyond_noise`)."""
    if better_beyond_noise(metrics):
        return
    k = metrics.get("k", 1)
    diff = (metrics.get("difference") or {}).get(f"ndcg@{k}")
    shown = {"diff": "—", "low": "—", "high": "—"} if diff is None else \
        {"diff": format(diff["mean"], "+.3f"), "low": format(diff["low"], "+.3f"), "high": format(diff["high"], "+.3f")}
    metric = "NDCG@" + str(k)
    raise error(RefusedError, msg("model.not_better", version=version, metric=metric, **shown))


def use(session, version, actor="", folder=None):
    """Score the next runs by ``version`` (refused unless its saved metrics show it better beyond noise) or by
    the hand weights (``"hand"``, always allowed). Returns the version."""
    return artifact.choose(session, version, actor, folder,
                           check=lambda body: refuse_unless_better(version, body["metrics"]))


def learned_and_hand(body):
    """Rows for the model page and ``matcher model show``: each track's (and the default's) learned weights
    and hand weights as shares of their sum, component by component."""
    rows = []
    weights = body.get("weights") or {}
    tables = [("default", weights.get("default"))] + sorted((weights.get("tracks") or {}).items())
    for key, learned in tables:
        if not learned:
            continue
        hand = (body.get("hand_weights") or {}).get(key) or load_weights(None if key == "default" else key)
        ls, hs = sum(learned.values()) or 1.0, sum(hand.values()) or 1.0
        rows.append({"track": key, "components": [
            {"name": c, "learned": learned[c] / ls, "hand": hand[c] / hs, "coefficient": learned[c]}
            for c in COMPONENTS]})
    return rows


def metric_rows(metrics):
    """``[(metric, hand, model, difference)]`` each ``{"mean","low","high"}``, in display order."""
    k = metrics.get("k", 1)
    return [(m, metrics["hand"][m], metrics["model"][m], metrics["difference"][m])
            for m in (f"p@{k}", f"ndcg@{k}", "auc") if "hand" in metrics]


__all__ = ["train", "evaluate_model", "use", "refuse_unless_better", "learned_and_hand", "metric_rows"]
