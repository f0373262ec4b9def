"""``matcher worker``: the job runner in its own process (:mod:`matcher.rounds.worker`)."""

import logging
from pathlib import Path

import click

from .. import db
from ..paths import instance_dir


@click.command("worker")
@click.option("--once", is_flag=True, help="Do the queued jobs, then stop (default: wait for more).")
@click.option("--poll", default=1.0, show_default=True, help="Seconds between looks at an empty queue.")
@click.option("--uploads", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The upload folder to sweep (default: instance/uploads).")
@click.option("--database-url", envvar="DATABASE_URL")
def worker_command(once, poll, uploads, database_url):
    """Take queued runs and imports from the database and do them (beside `python -m web` with MATCHER_JOBS=worker).

    Several workers and web servers may share one database: each job is done by exactly one worker.
    """
    from ..rounds.worker import run
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    url = db.database_url(database_url)
    db.init_db(url)
    click.echo(f"worker on {db._shown(url)}", err=True)
    try:
        done = run(url, poll=poll, once=once, uploads=uploads or instance_dir() / "uploads")
    except KeyboardInterrupt:
        return
    click.echo(f"{done} job(s) done", err=True)


COMMANDS = [worker_command]
