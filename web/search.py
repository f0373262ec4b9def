"""The SME side: find my firm (or describe one), ranked partners with explained scores, why-not, interest.

Nothing here needs a login. An unregistered firm is scored transiently and never stored.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from matcher import db, eligibility
from matcher.codes import normalize_region
from matcher.errors import NotFoundError
from matcher.firms import CERTIFICATE_KINDS, SIZE_CLASSES, Firm, parse_brn
from matcher.tracks import TRACKS

from . import recommendations as recs
from .i18n import reason_text, t
from .store import db_session

bp = Blueprint("search", __name__)

SEARCH_LIMIT = 50


@bp.route("/")
def index():
    """Find a firm by 사업자등록번호 (straight to its page) or by name."""
    query = request.args.get("q", "").strip()
    exact = _exact_firm(db_session(), query)
    if exact is not None:
        return redirect(url_for("search.firm", brn=exact.brn))
    firms = find_firms(db_session(), query) if query else []
    return render_template("search.html", query=query, firms=firms)


def _exact_firm(session, query):
    try:
        return db.get_firm(session, parse_brn(query))
    except (ValueError, NotFoundError):
        return None


def find_firms(session, query):
    """Firms whose name contains ``query`` or whose 사업자등록번호 starts with it (at most 50)."""
    digits = query.replace("-", "")
    stmt = select(db.FirmRow).where(or_(db.FirmRow.name.contains(query, autoescape=True), db.FirmRow.brn.startswith(digits)
                                        if digits.isdigit() else False))
    return list(session.scalars(stmt.order_by(db.FirmRow.name).limit(SEARCH_LIMIT)))


@bp.route("/tracks")
def tracks():
    """The track rules (of the latest round, with its overrides) in the current language."""
    round_row = _round_or_none(db_session(), request.args.get("round", ""))
    rules, _on = recs.round_rules_and_day(round_row)
    return render_template("tracks.html", rules=rules, round=round_row)


@bp.route("/firms/<brn>")
def firm(brn):
    """A firm and, once a track is chosen, its recommendations.

    The round control shows the round the results come from (the firm's own latest round unless one
    is chosen), and the links carry it.
    """
    session = db_session()
    row = _firm_or_404(session, brn)
    form = _search_form(request.args)
    round_row = _page_round(session, row, form)
    if not form["track"] and "track" not in request.args:
        form.update(recs.own_application(session, row, round_row))
    results = recs.recommend(session, row.brn, form) if form["track"] else None
    return render_template("firm.html", firm=row, form=form, results=results, **_choices(session))


@bp.route("/firms/<brn>/partners/<other>")
def partner(brn, other):
    """A recommended firm in detail: eligibility and the score explanation, as the ranked list scores it."""
    session = db_session()
    me, them = _firm_or_404(session, brn), _firm_or_404(session, other)
    form = _search_form(request.args)
    round_row = _page_round(session, me, form)
    reasons = why_not(session, me, them, form, round_row)
    explanation = None if reasons else recs.pair_row(session, me.brn, them.brn, form)
    return render_template("partner.html", firm=me, partner=them, form=form, explanation=explanation,
                           reasons=reasons, **_choices(session))


@bp.route("/firms/<brn>/why-not")
def why_not_view(brn):
    """Every eligibility reason against a pair."""
    session = db_session()
    row = _firm_or_404(session, brn)
    form = _search_form(request.args)
    round_row = _page_round(session, row, form)
    other = _other_firm(session, request.args.get("other", "").strip())
    reasons = why_not(session, row, other, form, round_row) if other is not None else None
    return render_template("why_not.html", firm=row, other=other, reasons=reasons, form=form,
                           **_choices(session))


@bp.route("/firms/<brn>/interest", methods=["POST"])
def interest(brn):
    """Record an SME's interest in a partner."""
    session = db_session()
    lead = _firm_or_404(session, brn)
    partner_row = _firm_or_404(session, request.form.get("partner", ""))
    track = request.form.get("track", "")
    if track not in TRACKS:
        abort(400, f"track {track!r} is not one of {', '.join(TRACKS)}")
    round_row = _round_or_none(session, request.form.get("round", ""))
    note = request.form.get("note", "")
    problems = recs.interest_problems(session, round_row, lead, partner_row, track, note)
    for problem in problems:
        flash(f"{t('interest_refused')}: {reason_text(problem)}", "error")
    if not problems:
        recs.record_interest(session, round_row, lead, partner_row, track, note)
        session.commit()
        flash(t("interest_sent"), "ok")
    return redirect(url_for("search.firm", brn=lead.brn, track=track, round=round_row.name if round_row else ""))


@bp.route("/describe", methods=["GET", "POST"])
def describe():
    """Recommendations for a firm described on a form (nothing stored).

    A form with mistakes comes back (status 400) with every field's error beside it and the values kept.
    """
    session = db_session()
    form = _search_form(request.form if request.method == "POST" else request.args)
    results, firm_obj, errors = None, None, {}
    if request.method == "POST":
        firm_obj, errors = described_firm(request.form)
        if firm_obj is not None and form["track"]:
            results = recs.recommend_described(session, firm_obj, form)
    return render_template("describe.html", form=form, results=results, described=firm_obj, errors=errors,
                           values=request.form, **_choices(session)), 400 if errors else 200


def described_firm(values):
    """A transient :class:`~matcher.firms.Firm` from the describe form (never stored), and the errors.

    Returns
    -------
    (Firm or None, dict)
        The firm (None when a field is wrong) and ``{field: {"ko", "en"}}`` for every wrong field.
    """
    errors = {}
    size = values.get("size", "소기업")
    if size not in SIZE_CLASSES:
        errors["size"] = {"ko": f"기업 규모 {size!r}는 {', '.join(SIZE_CLASSES)} 중 하나여야 합니다.",
                          "en": f"size class {size!r} is not one of {', '.join(SIZE_CLASSES)}."}
    founded = values.get("founded", "").strip()
    founded_date = None
    try:
        founded_date = date.fromisoformat(founded) if founded else None
    except ValueError:
        errors["founded"] = {"ko": f"설립일 {founded!r}는 날짜(YYYY-MM-DD)가 아닙니다.",
                             "en": f"founded {founded!r} is not a date (YYYY-MM-DD)."}
    region = values.get("firm_region", "").strip()
    if region:
        try:
            region = normalize_region(region)
        except ValueError:
            errors["firm_region"] = {"ko": f"지역 {region!r}는 17개 시도 중 하나가 아닙니다.",
                                     "en": f"region {region!r} is not one of the 17 시도."}
    product = values.get("product", "").strip()
    if product and not (product.isdigit() and len(product) in (10, 16)):
        errors["product"] = {"ko": f"신청 물품 {product!r}는 숫자 10자리 또는 16자리여야 합니다.",
                             "en": f"product {product!r} must have 10 or 16 digits."}
    if errors:
        return None, errors
    return Firm(
        brn="0000000000", name=values.get("name", "").strip()[:200] or "(unnamed)", size_class=size,
        region=region, founded=founded_date,
        ksic_codes=_codes(values.get("ksic", "")), g2b_codes=_codes(values.get("g2b", "")),
        description=values.get("description", "").strip()[:5000],
    ), {}


def why_not(session, lead_row, partner_row, form, round_row):
    """Every eligibility reason against the pair in the chosen track ([] when eligible).

    Judged on ``round_row``'s reference date with its rule overrides, for the product the lead applied
    for in that round (when it did).
    """
    rules, on = recs.round_rules_and_day(round_row)
    if form["as_partner"]:
        lead_row, partner_row = partner_row, lead_row
    track = form["track"] or "materials"
    product = form.get("product") or _applied_product(session, round_row, lead_row, track)
    return eligibility.why_not(db.firm_from_row(lead_row), db.firm_from_row(partner_row), track, rules, on,
                               product)


def _applied_product(session, round_row, lead_row, track):
    if round_row is None:
        return ""
    stmt = select(db.ApplicationRow.product_code).where(
        db.ApplicationRow.round_id == round_row.id, db.ApplicationRow.firm_id == lead_row.id,
        db.ApplicationRow.role == "lead", db.ApplicationRow.track == track)
    return session.scalars(stmt).first() or ""


def _codes(text):
    return [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]


def _search_form(values):
    track = values.get("track", "")
    return dict(
        track=track if track in TRACKS else "",
        round=values.get("round", ""),
        region=values.get("region", ""),
        size=values.get("size_filter", "") if values.get("size_filter", "") in SIZE_CLASSES else "",
        certificate=values.get("certificate", "") if values.get("certificate", "") in CERTIFICATE_KINDS else "",
        as_partner=values.get("as_partner", "") in ("1", "on", "true"),
        product=values.get("product", "").strip(),
        k=_int(values.get("k"), 10, 1, 50),
    )


def _int(text, default, low, high):
    try:
        return min(max(int(text), low), high)
    except (TypeError, ValueError):
        return default


def _choices(session):
    rounds = list(session.scalars(select(db.RoundRow).order_by(db.RoundRow.id.desc())))
    return dict(tracks=TRACKS, rounds=rounds, sizes=SIZE_CLASSES, certificate_kinds=list(CERTIFICATE_KINDS),
                regions=recs.region_names())


def _other_firm(session, text):
    """The firm a why-not question names: by 사업자등록번호, or by a name that matches one firm."""
    if not text:
        return None
    found = _exact_firm(session, text)
    if found is None:
        matches = find_firms(session, text)
        exact = [f for f in matches if f.name == text]
        if len(exact) == 1 or len(matches) == 1:
            return (exact or matches)[0]
        abort(404, f"no single firm matches {text!r} ({len(matches)} found); give its 사업자등록번호")
    return found


def _firm_or_404(session, brn):
    try:
        return db.get_firm(session, parse_brn(brn))
    except ValueError as exc:
        abort(404, f"사업자등록번호 {brn!r} {exc}")
    except NotFoundError as exc:
        abort(404, str(exc))


def _page_round(session, firm_row, form):
    """The round of a firm's page (see :func:`recs.resolve_round`); ``form["round"]`` is set to its name."""
    try:
        round_row = recs.resolve_round(session, firm_row, form["round"])
    except NotFoundError as exc:
        abort(404, str(exc))
    form["round"] = round_row.name if round_row is not None else ""
    return round_row


def _round_or_none(session, name):
    if not name:
        return db.latest_round(session)
    try:
        return db.get_round(session, name)
    except NotFoundError as exc:
        abort(404, str(exc))
