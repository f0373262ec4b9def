"""``python -m web [--port 5000] [--host 127.0.0.1]``: create the schema, make sure the demo staff
account exists (printing its password), and serve the app with waitress."""

from __future__ import annotations

import argparse
import gc
import os

from matcher import db
from matcher.users import ensure_user

from . import create_app

STAFF_USERNAME = "staff"


def main(argv=None):
    """Parse the command line, prepare the staff account and serve with waitress."""
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    app = create_app()
    announce_staff(app.config["DATABASE_URL"], os.environ.get("MATCHER_STAFF_PASSWORD"))
    from waitress import serve
    print(f"serving on http://{args.host}:{args.port}  (database: {app.config['DATABASE_URL']})", flush=True)
    # Everything loaded so far (modules, templates, the app) lives as long as the server: leave it out of
    # the collector's full passes, which a page's thousands of short-lived objects keep triggering.
    gc.freeze()
    serve(app, host=args.host, port=args.port, threads=args.threads)


def announce_staff(database_url, password=None):
    """Create the ``staff`` account when missing and print its password once.

    A password given (``MATCHER_STAFF_PASSWORD``) is never printed: whoever set it knows it, and a console
    log should not keep it.
    """
    with db.transaction(database_url) as session:
        created = ensure_user(session, STAFF_USERNAME, password)
    if created and not password:
        print(f"staff login: username {STAFF_USERNAME!r}, password {created!r}", flush=True)
    elif created:
        print(f"staff login: username {STAFF_USERNAME!r}, password from MATCHER_STAFF_PASSWORD", flush=True)
    else:
        print(f"staff login: username {STAFF_USERNAME!r} (existing account; set MATCHER_STAFF_PASSWORD "
              "to reset its password)", flush=True)


if __name__ == "__main__":
    main()
