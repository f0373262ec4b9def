"""``python -m web [--port 5000] [--host 127.0.0.1]``: create the schema, make sure the demo staff
account exists (printing its password), remove uploads no job will read, and serve the app with waitress.

Waitress is set for clients that misbehave (see ``docs/operations.md``): at most ``MATCHER_CONNECTION_LIMIT``
connections (500), an idle or half-sent connection closed after ``MATCHER_CHANNEL_TIMEOUT`` seconds (30),
checked every ``MATCHER_CLEANUP_INTERVAL`` seconds (5), a request body no larger than an upload may be,
``poll()`` instead of ``select()`` (no 1,024-descriptor ceiling). Behind a reverse proxy,
``MATCHER_TRUSTED_PROXY`` (its address) makes waitress take the client's address and scheme from its
``X-Forwarded-*`` headers, and from nobody else.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import threading

from matcher import db
from matcher.cli.options import cli_lang
from matcher.errors import MatcherError
from matcher.messages import msg
from matcher.users import ensure_user

from . import UPLOAD_LIMIT, create_app

STAFF_USERNAME = "staff"

SERVER_SETTINGS = {  # waitress setting: (environment variable, type, default)
    "threads": ("MATCHER_THREADS", int, 4),
    "connection_limit": ("MATCHER_CONNECTION_LIMIT", int, 500),
    "channel_timeout": ("MATCHER_CHANNEL_TIMEOUT", int, 30),
    "cleanup_interval": ("MATCHER_CLEANUP_INTERVAL", int, 5),
}
"""Waitress's own defaults (100 connections, 120 s) let 101 sockets that never finish a request stop the server."""
PROXY_HEADERS = "x-forwarded-for x-forwarded-proto x-forwarded-host x-forwarded-port"


def server_settings(environ=None, threads=None):
    """The keyword arguments for :func:`waitress.serve`, from the environment (see the module's docstring).

    Raises
    ------
    MatcherError
        A setting that is not a positive whole number, naming its variable.

    Examples
    --------
    >>> server_settings({})["channel_timeout"], server_settings({"MATCHER_CONNECTION_LIMIT": "50"})["connection_limit"]
    (30, 50)
    """
    environ = os.environ if environ is None else environ
    out = dict(asyncore_use_poll=True, max_request_body_size=UPLOAD_LIMIT + 1024 * 1024)
    for name, (variable, kind, default) in SERVER_SETTINGS.items():
        text = environ.get(variable, "").strip()
        try:
            value = kind(text) if text else default
        except ValueError:
            value = 0
        if value < 1:
            raise MatcherError(str(msg("http.bad_setting", variable=variable, value=text)))
        out[name] = value
    if threads:
        out["threads"] = threads
    proxy = environ.get("MATCHER_TRUSTED_PROXY", "").strip()
    if proxy:
        out.update(trusted_proxy=proxy, trusted_proxy_headers=PROXY_HEADERS, clear_untrusted_proxy_headers=True)
    return out


def main(argv=None):
    """Parse the command line, prepare the staff account and serve with waitress."""
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=None, help="request threads (MATCHER_THREADS, 4)")
    args = parser.parse_args(argv)
    try:
        settings = server_settings(threads=args.threads)
        app = create_app()
    except MatcherError as exc:
        sys.exit(f"python -m web: {exc}")
    url = app.config["DATABASE_URL"]
    prepare(app, url)
    _allow_descriptors(settings["connection_limit"] + 64)
    from waitress import serve
    print(f"serving on http://{args.host}:{args.port}  (database: {db._shown(url)})", flush=True)
    # Everything loaded so far (modules, templates, the app) lives as long as the server: leave it out of
    # the collector's full passes, which a page's thousands of short-lived objects keep triggering.
    gc.freeze()
    serve(app, host=args.host, port=args.port, **settings)


def prepare(app, url):
    """The start-up writes: the search index (in the background), the staff account and the upload folder's
    orphans. A database that cannot take
    them (read-only, full, locked) is explained in both languages, and the server starts anyway: pages that
    only read work, and every change answers 503 saying why."""
    from matcher.rounds.jobs import store_search_index, sweep_uploads

    from .errors import TROUBLE_CODES
    from .rounds import upload_folder
    threading.Thread(target=store_search_index, args=(url,), name="search-index", daemon=True).start()
    try:
        announce_staff(url, os.environ.get("MATCHER_STAFF_PASSWORD"))
        sweep_uploads(url, upload_folder(app))
    except Exception as exc:
        kind = db.trouble(exc)
        if kind is None:
            raise
        for lang in ("ko", "en"):
            print(msg("db.start_unwritable", trouble=msg(TROUBLE_CODES[kind])).text(lang), file=sys.stderr, flush=True)


def _allow_descriptors(wanted):
    """Raise this process's open-file limit (soft, up to the hard one) so the connection limit can be reached."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard) if hard != resource.RLIM_INFINITY
                                                    else wanted, hard))


def announce_staff(database_url, password=None):
    """Create the ``staff`` account when missing and print its password once.

    A password given (``MATCHER_STAFF_PASSWORD``) is never printed: whoever set it knows it, and a console
    log should not keep it.
    """
    with db.transaction(database_url) as session:
        created = ensure_user(session, STAFF_USERNAME, password)
    lang = cli_lang()
    how = dict(user=STAFF_USERNAME, reset=f".venv/bin/matcher user password {STAFF_USERNAME}",
               variable="MATCHER_STAFF_PASSWORD")
    if created and not password:
        print(msg("staff.login_created", password=created, **how).text(lang), flush=True)
    elif created:
        print(f"staff login: username {STAFF_USERNAME!r}, password from MATCHER_STAFF_PASSWORD", flush=True)
    else:
        print(msg("staff.login_existing", **how).text(lang), flush=True)


if __name__ == "__main__":
    main()
