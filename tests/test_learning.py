"""Learned scoring: the estimator's contract, the signed model files, and recovery of the simulated staff's
hidden preferences on rounds the model did not see (:mod:`matcher.demo_history`)."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from matcher import db
from matcher.errors import NotFoundError, RefusedError
from matcher.learning import artifact
from matcher.learning.compare import auc, better_beyond_noise, cross_validate, fit_weights
from matcher.learning.estimator import AdditiveLogit
from matcher.learning.history import LabelledPairs
from matcher.scoring import COMPONENTS, load_weights


@pytest.fixture
def models(tmp_path, monkeypatch):
    folder = tmp_path / "models"
    monkeypatch.setenv("MATCHER_MODELS", str(folder))
    return folder


# --- the estimator ----------------------------------------------------------------------------------


def test_fit_returns_self_and_learned_attributes_end_in_underscore():
    X = np.random.default_rng(0).random((60, 5))
    y = (X @ [1, 2, 0, 3, 1] + 0.1 * np.random.default_rng(1).standard_normal(60) > 3.5).astype(int)
    model = AdditiveLogit(alpha=0.01)
    assert vars(model) == {"alpha": 0.01, "monotone": True, "max_iter": 500}  # __init__ only stores
    with pytest.raises(NotFittedError):
        model.predict(X)
    assert model.fit(X, y) is model
    learned = set(vars(model)) - {"alpha", "monotone", "max_iter"}
    assert learned and all(name.endswith("_") for name in learned)
    assert clone(model).get_params() == model.get_params()


def test_check_estimator_passes():
    check_estimator(AdditiveLogit(monotone=False), on_skip=None)  # array-API checks skip without SCIPY_ARRAY_API


def test_check_estimator_passes_monotone_but_for_fitting_classes_that_fall_with_a_feature():
    check_estimator(AdditiveLogit(), on_skip=None, expected_failed_checks={
        "check_classifiers_train": "weights held >= 0 cannot fit a class that falls as a feature grows"})


def test_monotone_weights_stay_at_zero_for_a_component_that_lowers_approval():
    rng = np.random.default_rng(2)
    X = rng.random((400, 2))
    y = (X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(400) > 0).astype(int)
    assert AdditiveLogit(alpha=0.0).fit(X, y).coef_[1] == 0.0
    assert AdditiveLogit(alpha=0.0, monotone=False).fit(X, y).coef_[1] < -1.0


def test_contributions_add_up_to_the_decision_function():
    X = np.random.default_rng(3).random((20, 5))
    model = AdditiveLogit().fit(X, (X[:, 0] > 0.5).astype(int))
    assert np.allclose(model.contributions(X).sum(axis=1) + model.intercept_, model.decision_function(X))


def test_auc_against_a_loop():
    rng = np.random.default_rng(4)
    y, s = rng.integers(0, 2, 50), rng.integers(0, 5, 50).astype(float)
    pairs = [(a, b) for a in s[y == 1] for b in s[y == 0]]
    assert auc(y, s) == pytest.approx(np.mean([1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs]))


def _simulated_pairs(hidden, n_rounds=3, leads=150, reviewed=5, seed=5):
    """Each lead reviews 5 candidates; the one the hidden weights value most is approved, the rest rejected."""
    rng = np.random.default_rng(seed)
    hand = load_weights("innovation")
    hw = np.array([hand[c] for c in COMPONENTS]) / sum(hand.values())
    h = np.array([hidden[c] for c in COMPONENTS])
    rows = []
    for r in range(n_rounds):
        for lead in range(leads):
            X = rng.random((reviewed, 5))
            best = int(np.argmax(X @ h + rng.gumbel(0, 0.02, reviewed)))
            for j in range(reviewed):
                rows.append((X[j], int(j == best), X[j] @ hw, f"r{r}", f"l{lead}", f"p{j}"))
    X, y, hs, rnd, lead, partner = (np.array(c) for c in zip(*rows))
    n = len(y)
    return LabelledPairs(X.astype(float), y, np.ones(n), hs.astype(float), rnd.astype(object),
                         np.array(["innovation"] * n, dtype=object), lead.astype(object), partner.astype(object),
                         np.where(y == 1, "approve", "reject").astype(object), rounds=[f"r{i}" for i in range(n_rounds)])


def test_weights_fitted_on_decisions_recover_hidden_preferences_better_than_the_hand_weights():
    hidden = {"text": 0.05, "product_code": 0.1, "industry": 0.05, "region": 0.5, "capability": 0.3}
    pairs = _simulated_pairs(hidden)
    learned = fit_weights(pairs)["tracks"]["innovation"]
    share = np.array([learned[c] for c in COMPONENTS]) / sum(learned.values())
    hand = load_weights("innovation")
    hand_share = np.array([hand[c] for c in COMPONENTS]) / sum(hand.values())
    target = np.array([hidden[c] for c in COMPONENTS])
    assert np.abs(share - target).sum() < np.abs(hand_share - target).sum() / 2
    metrics = cross_validate(pairs, rounds=200)
    assert metrics["folds"] == {"by": "rounds", "count": 3}
    assert better_beyond_noise(metrics)
    assert metrics["difference"]["auc"]["low"] > 0


def test_hand_weights_are_not_beaten_when_staff_decide_by_them():
    hand = load_weights("innovation")
    metrics = cross_validate(_simulated_pairs(hand, seed=6), rounds=200)
    assert not better_beyond_noise(metrics)


# --- model files ------------------------------------------------------------------------------------


def _payload(diff_low=0.05):
    w = {c: 0.2 for c in COMPONENTS}
    ci = {"mean": diff_low + 0.01, "low": diff_low, "high": diff_low + 0.02}
    same = {"mean": 0.5, "low": 0.4, "high": 0.6}
    metrics = {"k": 1, "queries": 10, "folds": {"by": "rounds", "count": 2},
               "hand": {m: same for m in ("p@1", "ndcg@1", "auc")}, "model": {m: same for m in ("p@1", "ndcg@1", "auc")},
               "difference": {m: ci for m in ("p@1", "ndcg@1", "auc")}}
    return {"weights": {"default": w, "tracks": {"region_heavy": dict(w, region=0.9)}}, "metrics": metrics,
            "estimator": {"alpha": 0.01}, "data": {"rounds": ["r"], "fingerprint": "x", "counts": {}},
            "trained_at": "2026-12-08T00:00:00+00:00", "libraries": {}}


def test_saved_model_loads_back_versioned_and_never_overwritten(models):
    assert artifact.save(_payload()) == "v1"
    assert artifact.save(_payload()) == "v2"
    assert artifact.versions() == ["v1", "v2"]
    body = artifact.load("v2")
    assert body["version"] == "v2" and body["weights"]["default"]["text"] == 0.2
    assert artifact.track_weights(body, "region_heavy")["region"] == 0.9
    assert artifact.track_weights(body, "innovation") == body["weights"]["default"]
    assert oct((models / ".signing-key").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(NotFoundError) as exc:
        artifact.load("v9")
    assert exc.value.code == "model.unknown" and "v9" in exc.value.text("ko")


def test_a_tampered_model_file_is_refused(models):
    artifact.save(_payload())
    path = models / "scoring-v1.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    body["weights"]["default"]["region"] = 5.0
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(RefusedError) as exc:
        artifact.load("v1")
    assert exc.value.code == "model.tampered"
    assert "scoring-v1.json" in str(exc.value) and "scoring-v1.json" in exc.value.text("ko")


def test_a_model_signed_by_another_install_is_refused(models, tmp_path):
    artifact.save(_payload())
    (models / ".signing-key").write_text("00" * 32)
    with pytest.raises(RefusedError):
        artifact.load("v1")


def test_a_file_that_is_not_json_is_refused_without_unpickling(models):
    artifact.save(_payload())
    (models / "scoring-v1.json").write_bytes(b"\x80\x05K\x01.")  # a pickle
    with pytest.raises(RefusedError) as exc:
        artifact.load("v1")
    assert exc.value.code == "model.bad_file"


@pytest.mark.db
def test_a_model_not_better_beyond_noise_is_refused_and_hand_stays(db_url, models):
    from matcher.learning.train import use
    artifact.save(_payload(diff_low=-0.01))
    with db.transaction(db_url) as s:
        with pytest.raises(RefusedError) as exc:
            use(s, "v1", actor="test")
        assert exc.value.code == "model.not_better" and "-0.010" in str(exc.value)
    with db.transaction(db_url) as s:
        assert artifact.in_use(s) == "hand"


@pytest.mark.db
def test_use_a_model_then_hand_again(db_url, models):
    from matcher.learning.train import use
    artifact.save(_payload())
    with db.transaction(db_url) as s:
        use(s, "v1", actor="test")
    with db.transaction(db_url) as s:
        assert artifact.in_use(s) == "v1"
        use(s, "hand", actor="test")
    with db.transaction(db_url) as s:
        assert artifact.in_use(s) == "hand"
        assert [r.version for r in s.query(db.ModelChoiceRow).order_by(db.ModelChoiceRow.id)] == ["v1", "hand"]


# --- the demo's simulated history, end to end ----------------------------------------------------------


@pytest.fixture(scope="module")
def history_db(tmp_path_factory):
    """The demo round plus three simulated past rounds (module-wide: about 30 s)."""
    from matcher import demo
    from matcher.demo_history import simulate_history
    folder = tmp_path_factory.mktemp("history")
    url = f"sqlite:///{folder / 'history.sqlite'}"
    demo.load_demo(demo.DEMO_DIR, url)
    with db.transaction(url) as s:
        simulate_history(s, rounds=3)
    db.dispose_engines()
    return folder / "history.sqlite"


@pytest.fixture
def history_url(history_db, tmp_path, monkeypatch):
    path = tmp_path / "h.sqlite"
    shutil.copyfile(history_db, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    db.dispose_engines()


@pytest.mark.slow
def test_trained_model_recovers_the_simulated_staff_better_than_the_hand_weights(history_url, models):
    from matcher.demo_history import HIDDEN_WEIGHTS
    from matcher.learning.train import evaluate_model, learned_and_hand, train
    with db.transaction(history_url) as s:
        version, body = train(s)
    m = body["metrics"]
    assert m["folds"] == {"by": "rounds", "count": 3}  # each simulated round held out in turn
    assert m["difference"]["ndcg@1"]["low"] > 0.03 and m["difference"]["auc"]["low"] > 0
    default = next(r for r in learned_and_hand(body) if r["track"] == "default")["components"]
    target = {c: HIDDEN_WEIGHTS[c] / sum(HIDDEN_WEIGHTS.values()) for c in COMPONENTS}
    assert (sum(abs(c["learned"] - target[c["name"]]) for c in default)
            < sum(abs(c["hand"] - target[c["name"]]) for c in default))
    with db.transaction(history_url) as s:  # the same figures when evaluated again
        again = evaluate_model(s, version)
    assert again["same_data"] and again["difference"]["ndcg@1"] == m["difference"]["ndcg@1"]


@pytest.mark.slow
def test_cli_trains_lists_shows_uses_and_a_run_records_its_model(history_url, models):
    from matcher.cli import main
    runner = CliRunner()
    out = runner.invoke(main, ["train"])
    assert out.exit_code == 0, out.output
    assert "v1" in out.output and "ndcg@1" in out.output
    listed = runner.invoke(main, ["model", "list"])
    assert "* hand" in listed.output and "  v1" in listed.output
    assert "region" in runner.invoke(main, ["model", "show", "v1"]).output
    evaluated = runner.invoke(main, ["evaluate", "--model", "v1", "--use"])
    assert evaluated.exit_code == 0, evaluated.output
    assert "* v1" in runner.invoke(main, ["model", "list"]).output
    ran = runner.invoke(main, ["match", "2026년 2차", "--track", "innovation"])
    assert ran.exit_code == 0, ran.output
    with db.transaction(history_url) as s:
        run = s.query(db.MatchRunRow).order_by(db.MatchRunRow.id.desc()).first()
        assert run.model == "v1" and run.params["model"] == "v1"
        weight = run.proposals[0].explanation["components"][0]["weight"]
        learned = artifact.track_weights(artifact.load("v1"), "innovation")
        assert weight == pytest.approx(learned[run.proposals[0].explanation["components"][0]["name"]])
    path = models / "scoring-v1.json"
    path.write_text(path.read_text(encoding="utf-8").replace('"region"', '"region" ', 1), encoding="utf-8")
    body = json.loads(path.read_text(encoding="utf-8"))
    body["intercepts"]["default"] = 9.0
    path.write_text(json.dumps(body), encoding="utf-8")
    refused = runner.invoke(main, ["match", "2026년 2차", "--track", "innovation"])
    assert refused.exit_code == 2 and "scoring-v1.json" in refused.output
    assert runner.invoke(main, ["model", "use", "hand"]).exit_code == 0
    again = runner.invoke(main, ["match", "2026년 2차", "--track", "innovation"])
    assert again.exit_code == 0, again.output
    with db.transaction(history_url) as s:
        assert s.query(db.MatchRunRow).order_by(db.MatchRunRow.id.desc()).first().model == "hand"


@pytest.mark.slow
def test_selected_pairs_and_mutual_interest_are_positives(history_url):
    from matcher.learning.history import decision_history
    from sqlalchemy import select
    name = "모의 과거 회차 1"
    with db.transaction(history_url) as s:
        round_row = s.scalars(select(db.RoundRow).where(db.RoundRow.name == name)).one()
        approved = s.scalars(select(db.DecisionRow).where(db.DecisionRow.round_id == round_row.id,
                                                          db.DecisionRow.kind == "approve")).first()
        rejected = s.scalars(select(db.DecisionRow).where(db.DecisionRow.round_id == round_row.id,
                                                          db.DecisionRow.kind == "reject")).first()
        s.add(db.StageEventRow(round_id=round_row.id, lead_id=approved.lead_id, partner_id=approved.partner_id,
                               track=approved.track, stage="selected"))
        s.add(db.InterestRow(round_id=round_row.id, lead_id=rejected.lead_id, partner_id=rejected.partner_id,
                             track=rejected.track, sender="lead", status="accepted"))
        s.delete(rejected)
        ids = {r.id: r.brn for r in s.query(db.FirmRow)}
        wanted = {(ids[approved.lead_id], ids[approved.partner_id]): "selected",
                  (ids[rejected.lead_id], ids[rejected.partner_id]): "mutual"}
    with db.transaction(history_url) as s:
        pairs = decision_history(s, [name])
    found = {(lead, partner): (source, y) for lead, partner, source, y in zip(pairs.lead, pairs.partner, pairs.source,
                                                                             pairs.y)}
    assert {pair: found[pair] for pair in wanted} == {pair: (source, 1) for pair, source in wanted.items()}
    assert pairs.counts()["selected"] == 1 and pairs.counts()["mutual"] == 1
