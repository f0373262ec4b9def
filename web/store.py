"""The request's database session: opened on first use, rolled back and closed after the request.

Views that change something call ``db_session().commit()`` themselves, so a request that fails half
way (a refused upload, say) stores nothing.
"""

from flask import current_app, g

from matcher import db


def db_session():
    """The SQLAlchemy session of this request."""
    if "db_session" not in g:
        g.db_session = _factory(current_app.config["DATABASE_URL"])()
    return g.db_session


_FACTORIES = {}


def _factory(url):
    """The session factory of ``url``'s engine, made once per engine: each ``sessionmaker`` is a new
    Session class, for which SQLAlchemy sets up its event dispatch again on first use."""
    engine = db.get_engine(url)
    found = _FACTORIES.get(url)
    if found is None or found.kw.get("bind") is not engine:
        found = _FACTORIES[url] = db.session_factory(url)
    return found


def _close(_exc=None):
    session = g.pop("db_session", None)
    if session is not None:
        session.close()  # ends the transaction (rolled back) without expiring every object first


def init_app(app):
    """Close the request session when the app context ends."""
    app.teardown_appcontext(_close)
