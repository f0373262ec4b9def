"""Match runs: check the decisions, solve a round, store the run as a record that never changes, read it back.

A stored run keeps the proposals, scores, explanations and diagnostics as they were when it ran;
staff decisions taken later are shown beside it as the current state, never written into it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import func, insert, select

from .. import db
from ..conflicts import find_conflicts
from ..errors import ConflictError, InvalidValueError, NotFoundError, Problem, UnknownTrackError, ValidationError
from ..matching import MODES, match_round
from ..messages import N_, msg
from ..tracks import TRACKS, round_rules
from .decisions import decisions_by_pair, list_decisions
from .pools import round_input
from .records import get_round

TIME_LIMIT = (1.0, 600.0)
"""Seconds a run may be given (the whole run: loading, scoring, solving, storing)."""
DEFAULT_TIME_LIMIT = 60.0


def check_run_params(round_row, track="", mode="optimal", time_limit=None, default_limit=DEFAULT_TIME_LIMIT):
    """The run's parameters checked: ``{"track", "mode", "time_limit"}``.

    Raises
    ------
    ValidationError
        Naming every bad parameter (track not open, unknown mode, time limit not a number or outside
        :data:`TIME_LIMIT`), in English and Korean.
    """
    problems = []
    rules = round_rules(round_row)
    open_keys = [key for key in TRACKS if key in (round_row.open_tracks or []) and key in rules]
    track = str(track or "").strip()
    if track and track not in TRACKS:
        problems.append(Problem(None, "track", track, msg("value.not_one_of", known=list(TRACKS))))
    elif track and track not in open_keys:
        problems.append(Problem(None, "track", track, msg("run.track_not_open", round=round_row.name,
                                                          open=_open_names(open_keys))))
    elif not open_keys:
        problems.append(Problem(None, "track", "", msg("run.no_open_track", round=round_row.name)))
    mode = str(mode or "optimal")
    if mode not in MODES:
        problems.append(Problem(None, "mode", mode, msg("value.not_one_of", known=list(MODES))))
    limit = _time_limit(time_limit, default_limit, problems)
    if problems:
        raise ValidationError(problems)
    return dict(track=track or None, mode=mode, time_limit=limit)


def _open_names(keys):
    return [msg(N_("track." + k)) for k in keys] or msg("value.none")


def _time_limit(value, default, problems):
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        limit = float(value)
    except (TypeError, ValueError):
        problems.append(Problem(None, "time_limit", str(value), msg("run.time_limit_not_a_number")))
        return None
    low, high = TIME_LIMIT
    if not (math.isfinite(limit) and low <= limit <= high):
        problems.append(Problem(None, "time_limit", str(value), msg("run.time_limit_range", low=low, high=high)))
    return limit


def prepare(session, round_row, track=None):
    """The round's input for a run of ``track`` (or every open track), refused when its decisions conflict.

    Raises
    ------
    ConflictError
        Listing every :class:`~matcher.conflicts.Conflict` (the firms, the decisions, the fix).
    """
    from ..learning import apply_model
    inp = apply_model(session, round_input(session, round_row))
    if track is not None and track not in inp.pools:
        raise UnknownTrackError(msg("round.track_not_open", track=msg(N_("track." + track)), round=round_row.name,
                                    open=_open_names(list(inp.pools))))
    conflicts = find_conflicts(inp, [track] if track else None)
    if conflicts:
        raise ConflictError(conflicts)
    return inp


def conflicts_of(session, round_row, track=None):
    """The conflicts a run of ``track`` would meet now (empty when it may start)."""
    return find_conflicts(round_input(session, round_row), [track] if track else None)


def run_match(session, round_id, track=None, mode="optimal", time_limit=None, actor="cli", progress=None,
              gap=None, processes=1):
    """Check, solve and store a run of round ``round_id`` in the caller's transaction; returns the run id.

    ``time_limit`` (seconds, default none) bounds the whole run from loading to storing
    (:func:`matcher.matching.match_round`); ``progress(fraction, message)`` hears every phase; ``gap``
    (0 ≤ gap < 1, default :data:`matcher.matching.DEFAULT_GAP`) is where the solver may stop short of a proof;
    ``processes=2`` scores half the tracks in a forked process (the command line; the same run, sooner).

    Raises
    ------
    ValidationError, ConflictError, InfeasibleError, NotFoundError
    """
    started = time.perf_counter()
    round_row = get_round(session, round_id)
    params = check_run_params(round_row, track or "", mode, time_limit, default_limit=time_limit)
    if gap is not None:
        if not (math.isfinite(gap) and 0 <= gap < 1):
            raise ValidationError([Problem(None, "gap", str(gap), msg("run.gap_range"))])
        params["gap"] = gap
    if processes > 1:  # the command line: HiGHS workers start on the second core while the round is read
        from ..assignment.highs import prestart
        prestart()
    if progress:
        progress(0.01, msg("job.loading_applications"))
    inp = prepare(session, round_row, params["track"])
    result = match_round(inp, progress=progress, started=started, processes=processes, **params)
    if progress:
        progress(0.9, msg("job.storing", n=len(result.pairs)))
    run = store_run(session, round_row, result, params["track"], actor)
    if progress:
        progress(1.0, msg("job.run_done", run=run.id, status=msg(N_("status." + run.status)), n=len(result.pairs)))
    return run.id


def store_run(session, round_row, result, track, actor):
    """Write a :class:`~matcher.matching.MatchResult` as a run with its proposals (bulk insert)."""
    run = db.MatchRunRow(round_id=round_row.id, track=track, created_by=actor or "", fingerprint=result.fingerprint,
                         params=result.params, status=result.status, objective=result.objective, bound=result.bound,
                         gap=result.gap, seconds=result.seconds, diagnostics=result.diagnostics,
                         model=(result.params or {}).get("model", "hand"))
    session.add(run)
    session.flush()
    ids = firm_ids(session, {b for p in result.pairs for b in (p.lead, p.partner)})
    rows = [dict(run_id=run.id, track=p.track, lead_id=ids[p.lead], partner_id=ids[p.partner], score=p.score,
                 explanation=p.explanation, status="approved" if p.locked else "proposed") for p in result.pairs]
    for start in range(0, len(rows), 5000):  # Core executemany: the ORM's bulk path costs 40 µs a row more
        session.execute(insert(db.ProposalRow.__table__), rows[start:start + 5000])
    db.audit(session, actor, "run.create", round=round_row.name, run=run.id, status=run.status)
    session.flush()
    return run


def firm_ids(session, brns, chunk=900):
    """``{brn: firm id}`` for many 사업자등록번호 (queried in chunks under SQLite's parameter limit)."""
    brns, out = sorted(brns), {}
    for start in range(0, len(brns), chunk):
        stmt = select(db.FirmRow.brn, db.FirmRow.id).where(db.FirmRow.brn.in_(brns[start:start + chunk]))
        out.update(dict(session.execute(stmt).all()))
    return out


def get_run(session, run_id):
    """A run by id; NotFoundError naming it."""
    row = session.get(db.MatchRunRow, db.as_id(run_id)) if db.as_id(run_id) is not None else None
    if row is None:
        raise NotFoundError(msg("run.not_found", run=str(run_id)))
    return row


def proposal_count(session, run_id):
    """How many proposals run ``run_id`` stored (one indexed count, not :func:`list_runs`' count of every run)."""
    return session.scalar(select(func.count()).select_from(db.ProposalRow).where(db.ProposalRow.run_id == run_id))


def list_runs(session, round_id):
    """The round's runs, newest first, each with its number of proposals (``(run, n)``)."""
    round_row = get_round(session, round_id)
    n = (select(db.ProposalRow.run_id, func.count().label("n")).group_by(db.ProposalRow.run_id).subquery())
    stmt = (select(db.MatchRunRow, func.coalesce(n.c.n, 0)).outerjoin(n, n.c.run_id == db.MatchRunRow.id)
            .where(db.MatchRunRow.round_id == round_row.id).order_by(db.MatchRunRow.id.desc()))
    return [(run, count) for run, count in session.execute(stmt)]


def proposal_rows(session, run):
    """Every stored proposal of ``run`` as a dict, with the decision that counts now (``decision``…).

    The stored fields (``score``, ``status``, ``components``, ``reasons``) are the run's record;
    ``decision``, ``note``, ``decided_by``, ``decided_at`` are the current state, read fresh.
    """
    decisions = decisions_by_pair(session, run.round_id)
    lead, partner, p = db.FirmRow.__table__.alias("lead"), db.FirmRow.__table__.alias("partner"), db.ProposalRow
    stmt = (select(p.id, p.track, p.score, p.status, p.explanation, p.partner_id, lead.c.brn, lead.c.name,
                   lead.c.size_class, lead.c.region, partner.c.brn, partner.c.name, partner.c.size_class,
                   partner.c.region)
            .join(lead, lead.c.id == p.lead_id).join(partner, partner.c.id == p.partner_id)
            .where(p.run_id == run.id).order_by(p.id))
    return [_row(r, decisions.get((r[6], r[10]))) for r in session.execute(stmt)]


def _row(r, decision):
    (pid, track, score, status, explanation, partner_id, lead_brn, lead_name, lead_size, lead_region,
     partner_brn, partner_name, partner_size, partner_region) = r
    explanation = explanation or {}
    return dict(
        id=pid, track=track, score=float(score), status=status,
        lead_brn=lead_brn, lead_name=lead_name, lead_size=lead_size, lead_region=lead_region,
        partner_brn=partner_brn, partner_name=partner_name, partner_size=partner_size,
        partner_region=partner_region, partner_id=partner_id,
        components=list(explanation.get("components", [])), reasons=list(explanation.get("reasons", [])),
        decision=decision.kind if decision else "", note=decision.note if decision else "",
        decided_by=decision.decided_by if decision else "",
        decided_at=decision.decided_at if decision else None,
    )


@dataclass
class Listing:
    """One page of a run's proposals after filters and sorting."""

    rows: list
    page: int
    pages: int
    total: int
    start: int
    params: dict
    complete: bool


LISTING_SORTS = {"track": "track", "lead": "lead_name", "partner": "partner_name", "score": "score",
                 "status": "status", "decision": "decision"}
LISTING_KEYS = ("track", "partner", "status", "decision", "q", "score_min", "score_max", "sort", "order")
PAGE_SIZE = 100


def filter_rows(rows, args):
    """``rows`` kept by the filters in ``args``: ``track``, ``partner`` (name or 사업자등록번호, part of it),
    ``status``, ``decision`` (a kind, or ``none``), ``q`` (either firm's name or 사업자등록번호, part of it),
    ``score_min``/``score_max``. Returns ``(rows, params)`` where params are the filters used.

    Raises
    ------
    ValidationError
        A score bound that is not a number.
    """
    params = {key: str(args.get(key, "") or "").strip() for key in LISTING_KEYS}
    params = {key: value for key, value in params.items() if value}
    bounds = {}
    for key in ("score_min", "score_max"):
        if key in params:
            try:
                bounds[key] = float(params[key])
            except ValueError:
                raise ValidationError([Problem(None, key, params[key], msg("value.not_a_number"))]) from None
    q = _needle(params.get("q", ""))
    partner = _needle(params.get("partner", ""))

    def keep(r):
        return ((not params.get("track") or r["track"] == params["track"])
                and (not params.get("status") or r["status"] == params["status"])
                and (not params.get("decision") or (r["decision"] or "none") == params["decision"])
                and (not partner or partner in _hay(r, "partner"))
                and (not q or q in _hay(r, "lead") or q in _hay(r, "partner"))
                and r["score"] >= bounds.get("score_min", -math.inf) and r["score"] <= bounds.get("score_max", math.inf))
    return [r for r in rows if keep(r)], params


def _needle(text):
    return "".join(text.split()).replace("-", "").casefold()


def _hay(row, side):
    return _needle(row[f"{side}_name"]) + "|" + row[f"{side}_brn"]


def listing(rows, args, size=PAGE_SIZE):
    """One page of ``rows`` filtered (:func:`filter_rows`), sorted (``sort``, ``order``) and paged (``page``)."""
    shown, params = filter_rows(rows, args)
    if params.get("sort") in LISTING_SORTS:
        field = LISTING_SORTS[params["sort"]]
        shown = sorted(shown, key=lambda r: r[field], reverse=params.get("order") == "desc")
    pages = max(1, -(-len(shown) // size))
    page = str(args.get("page", "1")).strip()
    page = min(max(int(page), 1), pages) if page.isdigit() else 1
    start = (page - 1) * size
    return Listing(rows=shown[start:start + size], page=page, pages=pages, total=len(shown), start=start + 1,
                   params=params, complete=pages == 1 and len(shown) == len(rows))


def decisions_since(session, run):
    """The decisions that count now and were taken after ``run`` was stored (the current state's news).

    Each is a :class:`~matcher.rounds.decisions.DecisionView`; ``in_run`` says whether the pair is
    among the run's proposals (False for a pair staff added by hand).
    """
    proposed = set(session.execute(
        select(db.FirmRow.brn, db.ProposalRow.partner_id).join(db.FirmRow, db.FirmRow.id == db.ProposalRow.lead_id)
        .where(db.ProposalRow.run_id == run.id)).all())
    partner_ids = firm_ids(session, {d.partner_brn for d in list_decisions(session, run.round_id)})
    return [(d, (d.lead_brn, partner_ids.get(d.partner_brn)) in proposed)
            for d in list_decisions(session, run.round_id)
            if d.decided_at is not None and run.created_at is not None and d.decided_at >= run.created_at]


def firm_sizes(session, brns):
    """``{brn: size class}`` of many firms (for the pictures of a run's unused partners)."""
    brns, out = sorted(set(brns)), {}
    for start in range(0, len(brns), 900):
        stmt = select(db.FirmRow.brn, db.FirmRow.size_class).where(db.FirmRow.brn.in_(brns[start:start + 900]))
        out.update(dict(session.execute(stmt).all()))
    return out


def log_export(session, run_id, fmt, actor=""):
    """Record in the audit log that a run was exported."""
    db.audit(session, actor, "run.export", run=int(run_id), format=fmt)


def export_run(session, run_id, fmt, lang="ko", filters=None):
    """The proposals of run ``run_id`` as XLSX or CSV bytes (:func:`matcher.export.export_rows`).

    The stored proposals with the decisions as they stand now and each pair's history (oldest first),
    kept by the proposals page's ``filters`` (:func:`filter_rows`; a ``track`` filter also limits the
    diagnostics sheet), headers and names in ``lang``.

    Raises
    ------
    NotFoundError, InvalidValueError, ValidationError
    """
    from ..export import FORMATS, export_rows
    from .decisions import decision_history
    if fmt not in FORMATS:
        raise InvalidValueError(msg("export.format", format=str(fmt), known=list(FORMATS)))
    run = get_run(session, run_id)
    history = {}
    for event in decision_history(session, run.round_id):
        history.setdefault((event.lead_brn, event.partner_brn), []).append(dict(
            kind=event.kind, note=event.note, decided_by=event.decided_by, decided_at=event.decided_at))
    rows, params = filter_rows(proposal_rows(session, run), filters or {})
    for row in rows:
        row["history"] = history.get((row["lead_brn"], row["partner_brn"]), [])
    diagnostics = dict(run.diagnostics or {})
    if params.get("track"):
        diagnostics = {key: [i for i in items if isinstance(i, dict) and i.get("track") == params["track"]]
                       if isinstance(items, list) else items for key, items in diagnostics.items()}
    title = f"{'실행' if lang == 'ko' else 'run'} {run.id}"
    return export_rows(rows, fmt, lang, diagnostics=diagnostics, title=title)
