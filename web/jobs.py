"""Batch matching in a background thread, with progress kept server-side so a reload shows it.

A job is one call of :func:`matcher.matching.run_match`; its progress callback updates the job, and
the pages poll ``/staff/jobs/<id>.json``. Jobs live in this process's memory; the run they produce is
stored in the database like any other.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

from flask import has_request_context

from matcher import db
from matcher.errors import MatcherError
from matcher.matching import run_match

from .i18n import job_message

log = logging.getLogger(__name__)


@dataclass
class Job:
    """Progress of one background matching run."""

    id: str
    round_id: int
    round_name: str
    track: str | None
    actor: str
    status: str = "running"  # running / done / failed
    fraction: float = 0.0
    message: str = ""
    run_id: int | None = None
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self):
        """The job as JSON; within a request the progress message is in the page's language."""
        out = asdict(self)
        if has_request_context():
            out["message"] = job_message(self.message)
        return out


_jobs = {}
_lock = threading.Lock()


def start_run(database_url, round_row, actor, track=None, mode="optimal", time_limit=None):
    """Start :func:`run_match` for ``round_row`` in a daemon thread; returns the :class:`Job`."""
    job = Job(id=uuid.uuid4().hex[:12], round_id=round_row.id, round_name=round_row.name,
              track=track or None, actor=actor)
    with _lock:
        _jobs[job.id] = job
    worker = threading.Thread(target=_work, args=(database_url, job, mode, time_limit),
                              name=f"match-{job.id}", daemon=True)
    worker.start()
    return job


def get_job(job_id):
    """The job with this id, or None."""
    with _lock:
        return _jobs.get(job_id)


def jobs_for_round(round_id):
    """This process's jobs of one round, newest first."""
    with _lock:
        found = [j for j in _jobs.values() if j.round_id == round_id]
    return sorted(found, key=lambda j: j.started, reverse=True)


def _work(database_url, job, mode, time_limit):
    def progress(fraction, message=""):
        with _lock:
            job.fraction = max(0.0, min(1.0, float(fraction)))
            job.message = str(message)

    try:
        with db.transaction(database_url) as session:
            run_id = run_match(session, job.round_name, track=job.track, mode=mode, time_limit=time_limit,
                               actor=job.actor, progress=progress)
        _finish(job, "done", run_id=run_id)
    except MatcherError as exc:
        _finish(job, "failed", error=str(exc))
    except Exception as exc:  # a thread has nobody above it to report to
        log.exception("match job %s failed", job.id)
        _finish(job, "failed", error=f"unexpected error: {exc.__class__.__name__}: {exc}")


def _finish(job, status, run_id=None, error=""):
    with _lock:
        job.status, job.run_id, job.error = status, run_id, error
        job.fraction = 1.0 if status == "done" else job.fraction
        job.finished = time.time()
