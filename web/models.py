"""Staff: the scoring model — which one scores the runs, learned weights against the hand weights, switching."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from matcher.errors import MatcherError
from matcher.learning import artifact
from matcher.learning.train import learned_and_hand, metric_rows, use
from matcher.messages import N_, msg
from matcher.scoring import COMPONENT_NAMES

from . import charts
from .auth import actor, staff_required
from .i18n import current_lang, say
from .store import db_session

bp = Blueprint("models", __name__, url_prefix="/staff")


@bp.route("/model")
@staff_required
def page():
    """The model in use, every saved version, and one version's weights as a chart (``?version=``)."""
    session = db_session()
    current = artifact.in_use(session)
    versions = artifact.versions()
    shown = request.args.get("version") or (current if current != artifact.HAND else (versions[-1] if versions else None))
    body, error = None, None
    if shown:
        try:
            body = artifact.load(shown)
        except MatcherError as exc:
            error = exc.text(current_lang())
    titles = dict(title=msg("model.title"), in_use=msg("model.in_use"), hand=msg("model.hand"),
                  none=msg("model.none", command="matcher train"), metrics=msg("model.metrics"),
                  hand_weights=msg("model.hand_weights"), learned=msg("model.learned"), version=msg("model.version"),
                  use=msg("model.use"))
    return render_template("staff/model.html", titles=titles, current=current, versions=versions, shown=shown, body=body,
                           error=error, charts=_charts(body) if body else [],
                           metrics=metric_rows(body["metrics"]) if body and "hand" in body["metrics"] else [])


def _charts(body):
    out = []
    for row in learned_and_hand(body):
        track = say(msg("model.default_track")) if row["track"] == "default" else say(msg(N_("track." + row["track"])))
        lang = 0 if current_lang() == "ko" else 1
        comps = [dict(c, label=COMPONENT_NAMES[c["name"]][lang]) for c in row["components"]]
        title = say(msg("model.chart_title", track=track))
        out.append((row["track"], title, charts.weights_svg(
            comps, label=title, x_title=say(msg("model.axis_share")), y_title=say(msg("model.axis_component")),
            learned_label=say(msg("model.learned")), hand_label=say(msg("model.hand_weights")))))
    return out


@bp.route("/model/use", methods=["POST"])
@staff_required
def choose():
    """Switch the runs to a version (refused unless better beyond noise) or back to the hand weights."""
    version = request.form.get("version", "").strip() or artifact.HAND
    session = db_session()
    try:
        use(session, version, actor=actor())
    except MatcherError as exc:
        session.rollback()
        flash(exc.text(current_lang()), "error")
    else:
        session.commit()
        flash(say(msg("model.chosen", version=version if version != artifact.HAND else msg("model.hand"))), "ok")
    return redirect(url_for("models.page", version=None if version == artifact.HAND else version))
