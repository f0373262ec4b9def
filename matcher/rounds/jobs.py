"""Background matching runs kept in the database: status, progress, heartbeat, cancel, retry.

:func:`submit_match` checks a run's parameters and the round's decisions, then queues a job
(or returns the job already running on the same inputs); :func:`work` does it, in any thread or
process that can reach the database, beating every :data:`HEARTBEAT` seconds. A queued or running
job whose heartbeat is older than :data:`STALE_AFTER` seconds lost its worker (a restart, a kill):
it reads as ``interrupted`` and can be retried. Cancelling takes effect at the next step of the
work (scoring reports after each step of each track; the solver's phase is bounded by the run's time
limit, which counts from loading to storing); a cancelled run stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from .. import db
from ..errors import CancelledError, MatcherError, NotFoundError, RefusedError, WrongStateError
from ..matching import match_round
from ..messages import N_, Msg, dumps, loads, msg, render
from .records import get_round
from .runs import check_run_params, prepare, store_run

log = logging.getLogger(__name__)

HEARTBEAT = 2.0
STALE_AFTER = 30.0
"""Seconds without a heartbeat after which a job reads as interrupted (``MATCHER_JOB_STALE_SECONDS``)."""
ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled")


@dataclass
class JobView:
    """A job as pages and the API show it; ``status`` is ``interrupted`` for a job whose worker died."""

    id: str
    round_id: int
    round_name: str
    track: str | None
    params: dict
    status: str
    fraction: float
    message: str
    error: str
    error_ko: str
    run_id: int | None
    actor: str
    created_at: datetime | None
    finished_at: datetime | None
    kind: str = "match"
    result: dict | None = None

    @property
    def active(self):
        return self.status in ACTIVE

    @property
    def can_retry(self):
        """A run that failed, was cancelled or interrupted can run again; an upload cannot (its file is gone)."""
        return self.kind == "match" and self.status in ("failed", "cancelled", "interrupted")

    @property
    def actions(self):
        """What can be done to the job now: ``cancel`` (queued or running), ``retry`` (see :attr:`can_retry`)."""
        return (["cancel"] if self.active else []) + (["retry"] if self.can_retry else [])

    def to_dict(self):
        out = asdict(self)
        out["actions"] = self.actions
        for key in ("created_at", "finished_at"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


def stale_after():
    """:data:`STALE_AFTER`, or ``$MATCHER_JOB_STALE_SECONDS`` when set (kept above the heartbeat)."""
    try:
        return max(float(os.environ.get("MATCHER_JOB_STALE_SECONDS", STALE_AFTER)), 2 * HEARTBEAT)
    except ValueError:
        return STALE_AFTER


def _view(row, round_name, now=None):
    now = now or db._now()
    status = row.status
    beat = row.heartbeat_at or row.created_at
    if status in ACTIVE and beat is not None and (now - beat).total_seconds() > stale_after():
        status = "interrupted"
    error = loads(row.error or "")  # a stored Msg (a plain English string in older rows, beside error_ko)
    error_ko = render(error, "ko") if not isinstance(error, str) else (row.error_ko or "")
    return JobView(id=row.id, round_id=row.round_id, round_name=round_name, track=row.params.get("track"),
                   params=dict(row.params or {}), status=status, fraction=row.fraction or 0.0,
                   message=row.message or "", error=render(error, "en"), error_ko=error_ko,
                   run_id=row.run_id, actor=row.actor or "", created_at=row.created_at, finished_at=row.finished_at,
                   kind=row.kind or "match", result=dict(row.result or {}))


def data_version(session, round_id):
    """What a run's result depends on, cheaply: the round's applications, firms and decisions as they stand."""
    apps = session.execute(select(func.count(), func.max(db.ApplicationRow.id)).where(
        db.ApplicationRow.round_id == round_id)).one()
    firms = session.execute(select(func.count(), func.max(db.FirmRow.updated_at))).one()
    events = session.scalar(select(func.max(db.DecisionEventRow.id)).where(db.DecisionEventRow.round_id == round_id))
    round_row = session.get(db.RoundRow, round_id)
    return [list(apps), [firms[0], str(firms[1])], events, round_row.open_tracks, round_row.rule_overrides,
            str(round_row.reference_date)]


def submit_match(session, round_id, track="", mode="optimal", time_limit=None, actor="", default_limit=60.0):
    """Queue a matching run of a round (the caller commits, then starts :func:`work` on the job).

    Returns
    -------
    (JobView, bool)
        The job, and whether it is new (False: an identical run was already queued or running).

    Raises
    ------
    ValidationError
        Bad parameters.
    ConflictError
        Decisions that make the run impossible (nothing is queued).
    """
    round_row = get_round(session, round_id)
    params = check_run_params(round_row, track, mode, time_limit, default_limit)
    prepare(session, round_row, params["track"])
    blob = json.dumps([round_row.id, params, data_version(session, round_row.id)], default=str, sort_keys=True)
    fingerprint = hashlib.sha256(blob.encode("utf-8")).hexdigest()
    for row in session.scalars(select(db.JobRow).where(db.JobRow.fingerprint == fingerprint,
                                                       db.JobRow.status.in_(ACTIVE))):
        view = _view(row, round_row.name)
        if view.active:
            return view, False
    row = db.JobRow(id=uuid.uuid4().hex, kind="match", round_id=round_row.id, params=params, fingerprint=fingerprint,
                    status="queued", actor=actor or "", heartbeat_at=db._now(), message=dumps(msg("job.queued")))
    session.add(row)
    db.audit(session, actor, "job.create", round=round_row.name, job=row.id, **params)
    session.flush()
    return _view(row, round_row.name), True


def file_digest(path):
    """The SHA-256 of a file's bytes (hex): the same bytes are the same upload, whatever its name."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def refused_before(session, round_id, kind, digest):
    """The latest import of the same bytes (``digest``) as ``kind`` into the round that was refused with
    a report of its problems, or None: the same file would be refused again for the same reasons."""
    stmt = (select(db.JobRow).where(db.JobRow.round_id == round_id, db.JobRow.kind == "import",
                                    db.JobRow.status == "failed").order_by(db.JobRow.created_at.desc()))
    for row in session.scalars(stmt):
        params = row.params or {}
        if params.get("sha256") == digest and params.get("kind") == kind and "problems" in (row.result or {}):
            return _view(row, get_round(session, round_id).name)
    return None


def log_refused_again(session, earlier, filename, actor=""):
    """Audit an upload not read because its bytes were refused before (:func:`refused_before`)."""
    db.audit(session, actor, "import.refused", round=earlier.round_name, kind=earlier.params.get("kind", ""),
             file=filename or "", problems=(earlier.result or {}).get("count"),
             same_as=earlier.params.get("filename") or "")


def submit_import(session, round_id, kind, path, filename, actor=""):
    """Queue the import of an uploaded file kept at ``path`` (firms or applications of round ``round_id``).

    The caller commits, then starts :func:`work`; the file is deleted once the job has read it. The
    file's digest is kept with the job (:func:`refused_before` finds an unchanged refused file).
    """
    round_row = get_round(session, round_id)
    row = db.JobRow(id=uuid.uuid4().hex, kind="import", round_id=round_row.id,
                    params=dict(kind=kind, path=str(path), filename=filename, sha256=file_digest(path)),
                    status="queued", actor=actor or "",
                    heartbeat_at=db._now(), message=dumps(msg("job.importing", file=filename)))
    session.add(row)
    session.flush()
    return _view(row, round_row.name)


def get_job(session, job_id):
    """A job by id; NotFoundError naming it."""
    row = session.get(db.JobRow, str(job_id))
    if row is None:
        raise NotFoundError(msg("job.not_found", job=str(job_id)))
    return _view(row, session.get(db.RoundRow, row.round_id).name)


def jobs_for_round(session, round_id, limit=10, kind=None):
    """The round's latest jobs (of one ``kind``, ``match`` or ``import``, when given), newest first."""
    round_row = get_round(session, round_id)
    stmt = select(db.JobRow).where(db.JobRow.round_id == round_row.id)
    if kind is not None:
        stmt = stmt.where(db.JobRow.kind == kind)
    stmt = stmt.order_by(db.JobRow.created_at.desc()).limit(limit)
    return [_view(row, round_row.name) for row in session.scalars(stmt)]


def cancel_job(session, job_id, actor=""):
    """Ask a queued or running job to stop; a job that already ended is refused with its status."""
    view = get_job(session, job_id)
    if not view.active:
        raise RefusedError(msg("job.not_active", job=str(job_id), status=msg(N_("job.status." + view.status))))
    row = session.get(db.JobRow, view.id)
    row.cancel_requested = True
    if row.status == "queued":
        row.status, row.finished_at, row.message = "cancelled", db._now(), dumps(msg("job.cancelled"))
    db.audit(session, actor, "job.cancel", job=view.id)
    session.flush()
    return get_job(session, job_id)


def retry_job(session, job_id, actor=""):
    """Queue the same run again after it failed, was cancelled or was interrupted; returns ``(JobView, new)``."""
    view = get_job(session, job_id)
    if view.active:
        return view, False
    if view.status == "done":
        raise WrongStateError(msg("job.retry_done", job=view.id, status=view.status))
    if view.kind != "match":
        raise RefusedError(msg("job.retry_import"))
    row = session.get(db.JobRow, view.id)
    if view.status == "interrupted":
        row.status, row.finished_at, row.error = "failed", db._now(), dumps(msg("job.interrupted"))
    p = view.params
    return submit_match(session, view.round_id, p.get("track") or "", p.get("mode", "optimal"),
                        p.get("time_limit"), actor)


# --- the worker --------------------------------------------------------------------------------


class _Beat(threading.Thread):
    """Writes the job's heartbeat every :data:`HEARTBEAT` seconds and notices a cancel request."""

    def __init__(self, url, job_id):
        super().__init__(name=f"beat-{job_id[:8]}", daemon=True)
        self.url, self.job_id = url, job_id
        self.stopped, self.cancelled = threading.Event(), threading.Event()

    def run(self):
        while not self.stopped.wait(HEARTBEAT):
            try:
                with db.transaction(self.url) as s:
                    s.execute(update(db.JobRow).where(db.JobRow.id == self.job_id).values(heartbeat_at=db._now()))
                    if s.scalar(select(db.JobRow.cancel_requested).where(db.JobRow.id == self.job_id)):
                        self.cancelled.set()
            except (OperationalError, db.BusyError):  # the database is busy storing the run: beat again later
                continue


def _set(url, job_id, **values):
    try:
        with db.transaction(url) as s:
            s.execute(update(db.JobRow).where(db.JobRow.id == job_id).values(heartbeat_at=db._now(), **values))
    except (OperationalError, db.BusyError):
        log.warning("job %s: could not record %s", job_id, sorted(values))


def _load(url, round_id, track):
    """The round's input, read without holding a write lock (progress and heartbeats write meanwhile)."""
    session = db.session_factory(url)()
    try:
        return prepare(session, get_round(session, round_id), track)
    finally:
        session.rollback()
        session.close()


def claim(session, job_id):
    """Mark queued job ``job_id`` running for the caller; False when it is no longer queued.

    One conditional UPDATE, so of several workers (threads or processes, on one database) exactly one
    gets the job.
    """
    done = session.execute(update(db.JobRow).where(db.JobRow.id == job_id, db.JobRow.status == "queued")
                           .values(status="running", heartbeat_at=db._now()))
    return done.rowcount == 1


def work(url, job_id, claimed=False):
    """Do queued job ``job_id``: load the round, solve, store the run; every outcome is written to the job.

    ``claimed``: the caller already marked it running (:func:`matcher.rounds.worker.claim_next`).
    """
    beat = _Beat(url, job_id)
    last = [0.0]

    def progress(fraction, message=""):
        if beat.cancelled.is_set():
            raise CancelledError(msg("job.cancelled"))
        now = time.monotonic()
        if now - last[0] >= 0.5 or fraction >= 1.0:
            last[0] = now
            _set(url, job_id, fraction=max(0.0, min(1.0, float(fraction))), message=dumps(message))

    with db.transaction(url) as s:
        if not claimed and not claim(s, job_id):  # cancelled meanwhile, or another worker took it
            return
        row = s.get(db.JobRow, job_id)
        round_id, params, actor, kind = row.round_id, dict(row.params), row.actor, row.kind
    if kind == "import":
        return _work_import(url, job_id, round_id, params, actor)
    beat.start()
    try:
        started = time.perf_counter()
        progress(0.02, msg("job.loading_applications"))
        inp = _load(url, round_id, params.get("track"))
        result = match_round(inp, progress=progress, started=started, **params)
        progress(0.9, msg("job.storing", n=len(result.pairs)))
        with db.transaction(url) as s:
            run = store_run(s, get_round(s, round_id), result, params.get("track"), actor)
            s.execute(update(db.JobRow).where(db.JobRow.id == job_id).values(
                status="done", run_id=run.id, fraction=1.0, finished_at=db._now(),
                message=dumps(msg("job.run_done", run=run.id, status=msg(N_("status." + run.status)),
                                           n=len(result.pairs)))))
    except CancelledError:
        _set(url, job_id, status="cancelled", finished_at=db._now(), message=dumps(msg("job.cancelled")))
    except Exception as exc:  # a worker thread has nobody above it to report to
        _failed(url, job_id, exc)
    finally:
        beat.stopped.set()


def _failed(url, job_id, exc, **values):
    """Write a failed job's error as its message.

    An error the engine raised on purpose says why in its own words. Anything else is logged with its
    traceback and shown plainly: staff read "the database is full", or that the error is in the server's
    log under the job's id — never the SQL statement and its parameters.
    """
    kind = db.trouble(exc)
    if isinstance(exc, MatcherError) and not kind:
        error = exc.msg
    else:
        log.error("job %s failed", job_id, exc_info=exc)
        error = msg(TROUBLE_CODES[kind]) if kind else msg("job.failed_unexpected", job=job_id)
    _set(url, job_id, status="failed", finished_at=db._now(), error=dumps(error), error_ko=error.text("ko"), **values)


TROUBLE_CODES = {"locked": N_("db.locked"), "read_only": N_("db.read_only"), "full": N_("db.full"),
                 "unavailable": N_("db.unavailable")}
"""The message of each kind of :func:`matcher.db.trouble`."""


_IMPORTS = threading.Semaphore(1)
"""One upload is read at a time: the others wait in their own threads, the request threads stay free."""
PROBLEMS_KEPT = 1000


def _work_import(url, job_id, round_id, params, actor):
    from ..errors import ValidationError
    from .activity import import_file
    path = Path(params["path"])
    beat = _Beat(url, job_id)
    beat.start()
    try:
        with _IMPORTS:
            _set(url, job_id, message=dumps(msg("job.importing", file=params.get("filename", ""))), fraction=0.1)
            with db.transaction(url) as s:
                result = import_file(s, round_id, params["kind"], path, params.get("filename"), actor)
                s.execute(update(db.JobRow).where(db.JobRow.id == job_id).values(
                    status="done", fraction=1.0, finished_at=db._now(), message=str(result),
                    result=dict(kind=result.kind, inserted=result.inserted, updated=result.updated,
                                unchanged=result.unchanged, rejected=result.rejected,
                                notes=[n.to_json() for n in result.notes[:PROBLEMS_KEPT]],
                                sheet_note=result.sheet_note.to_json() if result.sheet_note else None)))
        store_search_index(url)
    except ValidationError as exc:
        _failed(url, job_id, exc, fraction=1.0,
                result=dict(problems=[p.to_json() for p in exc.problems[:PROBLEMS_KEPT]], count=len(exc.problems)))
        _audit_refused(url, round_id, params, actor, len(exc.problems))
    except Exception as exc:  # a worker thread has nobody above it to report to
        _failed(url, job_id, exc, fraction=1.0)
        _audit_refused(url, round_id, params, actor, None)
    finally:
        beat.stopped.set()
        path.unlink(missing_ok=True)


def _audit_refused(url, round_id, params, actor, problems):
    """The audit log's entry for an upload that stored nothing (``problems``: how many; None: it failed)."""
    try:
        with db.transaction(url) as s:
            db.audit(s, actor, "import.refused", round=get_round(s, round_id).name, kind=params.get("kind", ""),
                     file=params.get("filename") or "", problems=problems)
    except (OperationalError, db.BusyError):
        log.warning("could not log the refused import of %s", params.get("filename"))


def store_search_index(url):
    """Store the directory's search index in step with the data (an import's last step, the server's start):
    the public pages only read it (:func:`matcher.directory.store_current`). A failure is logged only."""
    from ..directory import store_current
    try:
        with db.transaction(url) as s:
            store_current(s)
    except Exception as exc:  # the data is stored; the pages build the index in memory meanwhile
        kind = db.trouble(exc)
        log.warning("the search index could not be stored (%s)", kind or exc, exc_info=None if kind else exc)


def problem_json(problem):
    """A :class:`~matcher.errors.Problem` for a job's JSON result: a coded reason kept as its code and
    parameters (:meth:`matcher.messages.Msg.to_json`), to be rendered in the reader's language."""
    return problem.to_json()


UPLOAD_GRACE = 60.0
"""Seconds a file in the upload folder may wait for its job row (saved, not yet committed) before a sweep
may take it for an orphan."""


def sweep_uploads(url, folder, grace=UPLOAD_GRACE):
    """Remove the files in ``folder`` that no queued or running import will read; returns their paths.

    An upload's file is deleted when its job ends (done, failed or refused); a server killed during an
    import (``kill -9``, a crash, a power cut) leaves it behind. Run at start-up and by the worker: a file
    older than ``grace`` seconds that no active import job names is such an orphan (a job whose worker
    died reads as interrupted, and nobody will read its file either).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    session = db.session_factory(url)()
    try:
        rows = session.scalars(select(db.JobRow).where(db.JobRow.kind == "import", db.JobRow.status.in_(ACTIVE)))
        wanted = {Path(row.params.get("path") or "").name for row in rows if _view(row, "").active}
    finally:
        session.close()
    cutoff, removed = time.time() - grace, []
    for path in folder.iterdir():
        try:
            if path.is_file() and path.name not in wanted and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # another process swept it first
            continue
    if removed:
        log.warning("removed %d upload file(s) no job will read from %s", len(removed), folder)
    return removed


def start_in_thread(url, job_id):
    """Run :func:`work` in a daemon thread of this process (the web server's way)."""
    worker = threading.Thread(target=work, args=(url, job_id), name=f"match-{job_id[:8]}", daemon=True)
    worker.start()
    return worker
