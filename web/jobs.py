"""Starting background runs: the job itself lives in the database (:mod:`matcher.rounds.jobs`);
this process only lends it a thread."""

from __future__ import annotations

from flask import current_app

from matcher.rounds.jobs import start_in_thread


def start(job):
    """Give a newly queued job a worker thread in this server."""
    return start_in_thread(current_app.config["DATABASE_URL"], job.id)
