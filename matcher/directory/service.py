"""The SME side's use cases: each one function taking a session and plain values.

Find one's own firm, which round a firm's page uses, the directory of a track (every firm that
could partner — or lead — by the track's rules and certificates on the round's reference date,
round applicants marked), recommendations with explanations, every empty result explained with
counts by reason, why-not, and expressing interest with the same checks the round applies.
The web views and ``matcher recommend`` call these and nothing else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import numpy as np
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from .. import codes, db, eligibility
from ..errors import MatcherError, NotFoundError, as_msg
from ..firms import Application, Certificate, Firm, Licence, format_brn, parse_brn
from ..messages import N_, msg
from ..recommend import capacity_note, normalize_filters
from ..scoring import explain, rule_weights
from ..tracks import TRACKS, lead_reasons, load_rules, partner_reasons, round_rules
from . import explain_empty
from .index import (LEAD_CHECKS, PARTNER_CHECKS, asker_from_firm, asker_from_index, lead_failures, lead_scores,
                    partner_failures, partner_scores, top_k, valid_certs)
from .lookup import NameKeys, brn_digits, rank_names
from .store import current_index

NOTE_MAX = 500
PER_PAGE = 20


def _reason(r):
    """A :class:`~matcher.messages.Msg` as the pages and the API read it: its code and both texts."""
    return {"code": r.code.removeprefix("eligibility."), "ko": r.ko, "en": r.en}


def _track(rule):
    return msg(N_("track." + rule.key))


# --- firms and rounds ------------------------------------------------------------------------------


# The statements a page runs, built once: building one (and its cache key) cost as much as running it.
_FIRM_BY_BRN = (select(db.FirmRow).where(db.FirmRow.brn == bindparam("brn"))
                .options(joinedload(db.FirmRow.certificates)))
_R = db.RoundRow.__table__
_ROUNDS = select(_R.c.id, _R.c.name, _R.c.reference_date, _R.c.open_tracks, _R.c.rule_overrides,
                 _R.c.created_at).order_by(_R.c.id.desc())


@dataclass(frozen=True, eq=False)
class Round:
    """A round as the SME pages read it (the columns of :class:`matcher.db.RoundRow`, no ORM object)."""

    id: int
    name: str
    reference_date: date
    open_tracks: list
    rule_overrides: dict
    created_at: object = None
_ROUNDS_APPLIED = (select(db.ApplicationRow.round_id).where(db.ApplicationRow.firm_id == bindparam("firm_id"))
                   .distinct())


def get_firm(session, brn):
    """The stored firm with 사업자등록번호 ``brn`` (any separators, full-width digits).

    Raises
    ------
    MatcherError
        A malformed number (its shape or check digit), naming it.
    NotFoundError
        No such firm.
    """
    digits = brn_digits(brn) or str(brn).strip()
    try:
        digits = parse_brn(digits)
    except ValueError as exc:
        raise MatcherError(msg("brn.named", brn=str(brn), why=as_msg(exc))) from None
    seen = session.info.setdefault("directory_firms", {})  # one request asks for the same firm several times
    row = seen.get(digits)
    if row is None or row not in session:
        # the firm and its certificates in one statement
        row = session.scalars(_FIRM_BY_BRN, {"brn": digits}).unique().first()
        if row is None:
            raise NotFoundError(msg("firm.no_such_brn", brn=str(brn)))
        seen[digits] = row
    return row


@dataclass
class StoredFirm:
    """A stored firm as the firm page and a query read it: its id and the engine :class:`Firm`.

    Attributes other than ``id`` are the Firm's (``name``, ``certificates`` …), so templates read it as
    they read a firm row.
    """

    id: int
    firm: Firm

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.firm, name)


def stored_firm(session, brn):
    """:func:`get_firm` as a :class:`StoredFirm`: found by the index and read from the firms it keeps
    (:func:`_shown_firms`, current with the index's data version), else from the database.

    Raises the same errors as :func:`get_firm`.
    """
    digits = brn_digits(brn) or str(brn).strip()
    try:
        digits = parse_brn(digits)
    except ValueError as exc:
        raise MatcherError(msg("brn.named", brn=str(brn), why=as_msg(exc))) from None
    seen = db.remembered(session).setdefault("stored_firms", {})
    found = seen.get(digits)
    if found is None:
        index = current_index(session)
        pos = _brn_position(index, digits)
        firm_id = int(index.firm_id[pos]) if pos >= 0 else None
        firm = _shown_firms(session, index, [firm_id]).get(firm_id) if pos >= 0 else None
        if firm is None:  # not in the index yet (another process's import, the index refreshing)
            row = get_firm(session, digits)
            found = StoredFirm(row.id, db.firm_from_row(row))
        else:
            found = StoredFirm(firm_id, firm)
        seen[digits] = found
    return found


def _brn_position(index, digits):
    """Position of the firm with 사업자등록번호 ``digits`` in the index arrays, or -1."""
    order = index.derived("brn_order", lambda: np.argsort(index.brn.astype(str), kind="stable"))
    ordered = index.derived("brn_sorted", lambda: index.brn.astype(str)[order])
    i = int(np.searchsorted(ordered, digits))
    return int(order[i]) if i < len(ordered) and ordered[i] == digits else -1


@dataclass
class Lookup:
    """A page of firms found for a query, with the total count."""

    query: str
    total: int
    page: int
    per_page: int
    firms: list = field(default_factory=list)
    exact: object = None

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))


def find_firms(session, query, page=1, per_page=PER_PAGE):
    """Firms matching ``query``: a 사업자등록번호 (any separators; a prefix lists its firms) or a name.

    Names: company-form words (주식회사, (주), ㈜ …), spaces and punctuation ignored; exact,
    prefix and substring matches first, then typo-tolerant ones (see :mod:`.lookup`).

    Returns
    -------
    Lookup
        ``exact`` is the firm when the query is its complete 사업자등록번호.
    """
    query = (query or "").strip()
    page, per_page = max(1, int(page)), max(1, int(per_page))
    if not query:
        return Lookup(query, 0, page, per_page)
    digits = brn_digits(query)
    if digits is not None:
        stmt = select(db.FirmRow).where(db.FirmRow.brn.startswith(digits)).order_by(db.FirmRow.brn)
        rows = list(session.scalars(stmt))
        exact = rows[0] if len(digits) == 10 and len(rows) == 1 else None
        hits = [(row, "brn") for row in rows]
    else:
        index = current_index(session)
        keys = _name_keys(index)
        ranked = rank_names(query, keys)
        ids = [int(index.firm_id[pos]) for pos, _kind, _score in ranked]
        by_id = {}
        chunk = ids[(page - 1) * per_page:page * per_page]
        if chunk:
            by_id = {r.id: r for r in session.scalars(select(db.FirmRow).where(db.FirmRow.id.in_(chunk)))}
        hits = [(by_id.get(i), kind) for i, (_pos, kind, _score) in zip(ids, ranked)]
        exact = None
        rows = hits
    total = len(hits)
    shown = hits[(page - 1) * per_page:page * per_page]
    return Lookup(query, total, page, per_page, [dict(firm=row, match=kind) for row, kind in shown if row is not None],
                  exact)


def _name_keys(index):
    return index.derived("name_keys", lambda: NameKeys.of(list(index.name)))


def resolve_round(session, firm_row, name=None):
    """The round a firm's page uses: the one named, else the latest round in which the firm applied,
    else :func:`matcher.db.latest_round` (None when there is no round).

    Raises
    ------
    NotFoundError
        For an unknown round name.
    """
    if name:
        return _round_by_name(session, name)
    seen = db.remembered(session).setdefault("rounds", {})  # a page asks twice; forgotten on any write
    key = ("applied", firm_row.id)
    if key not in seen:
        seen[key] = _rounds_applied(session, firm_row.id)
    rounds = _all_rounds(session)
    return _latest([r for r in rounds if r.id in seen[key]]) or _latest(rounds)


def _wrote(session):
    """Whether this transaction has changes of its own (flushed or pending): then it reads the database."""
    return bool(db.wrote(session) or session.new or session.dirty or session.deleted)


def _rounds_applied(session, firm_id):
    """Ids of the rounds the firm applied in: from the index's applications (current with its data
    version, as :func:`own_application` reads them), else — a transaction that wrote, a firm not in the
    index yet — from the database."""
    if not _wrote(session):
        index = current_index(session)
        pos = index.position(firm_id)
        if pos >= 0:
            return frozenset(int(r) for r in np.unique(index.app_round[index.app_firm == pos]))
    return frozenset(session.scalars(_ROUNDS_APPLIED, {"firm_id": firm_id}))


def list_rounds(session):
    """Every round, newest first."""
    return list(_all_rounds(session))


def round_named(session, name=None):
    """The round named (or numbered) ``name``, else the latest (None without rounds); NotFoundError if unknown."""
    return _round_by_name(session, name) if name else _latest(_all_rounds(session))


def _all_rounds(session):
    """Every round (:class:`Round`), newest first, read once per transaction (a page asks four times;
    forgotten on any write, commit or rollback: :func:`matcher.db.remembered`)."""
    seen = db.remembered(session).setdefault("rounds", {})
    rows = seen.get("all")
    if rows is None:  # one plain statement (an ORM query of the same rows cost a page three times as much)
        if session.autoflush and (session.new or session.dirty or session.deleted):
            session.flush()  # as the ORM query did: a round added in this transaction is listed
        rows = seen["all"] = tuple(Round(r.id, r.name, r.reference_date, r.open_tracks, r.rule_overrides, r.created_at)
                                   for r in session.execute(_ROUNDS))
    return rows


def _latest(rows):
    """The latest of ``rows`` as :func:`matcher.db.latest_round` orders them (reference date, then id)."""
    return max(rows, key=lambda r: (r.reference_date, r.id), default=None)


def _round_by_name(session, name):
    """:func:`matcher.db.get_round` among the rounds read once: by name, else by numeric id."""
    rows = _all_rounds(session)
    found = next((r for r in rows if r.name == str(name)), None)
    if found is None and str(name).isdigit():
        found = next((r for r in rows if r.id == int(name)), None)
    if found is None:
        raise NotFoundError(msg("round.name_not_found", round=str(name)))
    return found


def rules_and_day(round_row):
    """The rules of ``round_row`` (its overrides; tracks it did not open are closed) and its reference date.

    Without a round: the shipped rules, judged today.
    """
    if round_row is None:
        return _shipped_rules(), date.today()
    key = (round_row.id, json.dumps(round_row.rule_overrides or {}, sort_keys=True, ensure_ascii=False),
           tuple(round_row.open_tracks or ()))
    rules = _ROUND_RULES.get(key)
    if rules is None:
        rules = _ROUND_RULES[key] = round_rules(round_row)
    return rules, round_row.reference_date


_ROUND_RULES = {}


@lru_cache(maxsize=1)
def _shipped_rules():
    return load_rules()


def own_application(session, firm_row, round_row):
    """``{"track", "as_partner"}`` of the firm's first application in the round ({} when it has none)."""
    if round_row is None:
        return {}
    index = current_index(session)
    rows = _own_rows(index, index.position(firm_row.id), round_row)
    if not rows:
        return {}
    return dict(track=index.app_track[rows[0]], as_partner=bool(index.app_role[rows[0]] == 1))


def round_applications(session, round_row, **where):
    """The round's application rows (firms and certificates loaded) matching ``where`` (column=value)."""
    stmt = (select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id)
            .options(selectinload(db.ApplicationRow.firm).selectinload(db.FirmRow.certificates)))
    for name, value in where.items():
        stmt = stmt.where(getattr(db.ApplicationRow, name) == value)
    return list(session.scalars(stmt))


def _application(session, round_row, firm_row, role, track):
    if round_row is None or firm_row is None:
        return None
    stmt = select(db.ApplicationRow).where(db.ApplicationRow.round_id == round_row.id,
                                           db.ApplicationRow.firm_id == firm_row.id,
                                           db.ApplicationRow.role == role, db.ApplicationRow.track == track)
    return session.scalars(stmt).first()


def _first_track(rules, firm, role, on, round_row):
    """The first track where ``firm`` may take ``role``, else the first open one (to show why not)."""
    check = lead_reasons if role == "lead" else partner_reasons
    for key in TRACKS:
        if key in rules and not check(rules[key], firm, on):
            return key
    for key in TRACKS:
        if key in rules and rules[key].open:
            return key
    where = msg("interest.in_round", round=round_row.name) if round_row is not None else msg("interest.in_rules")
    raise MatcherError(msg("directory.no_open_track", where=where, firm=msg("firm.named", name=firm.name,
                                                                             brn=format_brn(firm.brn)),
                           role=msg(N_("role." + role))))


# --- the directory of a track --------------------------------------------------------------------------


@dataclass
class Query:
    """Everything one directory query is about, resolved once (firm, round, rules, role, track, asker)."""

    firm_row: object
    firm: object
    round_row: object
    rules: dict
    on: date
    role: str
    rule: object
    own: object
    index: object = None
    asker: object = None
    product: str = ""


def _query(session, brn, track=None, as_partner=None, round_name=None, product=""):
    """Resolve firm, round, rules, role, track and the firm's own application (from the index's arrays)."""
    firm_row = stored_firm(session, brn)
    firm = firm_row.firm
    round_row = resolve_round(session, firm_row, round_name)
    rules, on = rules_and_day(round_row)
    index = current_index(session)
    pos = index.position(firm_row.id)
    mine = _own_rows(index, pos, round_row)
    if as_partner is None:
        roles = {int(index.app_role[r]) for r in mine if track is None or index.app_track[r] == track}
        as_partner = roles == {1}
    role = "partner" if as_partner else "lead"
    own_row = next((int(r) for r in mine if index.app_role[r] == (1 if as_partner else 0)
                    and (track is None or index.app_track[r] == track)), None)
    own = None
    if own_row is not None:
        own = Application(round_row.name, firm.brn, role, index.app_track[own_row],
                          index.app_docs.product[own_row] or "", index.app_text[own_row] or "")
    track = track or (own.track if own else _first_track(rules, firm, role, on, round_row))
    rule = eligibility.rule_for(track, rules)
    product = product or (own.product_code if own is not None and role == "lead" else "") or ""
    q = Query(firm_row, firm, round_row, rules, on, role, rule, own, index=index, product=product)
    q.own_row = own_row
    return q


def _own_rows(index, pos, round_row):
    """Index rows of the firm's applications in the round, in application order."""
    if round_row is None or pos < 0:
        return []
    return np.flatnonzero((index.app_firm == pos) & (index.app_round == round_row.id)).tolist()


def _attach_index(session, q):
    q.index = q.index or current_index(session)
    pos = q.index.position(q.firm_row.id)
    q.asker = asker_from_index(q.index, pos, getattr(q, "own_row", None),
                               product=q.product if q.role == "lead" else "")
    return q


def _filter_mask(index, wanted, on_ord):
    ok = np.ones(index.n_firms, dtype=bool)
    if "region" in wanted:
        ok &= np.isin(index.region, list(wanted["region"]))
    if "size_class" in wanted:
        from ..firms import SIZE_CLASSES
        ok &= np.isin(index.size, [SIZE_CLASSES.index(s) for s in wanted["size_class"]])
    if "certificate" in wanted:
        certs = valid_certs(index, on_ord, wanted["certificate"])
        held = np.zeros(index.n_firms, dtype=bool)
        held[index.cert_firm[certs]] = True
        ok &= held
    return ok


def recommend(session, brn, track=None, k=10, as_partner=None, filters=None, round_name=None,
              applicants_only=False, product=""):
    """Recommendations for a stored firm from the whole directory of the track, as a plain dict.

    Parameters
    ----------
    session : Session
    brn : str
        The firm's 사업자등록번호 (any separators).
    track : str, optional
        Default: the track of the firm's application in the round, else the first track in which
        the firm may take the role.
    k : int
    as_partner : bool, optional
        False: partners for the firm as lead; True: leads the firm (as partner) should invite;
        None: as the firm applied in the round (partner only when it applied only as partner).
    filters : dict, optional
        See :func:`matcher.recommend.normalize_filters` (applied after scoring: they only remove rows).
    round_name : str, optional
        Default: the latest round the firm applied in, else the latest round; without any round the
        rules are judged today.
    applicants_only : bool
        Only firms that applied in the round (on the other side, in the track).
    product : str, optional
        The product a lead means to apply for (default: the one it applied for), which decides the
        certificate a 혁신성장 partner must hold.

    Returns
    -------
    dict
        ``firm``, ``role``, ``track``, ``track_name``, ``round``, ``on``, ``product``, ``reasons``
        (why the firm itself may not take the role), ``recommendations`` (each with ``applied`` and
        ``interest``: whether the round would take an interest request, and why not), ``pool_size``
        (the directory: every firm that could pair with it), ``applicants`` (how many of those
        applied in the round), ``note_ko``/``note_en``, ``empty_reason`` (None, or counts by reason
        code and what would widen the search); as a partner also ``min_leads``, ``max_leads``,
        ``eligible_leads``.

    Raises
    ------
    NotFoundError
        Unknown firm, round or track.
    MatcherError
        A malformed ``brn``, an unknown filter value, no open track.
    """
    wanted = normalize_filters(filters)
    q = _query(session, brn, track, as_partner, round_name, product)
    base = {"firm": {"brn": q.firm.brn, "name": q.firm.name, "size_class": q.firm.size_class,
                     "region": q.firm.region},
            "role": q.role, "track": q.rule.key, "track_name": q.rule.label,
            "round": q.round_row.name if q.round_row else None, "on": q.on.isoformat(), "product": q.product,
            "pool_size": 0, "applicants": 0, "note_ko": "", "note_en": "", "recommendations": [],
            "applicants_only": bool(applicants_only), "empty_reason": None}
    if q.round_row is not None and not q.rule.open:
        return _closed_track(base, q)
    _attach_index(session, q)
    if q.role == "lead":
        _recommend_partners(session, q, base, k, wanted, applicants_only)
    else:
        _recommend_leads(session, q, base, k, wanted, applicants_only)
    return base


def _closed_track(base, q):
    check = lead_reasons if q.role == "lead" else partner_reasons
    open_keys = [msg(N_("track." + key)) for key in TRACKS if key in q.rules and q.rules[key].open]
    note = _reason(msg("directory.track_closed", track=_track(q.rule), round=q.round_row.name,
                       open=open_keys or msg("value.none")))
    base.update(note_ko=note["ko"], note_en=note["en"], reasons=[_reason(r) for r in check(q.rule, q.firm, q.on)])
    base["empty_reason"] = {**note, "code": "track_closed", "population": 0, "counts": {},
                            "widen": explain_empty.other_tracks(q, None)}
    return base


def _side_apps(q, role):
    """Firm position → application row of the round's ``role`` applications in the track (-1: none)."""
    app_of = np.full(q.index.n_firms, -1, dtype=np.int64)
    if q.round_row is not None:
        firms, rows = q.index.applications(q.round_row.id, q.rule.key, role)
        app_of[firms] = rows
    return app_of


def _recommend_partners(session, q, base, k, wanted, applicants_only):
    reasons = lead_reasons(q.rule, q.firm, q.on)
    base["reasons"] = [_reason(r) for r in reasons]
    on_ord = q.on.toordinal()
    fails = partner_failures(q.index, q.rule, on_ord, q.product, q.asker)
    app_of = _side_apps(q, "partner")
    eligible = fails < 0
    base["pool_size"] = int(eligible.sum())
    base["applicants"] = int((eligible & (app_of >= 0)).sum())
    if reasons:
        base["empty_reason"] = explain_empty.self_reasons(q, reasons)
        return
    shown = eligible & _filter_mask(q.index, wanted, on_ord)
    if applicants_only:
        shown &= app_of >= 0
    rows = np.flatnonzero(shown)
    weights = rule_weights(q.rule)
    values = partner_scores(q.index, q.asker, q.rule, on_ord, weights, rows, app_of[rows])
    best = top_k(values["score"], q.index.brn[rows], k)
    base["recommendations"] = _explained(session, q, rows[best], app_of[rows[best]], values["text"][best],
                                         weights, lead_side=False)
    if not base["recommendations"]:
        base["empty_reason"] = explain_empty.partners(q, fails, app_of, eligible, shown, applicants_only, wanted)


def _recommend_leads(session, q, base, k, wanted, applicants_only):
    cap = q.rule.capacity_for(q.firm.size_class)
    reasons = partner_reasons(q.rule, q.firm, q.on)
    base.update(reasons=[_reason(r) for r in reasons], min_leads=cap.min if cap else 0,
                max_leads=cap.max if cap else 0)
    on_ord = q.on.toordinal()
    app_of = _side_apps(q, "lead")
    has = app_of >= 0
    fails = lead_failures(q.index, q.rule, on_ord, asker=q.asker, asker_certs=q.asker.certs, app_of=app_of)
    eligible = fails < 0
    base["pool_size"] = base["eligible_leads"] = int(eligible.sum())
    base["applicants"] = int((eligible & has).sum())
    base["note_ko"], base["note_en"] = capacity_note(q.rule, q.firm, cap, base["eligible_leads"])
    if reasons:
        base["empty_reason"] = explain_empty.self_reasons(q, reasons)
        return
    shown = eligible & _filter_mask(q.index, wanted, on_ord)
    if applicants_only:
        shown &= has
    rows = np.flatnonzero(shown)
    weights = rule_weights(q.rule)
    values = lead_scores(q.index, q.asker, q.rule, on_ord, weights, rows, app_of[rows])
    best = top_k(values["score"], q.index.brn[rows], k)
    base["recommendations"] = _explained(session, q, rows[best], app_of[rows[best]], values["text"][best],
                                         weights, lead_side=True)
    if not base["recommendations"]:
        base["empty_reason"] = explain_empty.leads(q, fails, app_of, eligible, shown, applicants_only, wanted)


_FIRM_FIELDS = ("brn", "name", "size_class", "region", "founded", "ksic_codes", "g2b_codes", "description",
                "licences", "debarred_from", "debarred_to", "affiliate_group", "members")


_F, _C = db.FirmRow.__table__, db.CertificateRow.__table__
_CERTS_OF = (select(_C.c.firm_id, _C.c.kind, _C.c.code, _C.c.valid_from, _C.c.valid_to)
             .where(_C.c.firm_id.in_(bindparam("ids", expanding=True))).order_by(_C.c.id))
_FIRMS_OF = select(_F.c.id, *[_F.c[name] for name in _FIRM_FIELDS]).where(_F.c.id.in_(bindparam("ids", expanding=True)))


def _load_firms(session, firm_ids):
    """``{id: Firm}`` of the firms ``firm_ids`` with their certificates, as :func:`matcher.db.firm_from_row`
    makes them — read as plain rows (two statements, no ORM objects: only explained and shown)."""
    ids = [int(i) for i in firm_ids]
    if not ids:
        return {}
    certs = {}
    for firm_id, kind, code, valid_from, valid_to in session.execute(_CERTS_OF, {"ids": ids}):
        certs.setdefault(firm_id, []).append(Certificate(kind, code or "", valid_from, valid_to))
    out = {}
    for row in session.execute(_FIRMS_OF, {"ids": ids}):
        v = row._mapping
        out[v["id"]] = Firm(
            brn=v["brn"], name=v["name"], size_class=v["size_class"], region=v["region"], founded=v["founded"],
            ksic_codes=list(v["ksic_codes"] or []), g2b_codes=list(v["g2b_codes"] or []),
            description=v["description"] or "", certificates=certs.get(v["id"], []),
            licences=[Licence(l["kind"], l.get("work_type", "")) for l in (v["licences"] or [])],
            debarred_from=v["debarred_from"], debarred_to=v["debarred_to"],
            affiliate_group=v["affiliate_group"] or None, members=v["members"] or 1)
    return out


FIRMS_KEPT = 20_000
"""At most this many shown firms are kept in memory per index (see :func:`_shown_firms`) unless the
environment's ``MATCHER_FIRMS_KEPT`` says otherwise (0: none kept, every page reads its firms)."""


def firms_kept():
    """How many shown firms an index keeps: ``MATCHER_FIRMS_KEPT`` as the process has it now, else
    :data:`FIRMS_KEPT` (read at each use, not at import, so a server or a test can set it)."""
    value = os.environ.get("MATCHER_FIRMS_KEPT", "").strip()
    if not value:
        return FIRMS_KEPT
    if not value.isdigit():
        raise MatcherError(msg("config.firms_kept", name="MATCHER_FIRMS_KEPT", value=value))
    return int(value)


def _shown_firms(session, index, firm_ids):
    """``{id: Firm}`` as :func:`_load_firms` reads them, kept with the index (read-only data of its version).

    The index is replaced by a new object whenever the data version changes (firms, certificates,
    applications), so a firm kept here is as current as the scores the index gives it; only the firms
    not kept yet are read (one page shows ten), on a connection of their own (a transaction begun after
    the index was made). A session that has written reads them itself and keeps nothing (its changes
    may be rolled back). At most :func:`firms_kept` are kept (then started afresh).
    """
    bind = session.get_bind()
    if _wrote(session) or not isinstance(bind, Engine):
        return _load_firms(session, firm_ids)  # this transaction's own changes: read, never kept
    kept = index.derived("shown_firms", dict)
    ids = [int(i) for i in firm_ids]
    found = {i: firm for i in ids if (firm := kept.get(i)) is not None}  # one look-up each: another thread
    missing = [i for i in ids if i not in found]                          # may clear ``kept`` at any moment
    if missing:
        # read in a transaction begun after the index was made, so never older than the index's data
        with bind.connect() as connection:
            loaded = _load_firms(connection, missing)
        found.update(loaded)
        limit = firms_kept()
        if len(kept) + len(loaded) > limit:
            kept.clear()
        if limit:
            kept.update(loaded)
    return {i: found[i] for i in ids if i in found}


def forget_shown_firms():
    """Forget the firms kept with every index in memory (benchmarks time each query's first sight of
    the firms it shows, as on a directory too large for them to have been seen)."""
    from .store import _CACHE
    for index in list(_CACHE.values()):
        index.forget("shown_firms")


def _index_application(q, firm, app_row, role):
    """The round application of ``firm`` at index row ``app_row``, as the index holds it."""
    index = q.index
    return Application(q.round_row.name, firm.brn, role, q.rule.key, index.app_docs.product[app_row] or "",
                       index.app_text[app_row] or "")


def _explained(session, q, positions, app_rows, texts, weights, lead_side):
    """The recommendations at index ``positions`` as dicts, each with its explanation and interest check."""
    index = q.index
    rows = _shown_firms(session, index, index.firm_id[positions])
    own_app = q.own
    if own_app is not None and q.role == "lead" and q.product and q.product != own_app.product_code:
        own_app = Application(own_app.round_name, own_app.brn, "lead", own_app.track, q.product, own_app.text)
    elif own_app is None and q.product and q.role == "lead":
        own_app = Application("", q.firm.brn, "lead", q.rule.key, q.product, "")
    others = []
    for pos, app_row in zip(positions, app_rows):
        other = rows[int(index.firm_id[pos])]
        others.append((other, _index_application(q, other, app_row, "lead" if lead_side else "partner")
                       if app_row >= 0 else None))
    out = []
    for rank, ((other, app), text) in enumerate(zip(others, texts), start=1):
        if lead_side:
            expl = explain(other, app, q.firm, own_app, q.rule, q.on, weights, text_value=float(text))
        else:
            expl = explain(q.firm, own_app, other, app, q.rule, q.on, weights, text_value=float(text))
        item = {"rank": rank, "brn": other.brn, "brn_display": format_brn(other.brn), "name": other.name,
                "size_class": other.size_class, "region": other.region, "score": round(expl.score, 4),
                "product_code": app.product_code if app else "", "applied": app is not None,
                "explanation": expl.to_dict()}
        explanation = item["explanation"]
        item["components"] = explanation["components"]
        item["reasons"] = [{"ko": ko, "en": en} for ko, en in zip(explanation["reasons_ko"], explanation["reasons_en"])]
        item["applied_label"] = _applied_label(q, app)
        item["interest"] = _interest_offer(q, app, "lead" if lead_side else "partner")
        out.append(item)
    return out


def _applied_label(q, app):
    if app is None:
        return None
    return _reason(msg("directory.applied_as", round=q.round_row.name, role=msg(N_("role." + app.role))))


def _interest_offer(q, other_app, other_role):
    """Whether the round would take this firm's interest in the other (the pair is eligible already):
    the firm applied in the track on the other side, and so did the other firm (:mod:`matcher.rounds.interest`)."""
    problems = []
    own_role = "lead" if other_role == "partner" else "partner"
    if q.round_row is None:
        problems.append(_reason(msg("interest.no_round")))
    else:
        if q.own is None or q.own.role != own_role:
            problems.append(_reason(msg("interest.apply_as", round=q.round_row.name, track=_track(q.rule),
                                        role=msg(N_("role." + own_role)))))
        if other_app is None:
            problems.append(_reason(msg("interest.other_not_applied", role=msg(N_("role." + other_role)))))
    return {"ok": not problems, "problems": problems}


# --- one pair ------------------------------------------------------------------------------------------


def pair_detail(session, brn, other_brn, track=None, as_partner=None, round_name=None, product=""):
    """The score explanation of one pair exactly as the ranked list scores it (None when not eligible).

    The same round, role, track, product and text vectors as :func:`recommend`; one pair is scored
    instead of the whole directory.
    """
    q = _attach_index(session, _query(session, brn, track, as_partner, round_name, product))
    other = get_firm(session, other_brn)
    why = why_not(session, brn, other.brn, q.rule.key, q.role == "partner", round_name, product=product)
    if why["reasons"]:
        return None
    pos = q.index.position(other.id)
    if pos < 0:
        return None
    role = "lead" if q.role == "partner" else "partner"
    app_row = _side_apps(q, role)[pos]
    weights = rule_weights(q.rule)
    scores = lead_scores if q.role == "partner" else partner_scores
    values = scores(q.index, q.asker, q.rule, q.on.toordinal(), weights, np.array([pos]), np.array([app_row]))
    return _explained(session, q, np.array([pos]), np.array([app_row]), values["text"], weights,
                      lead_side=q.role == "partner")[0]


def why_not(session, brn, other, track=None, as_partner=False, round_name=None, filters=None,
            applicants_only=False, product=""):
    """Every reason against the pair, and whether the other firm is in the pool the list shows.

    Parameters
    ----------
    other : str
        The other firm: a 사업자등록번호 or a name (an ambiguous name gives the candidates).

    Returns
    -------
    dict
        ``other`` (the firm row or None), ``candidates`` (firm rows, when ``other`` names several or
        none exactly), ``reasons`` (``{code, ko, en}``; [] when the rules allow the pair), ``eligible``,
        ``in_pool`` (shown by the list with these filters), ``pool_note`` (``{ko, en}`` when eligible but
        not shown: not an applicant of the round, or outside the filters), ``track``, ``round``.
    """
    me = get_firm(session, brn)
    found = _other_firm(session, other)
    out = {"other": found.get("firm"), "candidates": found.get("candidates", []), "reasons": [], "eligible": False,
           "in_pool": False, "pool_note": None, "track": track, "round": None, "query": other}
    if out["other"] is None:
        return out
    round_row = resolve_round(session, me, round_name)
    rules, on = rules_and_day(round_row)
    key = track or own_application(session, me, round_row).get("track") or "materials"
    rule = eligibility.rule_for(key, rules)
    lead_row, partner_row = (out["other"], me) if as_partner else (me, out["other"])
    lead_app = _application(session, round_row, lead_row, "lead", rule.key)
    code = product or (lead_app.product_code if lead_app is not None else "")
    reasons = eligibility.why_not(db.firm_from_row(lead_row), db.firm_from_row(partner_row), rule, rules, on, code)
    out.update(reasons=[_reason(r) for r in reasons], eligible=not reasons, track=rule.key,
               round=round_row.name if round_row else None)
    if reasons:
        return out
    other_role = "lead" if as_partner else "partner"
    applied = _application(session, round_row, out["other"], other_role, rule.key) is not None
    wanted = normalize_filters(filters)
    outside = [key for key, values in wanted.items() if not _passes_one(out["other"], key, values, on)]
    name = out["other"].name
    if applicants_only and not applied:
        out["pool_note"] = _reason(msg("directory.not_an_applicant", firm=name, round=round_row.name if round_row else "",
                                       track=_track(rule), role=msg(N_("role." + other_role))))
    elif outside:
        out["pool_note"] = _reason(msg("directory.outside_filters", firm=name,
                                       filters=[msg(N_("filter." + key)) for key in outside]))
    else:
        out["in_pool"] = True
        if not applied and round_row is not None:
            out["pool_note"] = _reason(msg("directory.listed_not_applied", firm=name, round=round_row.name,
                                           role=msg(N_("role." + other_role))))
    out["applied"] = applied
    return out


def _passes_one(firm_row, key, values, on):
    if key == "region":
        return firm_row.region in values
    if key == "size_class":
        return firm_row.size_class in values
    return any(c.kind in values and (c.valid_from is None or c.valid_from <= on)
               and (c.valid_to is None or on <= c.valid_to) for c in firm_row.certificates)


def _other_firm(session, text):
    """``{"firm": row}`` for a 사업자등록번호 or a name matching one firm, else ``{"candidates": [...]}``."""
    text = (text or "").strip()
    if not text:
        return {}
    digits = brn_digits(text)
    if digits is not None and len(digits) == 10:
        try:
            return {"firm": get_firm(session, digits)}
        except NotFoundError:
            return {"candidates": []}
    found = find_firms(session, text, per_page=20)
    firms = [hit["firm"] for hit in found.firms]
    exact = [hit["firm"] for hit in found.firms if hit["match"] in ("exact", "brn")]
    if len(exact) == 1:
        return {"firm": exact[0]}
    if found.total == 1 and firms:
        return {"firm": firms[0]}
    return {"candidates": firms}


# --- a described firm (not stored) ---------------------------------------------------------------------------


def recommend_described(session, firm, track, k=10, filters=None, round_name=None, product=""):
    """Ranked partners from the directory for a firm described on a form (scored transiently, not stored)."""
    wanted = normalize_filters(filters)
    round_row = round_named(session, round_name)
    rules, on = rules_and_day(round_row)
    rule = eligibility.rule_for(track, rules)
    base = {"firm": {"brn": firm.brn, "name": firm.name, "size_class": firm.size_class, "region": firm.region},
            "role": "lead", "track": rule.key, "track_name": rule.label, "round": round_row.name if round_row else None,
            "on": on.isoformat(), "product": product, "pool_size": 0, "applicants": 0, "note_ko": "", "note_en": "",
            "recommendations": [], "applicants_only": False, "empty_reason": None}
    q = Query(None, firm, round_row, rules, on, "lead", rule, None, product=product)
    if round_row is not None and not rule.open:
        return _closed_track(base, q)
    q.index = current_index(session)
    q.asker = asker_from_firm(q.index, firm, product)
    _recommend_partners(session, q, base, k, wanted, False)
    for item in base["recommendations"]:
        item["interest"] = None
    return base


def region_names():
    """The 17 시도 short names, in the order of ``data/regions.csv``."""
    return tuple(codes.regions())


__all__ = ["list_rounds", "round_named", "get_firm", "stored_firm", "StoredFirm", "find_firms", "Lookup", "resolve_round", "rules_and_day", "own_application",
           "round_applications", "recommend", "recommend_described", "pair_detail", "why_not",
           "region_names", "NOTE_MAX", "LEAD_CHECKS", "PARTNER_CHECKS"]
