"""The request's database session: opened on first use, rolled back and closed after the request.

Views that change something call ``db_session().commit()`` themselves, so a request that fails half
way (a refused upload, say) stores nothing.
"""

from flask import current_app, g

from matcher import db


def db_session():
    """The SQLAlchemy session of this request."""
    if "db_session" not in g:
        g.db_session = db.session_factory(current_app.config["DATABASE_URL"])()  # made once per engine
    return g.db_session


def _close(_exc=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # ends the transaction (rolled back) without expiring every object first


def init_app(app):
    """Close the request session when the app context ends."""
    app.teardown_appcontext(_close)
