"""The SME side: find my firm (or describe one), the directory of partners with explained scores,
why-not. Views parse the request, call :mod:`matcher.directory`, render.

Nothing here needs a login (sending interest does: :mod:`web.program`). An unregistered firm is scored
transiently and never stored.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from matcher import directory
from matcher.rounds import stages
from matcher.codes import normalize_region
from matcher.errors import MatcherError, NotFoundError
from matcher.firms import CERTIFICATE_KINDS, SIZE_CLASSES, Firm

from matcher.tracks import TRACKS
from matcher.validate import parse_g2b, parse_ksic

from .i18n import say
from .store import db_session

bp = Blueprint("search", __name__)


@bp.route("/")
def index():
    """Find a firm by 사업자등록번호 (straight to its page) or by name, with a count and pages."""
    query = request.args.get("q", "").strip()
    found = directory.find_firms(db_session(), query, page=_int(request.args.get("page"), 1, 1, 10 ** 6))
    if found.exact is not None:
        return redirect(url_for("search.firm", brn=found.exact.brn))
    return render_template("search.html", query=query, found=found)


@bp.route("/tracks")
def tracks():
    """The track rules (of the latest round, with its overrides) in the current language."""
    round_row = _round_or_none(db_session(), request.args.get("round", ""))
    rules, _on = directory.rules_and_day(round_row)
    return render_template("tracks.html", rules=rules, round=round_row)


@bp.route("/firms/<brn>")
def firm(brn):
    """A firm and, once a track is chosen, its recommendations from the directory of the track.

    The round control shows the round the results come from (the firm's own latest round unless one
    is chosen), and the links carry it.
    """
    session = db_session()
    row = firm_or_404(session, brn, stored=True)
    form = search_form(request.args)
    page_round(session, row, form)
    if not form["track"] and "track" not in request.args:
        form.update(directory.own_application(session, row, _round_or_none(session, form["round"])))
    results = recommend_or_abort(session, row.brn, form) if form["track"] else None
    return render_template("firm.html", firm=row, form=form, results=results,
                           firm_products=stages.products(session, row.brn), **_choices(session))


def recommend_or_abort(session, brn, form):
    """The directory's answer for the checked ``form`` (404 for an unknown firm, 400 for a refused query)."""
    try:
        return directory.recommend(session, brn, track=form["track"], k=form["k"], as_partner=form["as_partner"],
                                   filters=filters_of(form), round_name=form["round"] or None,
                                   applicants_only=form["applicants_only"], product=form["product"])
    except NotFoundError as exc:
        abort(404, say(exc))
    except MatcherError as exc:
        abort(400, say(exc))


@bp.route("/firms/<brn>/partners/<other>")
def partner(brn, other):
    """A recommended firm in detail: eligibility and the score explanation, as the ranked list scores it."""
    session = db_session()
    me, them = firm_or_404(session, brn), firm_or_404(session, other)
    form = search_form(request.args)
    page_round(session, me, form)
    why = _why_not(session, me.brn, them.brn, form)
    explanation = None
    if why["eligible"]:
        explanation = directory.pair_detail(session, me.brn, them.brn, form["track"] or None, form["as_partner"],
                                            form["round"] or None, form["product"])
    return render_template("partner.html", firm=me, partner=them, form=form, explanation=explanation,
                           reasons=why["reasons"], why=why, **_choices(session))


@bp.route("/firms/<brn>/why-not")
def why_not_view(brn):
    """Every eligibility reason against a pair; an ambiguous name lists the firms to pick from."""
    session = db_session()
    row = firm_or_404(session, brn)
    form = search_form(request.args)
    page_round(session, row, form)
    why = _why_not(session, row.brn, request.args.get("other", "").strip(), form)
    status = 404 if why["query"] and why["other"] is None and not why["candidates"] else 200
    return render_template("why_not.html", firm=row, other=why["other"], reasons=why["reasons"], why=why,
                           form=form, **_choices(session)), status


def _why_not(session, brn, other, form):
    try:
        return directory.why_not(session, brn, other, form["track"] or None, form["as_partner"],
                                 form["round"] or None, filters_of(form), form["applicants_only"], form["product"])
    except MatcherError as exc:
        abort(400, say(exc))


@bp.route("/describe", methods=["GET", "POST"])
def describe():
    """Recommendations for a firm described on a form (nothing stored).

    A form with mistakes comes back (status 400) with every field's error beside it and the values kept.
    """
    session = db_session()
    form = search_form(request.form if request.method == "POST" else request.args)
    results, firm_obj, errors = None, None, {}
    if request.method == "POST":
        firm_obj, errors = described_firm(request.form)
        if firm_obj is not None and form["track"]:
            results = directory.recommend_described(session, firm_obj, form["track"], form["k"], filters_of(form),
                                                    form["round"] or None, form["product"])
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
    ksic, g2b = _codes(values, "ksic", parse_ksic, errors), _codes(values, "g2b", parse_g2b, errors)
    product = values.get("product", "").strip()
    if product and not (product.isdigit() and len(product) in (10, 16)):
        errors["product"] = {"ko": f"신청 물품 {product!r}는 숫자 10자리 또는 16자리여야 합니다.",
                             "en": f"product {product!r} must have 10 or 16 digits."}
    if errors:
        return None, errors
    return Firm(brn="0000000000", name=values.get("name", "").strip()[:200] or "(unnamed)", size_class=size,
                region=region, founded=founded_date, ksic_codes=ksic, g2b_codes=g2b,
                description=values.get("description", "").strip()[:5000]), {}


_CODE_FIELDS = {"ksic": ("업종코드(KSIC)", "KSIC code", "5자리 숫자", "5 digits"),
                "g2b": ("물품분류번호", "G2B code", "8자리 숫자", "8 digits")}


def _codes(values, name, parse, errors):
    """The codes of a describe field (``;`` or ``,`` separated), or [] with the error set beside it."""
    text = values.get(name, "").replace(",", ";")
    try:
        return parse(text)
    except (ValueError, LookupError) as exc:
        ko, en, digits_ko, digits_en = _CODE_FIELDS[name]
        errors[name] = {"ko": f"{ko} {text.strip()!r}: {digits_ko}의 올바른 코드여야 합니다 ({exc}).",
                        "en": f"{en} {text.strip()!r} must be valid codes of {digits_en} ({exc})."}
        return []


def filters_of(form):
    """The recommendation filters of a search form (region, size class, certificate), or None."""
    filters = {"region": form.get("region"), "size_class": form.get("size"), "certificate": form.get("certificate")}
    return {k: v for k, v in filters.items() if v} or None


def search_form(values):
    """The search parameters of a page (unknown values fall back to defaults)."""
    track = values.get("track", "")
    return dict(
        track=track if track in TRACKS else "",
        round=values.get("round", ""),
        region=values.get("region", ""),
        size=values.get("size_filter", "") if values.get("size_filter", "") in SIZE_CLASSES else "",
        certificate=values.get("certificate", "") if values.get("certificate", "") in CERTIFICATE_KINDS else "",
        as_partner=values.get("as_partner", "") in ("1", "on", "true"),
        applicants_only=values.get("applicants_only", "") in ("1", "on", "true"),
        product=_product(values.get("product", "")),
        k=_int(values.get("k"), 10, 1, 50),
    )


def _product(text):
    text = "".join(str(text or "").split())
    return text if text.isdigit() and len(text) in (10, 16) else ""


def _int(text, default, low, high):
    try:
        return min(max(int(text), low), high)
    except (TypeError, ValueError):
        return default


def _choices(session):
    return dict(tracks=TRACKS, rounds=directory.list_rounds(session), sizes=SIZE_CLASSES,
                certificate_kinds=list(CERTIFICATE_KINDS), regions=directory.region_names())


def firm_or_404(session, brn, stored=False):
    """The stored firm for a 사업자등록번호 in the path (404 naming it when malformed or unknown).

    ``stored``: as :func:`matcher.directory.stored_firm` reads it (id and engine firm, no ORM row).
    """
    try:
        return (directory.stored_firm if stored else directory.get_firm)(session, brn)
    except MatcherError as exc:
        abort(404, say(exc))


def page_round(session, firm_row, form):
    """The round of a firm's page (:func:`matcher.directory.resolve_round`); ``form["round"]`` gets its name."""
    try:
        round_row = directory.resolve_round(session, firm_row, form["round"])
    except NotFoundError as exc:
        abort(404, say(exc))
    form["round"] = round_row.name if round_row is not None else ""
    return round_row


def _round_or_none(session, name):
    try:
        return directory.round_named(session, name)
    except NotFoundError as exc:
        abort(404, say(exc))
