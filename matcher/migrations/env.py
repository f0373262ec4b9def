"""Alembic environment: run by :func:`matcher.db.upgrade` (and ``alembic`` itself, given a URL).

The connection comes from ``config.attributes["connection"]`` when :mod:`matcher.db` drives the
upgrade; otherwise from ``sqlalchemy.url`` in the config, then ``$DATABASE_URL``. SQLite gets batch mode so
that later revisions can alter columns (SQLite cannot ``ALTER COLUMN``).
"""

from alembic import context
from sqlalchemy import create_engine

from matcher import db

config = context.config
target_metadata = db.Base.metadata


def _configure(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or db.database_url()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _configure(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url") or db.database_url(),
                      target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
