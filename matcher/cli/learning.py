"""Commands for learned scoring, over :mod:`matcher.learning`: ``train``, ``model list|show|use``, and
``evaluate --model`` (in :mod:`.recommend`, which hands it to :func:`evaluate_model_command`)."""

import json

import click

from .. import db
from ..messages import msg
from .options import resolve_track


def _session(database_url):
    db.init_db(database_url)
    return db.transaction(database_url)


def _say(m):
    """A message on the command line: Korean, then English (as errors are shown)."""
    click.echo(m.text("ko"))
    click.echo(m.text("en"))


@click.command("train")
@click.option("--round", "rounds", multiple=True, help="A round name or id to learn from (repeat; default: every "
                                                        "round with decisions).")
@click.option("--track", default=None, help="Only this track (key, Korean or English name).")
@click.option("--alpha", type=float, default=None, help="L2 penalty on the weights (default 0.01).")
@click.option("--database-url", envvar="DATABASE_URL")
def train_command(rounds, track, alpha, database_url):
    """Fit scoring weights on staff decisions and save them as the next model version (not used until
    `matcher model use VERSION`)."""
    from ..learning.train import ALPHA, train
    track = resolve_track(track, "--track") if track else None
    with _session(database_url) as session:
        version, body = train(session, list(rounds) or None, track, ALPHA if alpha is None else alpha)
    c = body["data"]["counts"]
    command = "matcher evaluate --model " + version + " --use"
    _say(msg("model.saved", version=version, pairs=c["pairs"], positive=c["positive"], negative=c["negative"],
             passed_over=c["passed_over"], rounds=len(body["data"]["rounds"]), command=command))
    _print_metrics(body["metrics"])
    _print_weights(body)


def _print_metrics(metrics):
    from ..learning.train import metric_rows
    if "hand" not in metrics:
        _say(msg("model.no_queries"))
        return
    click.echo(f"{metrics['folds']['by']} × {metrics['folds']['count']}, {metrics['queries']} queries (95 % CI)")
    click.echo(f"{'metric':<8} {'hand':>22} {'model':>22} {'model − hand':>24}")
    for name, hand, model, diff in metric_rows(metrics):
        click.echo(f"{name:<8} {_ci(hand):>22} {_ci(model):>22} {_ci(diff, signed=True):>24}")


def _ci(v, signed=False):
    f = "+.3f" if signed else ".3f"
    return f"{v['mean']:{f}} ({v['low']:{f}}, {v['high']:{f}})"


def _print_weights(body):
    from ..learning.train import learned_and_hand
    from ..scoring import COMPONENTS
    click.echo(f"{'track':<13}" + "".join(f"{c:>22}" for c in COMPONENTS))
    for row in learned_and_hand(body):
        cells = "".join(f"{c['learned']:>11.3f} ({c['hand']:.2f})".rjust(22) for c in row["components"])
        click.echo(f"{row['track']:<13}{cells}")
    click.echo("learned share of the score (hand share)")


@click.group("model")
def model_group():
    """Scoring models learned from staff decisions (files in the models folder) and which one scores runs."""


@model_group.command("list")
@click.option("--database-url", envvar="DATABASE_URL")
def model_list(database_url):
    """Every saved version, with its data and metrics; the one in use is marked *."""
    from ..learning import artifact
    from ..errors import MatcherError
    with _session(database_url) as session:
        current = artifact.in_use(session)
    click.echo(f"{'*' if current == artifact.HAND else ' '} hand  data/weights.toml")
    for version in artifact.versions():
        mark = "*" if version == current else " "
        try:
            body = artifact.load(version)
        except MatcherError as exc:
            click.echo(f"{mark} {version:<5} {exc.text('ko')} / {exc}")
            continue
        c, m = body["data"]["counts"], body["metrics"]
        k = m.get("k", 1)
        diff = (m.get("difference") or {}).get(f"ndcg@{k}")
        gain = f"NDCG@{k} {diff['mean']:+.3f} ({diff['low']:+.3f}, {diff['high']:+.3f})" if diff else "—"
        click.echo(f"{mark} {version:<5} {body['trained_at'][:16]}  {len(body['data']['rounds'])} rounds, "
                   f"{c['pairs']} pairs  {gain}")


@model_group.command("show")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True, help="The whole file as JSON.")
def model_show(version, as_json):
    """VERSION's weights against the hand weights, its data and its cross-validated metrics."""
    from ..learning import artifact
    body = artifact.load(version)
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True))
        return
    d = body["data"]
    click.echo(f"{version}: trained {body['trained_at']} on {', '.join(d['rounds'])}"
               f"{' (track ' + d['track'] + ')' if d.get('track') else ''}; data {d['fingerprint'][:12]}")
    click.echo("counts: " + ", ".join(f"{k} {v}" for k, v in d["counts"].items()))
    click.echo("libraries: " + ", ".join(f"{k} {v}" for k, v in body["libraries"].items()))
    _print_weights(body)
    _print_metrics(body["metrics"])


@model_group.command("use")
@click.argument("version")
@click.option("--database-url", envvar="DATABASE_URL")
def model_use(version, database_url):
    """Score the next runs by VERSION (refused unless it beats the hand weights beyond noise) or by `hand`."""
    from ..learning.train import use
    with _session(database_url) as session:
        chosen = use(session, version, actor="cli")
    _say(msg("model.chosen", version=chosen if chosen != "hand" else msg("model.hand")))


def evaluate_model_command(version, rounds, use_it, database_url):
    """``matcher evaluate --model VERSION``: hand against the model, and ``--use`` to switch when it is better."""
    from ..learning.train import evaluate_model, refuse_unless_better, use
    with _session(database_url) as session:
        result = evaluate_model(session, version, list(rounds) or None)
        click.echo(f"{version}: {result['how']} on {', '.join(result['rounds'])}"
                   + ("  (the decisions changed since it was trained)" if result["same_data"] is False else ""))
        _print_metrics(result)
        if use_it:
            refuse_unless_better(version, result)
            use(session, version, actor="cli")
            _say(msg("model.chosen", version=version))


COMMANDS = [train_command, model_group]
