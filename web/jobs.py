"""Starting background work: the job itself lives in the database (:mod:`matcher.rounds.jobs`).

``JOB_RUNNER`` (``$MATCHER_JOBS``): ``thread`` (the default) lends the job a thread of this server;
``worker`` leaves it queued for ``matcher worker`` (:mod:`matcher.rounds.worker`), another process.
"""

from __future__ import annotations

import time

from flask import current_app

from sqlalchemy import select

from matcher import db
from matcher.rounds.jobs import ACTIVE, start_in_thread


def start(job):
    """Give a newly queued job a worker thread in this server, or leave it to the worker processes.

    Returns something to ``join(timeout)``: the thread, or a waiter that watches the job in the database.
    """
    url = current_app.config["DATABASE_URL"]
    if current_app.config.get("JOB_RUNNER") == "worker":
        return _Waiter(url, job.id)
    return start_in_thread(url, job.id)


class _Waiter:
    """``join(timeout)`` until a job another process does has ended (or the timeout passed)."""

    def __init__(self, url, job_id):
        self.url, self.job_id = url, job_id

    def join(self, timeout=None):
        deadline = time.monotonic() + (timeout or 0)
        while time.monotonic() < deadline:
            with db.transaction(self.url) as s:
                status = s.scalar(select(db.JobRow.status).where(db.JobRow.id == self.job_id))
            if status not in ACTIVE:
                return
            time.sleep(0.1)
