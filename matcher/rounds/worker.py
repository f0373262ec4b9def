"""The job runner in its own process: ``matcher worker`` takes queued jobs from the database and does them.

The web server queues a run or an import (:mod:`matcher.rounds.jobs`) and, with ``MATCHER_JOBS=worker``,
leaves it there: heavy work then runs outside the request threads and outside the web process's GIL. Any
number of web and worker processes can share one database. A worker claims the oldest queued job in one
transaction — ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never wait on each other's
row; SQLite takes its write lock for the claim (``BEGIN IMMEDIATE``) — and the claim is a conditional
``UPDATE … WHERE status = 'queued'``, so exactly one worker gets each job.

While a worker lives it keeps the queued jobs' heartbeat fresh: a job queued with no worker running reads
as *interrupted* after :data:`~matcher.rounds.jobs.STALE_AFTER` seconds, which is what it is. It also
sweeps upload files no job will read (:func:`~matcher.rounds.jobs.sweep_uploads`).
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import select, update

from .. import db
from .jobs import HEARTBEAT, claim, sweep_uploads, work

log = logging.getLogger(__name__)

SWEEP_EVERY = 300.0
"""Seconds between two sweeps of the upload folder."""


def claim_next(url):
    """Claim the oldest queued job for this process (now ``running``); its id, or None when none waits."""
    with db.transaction(url, immediate=True) as s:
        stmt = (select(db.JobRow.id).where(db.JobRow.status == "queued").order_by(db.JobRow.created_at)
                .limit(1).with_for_update(skip_locked=True))
        job_id = s.scalar(stmt)
        if job_id is None or not claim(s, job_id):
            return None
        return job_id


def keep_queued_alive(url):
    """Refresh the heartbeat of every queued job: a worker is alive to take them."""
    with db.transaction(url) as s:
        s.execute(update(db.JobRow).where(db.JobRow.status == "queued").values(heartbeat_at=db._now()))


def run(url, poll=1.0, once=False, uploads=None, stop=None):
    """Take and do queued jobs until ``stop`` is set (or, with ``once``, until none is queued).

    Parameters
    ----------
    url : str
        The database.
    poll : float
        Seconds to wait when no job is queued.
    once : bool
        Return when the queue is empty (tests, cron).
    uploads : path, optional
        The upload folder to sweep every :data:`SWEEP_EVERY` seconds.
    stop : threading.Event, optional

    Returns
    -------
    int
        How many jobs this worker did.
    """
    stop = stop or threading.Event()
    alive = threading.Thread(target=_keep_alive, args=(url, stop), name="queued-heartbeat", daemon=True)
    alive.start()
    done, swept = 0, 0.0
    try:
        while not stop.is_set():
            if uploads is not None and time.monotonic() - swept > SWEEP_EVERY:
                swept = time.monotonic()
                sweep_uploads(url, uploads)
            job_id = _next(url)
            if job_id is None:
                if once:
                    break
                stop.wait(poll)
                continue
            log.info("job %s: started", job_id)
            work(url, job_id, claimed=True)
            done += 1
    finally:
        stop.set()
    return done


def _next(url):
    try:
        return claim_next(url)
    except Exception as exc:  # the database away for a moment: try again at the next poll
        if db.trouble(exc) is None:
            raise
        log.warning("cannot claim a job (%s); trying again", db.trouble(exc))
        return None


def _keep_alive(url, stop):
    while not stop.wait(HEARTBEAT):
        try:
            keep_queued_alive(url)
        except Exception as exc:  # noqa: BLE001 - a busy database: beat again later
            log.debug("queued heartbeat skipped: %s", exc)
