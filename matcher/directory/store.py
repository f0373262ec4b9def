"""The stored search index: in the database (two tables), versioned with the data it was built from.

``search_indexes`` holds one row per stored index (data version, format, text method, counts,
build time); ``search_index_chunks`` its pickled :class:`~matcher.directory.index.SearchIndex`
in chunks of :data:`CHUNK_BYTES` (SQLite and PostgreSQL alike). The tables are
:class:`matcher.db.SearchIndexRow` and :class:`matcher.db.SearchIndexChunkRow` (migration 0005).

:func:`current_index` is what a query calls: it compares the database's data version (counts,
largest ids and last change of firms, certificates and applications: a handful of aggregates)
with the index in memory, then with the stored one; when the data changed since, the stored
model *transforms* the new data (nothing is re-fitted). Only a database without any index fits the
text model; ``matcher index build`` does that on purpose.

A read never writes: :func:`current_index` keeps what it built in this process's memory only (the
last stored index's model transforms the new data; with no stored index at all it is fitted). The
writers store it: an import job once it has committed, the server at start-up in the background and
``matcher index build`` — all through :func:`store_current`. So a public page on a full or read-only
disk still answers, and no GET leaves 30 MB behind.
"""

from __future__ import annotations

import pickle
import threading
import time

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .. import db
from ..errors import MatcherError
from ..messages import msg
from ..scoring import default_text_method
from .index import APP_COLUMNS, CERT_COLUMNS, FIRM_COLUMNS, FORMAT, build_index

CHUNK_BYTES = 32 * 1024 * 1024
RECHECK_SECONDS = 2.0
"""How often a background thread asks the database for its data version (changes made by other
processes); a change this process commits is seen at once."""
_CACHE = {}
_CHECKED = {}
_LOCKS = {}
_LOCKS_GUARD = threading.Lock()
WATCHED = tuple(row.__tablename__ for row in (db.FirmRow, db.CertificateRow, db.ApplicationRow))
"""The tables an index is built from: a commit of this process that changes one is seen at once
(:func:`matcher.db.commits`)."""


SearchIndexRow, SearchIndexChunkRow = db.SearchIndexRow, db.SearchIndexChunkRow
def data_version(session, method=None):
    """The version of the data an index is built from: a short string that changes on every import.

    Firms (count, largest id, last ``updated_at``), certificates (count, largest id: an import
    replaces a firm's certificates), applications (count, largest id, total text length: an
    import updates texts in place), the index format and the text method.
    """
    f = db.FirmRow
    c = db.CertificateRow
    a = db.ApplicationRow
    # One aggregate a statement: SQLite answers a lone max() of an indexed column from the index and a
    # lone count() from the smallest index, but scans the whole table for several together (at 500k
    # firms 340 ms against 85 ms; the check runs every RECHECK_SECONDS in a running server).
    one = session.scalar
    firms = (one(select(func.count()).select_from(f)), one(select(func.max(f.id))), one(select(func.max(f.updated_at))))
    certs = (one(select(func.count()).select_from(c)), one(select(func.max(c.id))))
    apps = (one(select(func.count()).select_from(a)), one(select(func.max(a.id))),
            one(select(func.sum(func.length(a.text) + func.length(a.product_code)))))
    stamp = str(firms[2]) if firms[2] is not None else "-"
    return (f"v{FORMAT}:{method or default_text_method()}:f{firms[0]}/{firms[1]}/{stamp}:c{certs[0]}/{certs[1]}:"
            f"a{apps[0]}/{apps[1]}/{apps[2]}")


def load_frames(session):
    """Firms, certificates and applications as plain frames (see :func:`~.index.build_index`)."""
    f, c, a = db.FirmRow.__table__, db.CertificateRow.__table__, db.ApplicationRow.__table__
    firms = pd.DataFrame(session.execute(select(*[f.c[n] for n in FIRM_COLUMNS])).all(), columns=FIRM_COLUMNS)
    certs = pd.DataFrame(session.execute(select(*[c.c[n] for n in CERT_COLUMNS])).all(), columns=CERT_COLUMNS)
    apps = pd.DataFrame(session.execute(select(*[a.c[n] for n in APP_COLUMNS])).all(), columns=APP_COLUMNS)
    for column in ("ksic_codes", "g2b_codes", "licences"):
        firms[column] = [v or [] for v in firms[column]]
    return firms, certs, apps


def build(session, method=None, model=None):
    """Build the index of the database in ``session`` (fit the text model unless ``model`` is given)."""
    version = data_version(session, method)
    frames = load_frames(session)
    return build_index(*frames, version=version, method=method or default_text_method(), model=model)


def save(session, index, seconds=0.0, fitted="fit"):
    """Store ``index``, replacing any older one.

    When ``session`` has already written in its transaction, the rows go into that transaction (a
    second connection would wait for its lock) and are committed with it; otherwise they are
    committed at once in a transaction of their own (a read-only web request rolls its session back).
    """
    payload = pickle.dumps(index, protocol=5)
    if db.wrote(session):
        _write(session, index, payload, seconds, fitted)
        return
    with Session(session.get_bind()) as s, s.begin():
        _write(s, index, payload, seconds, fitted)


def _write(s, index, payload, seconds, fitted):
    row = SearchIndexRow(version=index.version, format=index.format, method=index.method, firms=index.n_firms,
                         applications=len(index.app_id), size_bytes=len(payload), seconds=seconds, fitted=fitted)
    s.add(row)
    s.flush()
    for seq, start in enumerate(range(0, max(len(payload), 1), CHUNK_BYTES)):
        s.add(SearchIndexChunkRow(index_id=row.id, seq=seq, data=payload[start:start + CHUNK_BYTES]))
    s.flush()
    s.execute(delete(SearchIndexChunkRow).where(SearchIndexChunkRow.index_id != row.id))
    s.execute(delete(SearchIndexRow).where(SearchIndexRow.id != row.id))
    return row.id


def stored_info(session):
    """The stored index's row (version, counts, build time), or None.

    Read through ``session`` itself: on SQLite a second connection could wait forever on a writer
    that waits for this session's own read lock.
    """
    return session.scalars(select(SearchIndexRow).order_by(SearchIndexRow.id.desc())).first()


def load(session, row_id):
    """The stored :class:`~.index.SearchIndex` with row id ``row_id`` (read through ``session``)."""
    chunks = session.scalars(select(SearchIndexChunkRow.data).where(SearchIndexChunkRow.index_id == row_id)
                             .order_by(SearchIndexChunkRow.seq)).all()
    try:
        return pickle.loads(b"".join(chunks))
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise MatcherError(msg("directory.index_unreadable", index=row_id, why=str(exc),
                               command="matcher index build")) from None


def build_and_save(session, method=None):
    """``matcher index build``: fit the text model on the whole directory, store it; returns (index, seconds)."""
    start = time.perf_counter()
    index = build(session, method)
    seconds = time.perf_counter() - start
    save(session, index, seconds, "fit")
    _CACHE[_key(session)] = index
    return index, seconds


def _key(session):
    return session.get_bind().url.render_as_string(hide_password=False)


def _lock(key):
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def store_current(session):
    """Bring the stored index in step with the database (transform with the stored model, or fit when
    there is none) and store it; the writers' call (see the module docstring). Returns the index."""
    key = _key(session)
    return _refresh(session, key, (db.commits(session.get_bind(), WATCHED), time.monotonic()), write=True)


def current_index(session):
    """The search index in step with the database of ``session`` (see the module docstring).

    After this process committed a change to firms, certificates or applications, the data version
    is compared at once. Otherwise the index in memory answers, and at most every
    :data:`RECHECK_SECONDS` a background thread compares the version (changes made by another
    process, such as ``matcher import`` beside a running server) and swaps in the updated index,
    so no request waits for the check.
    """
    key = _key(session)
    cached = _CACHE.get(key)
    stamp = (db.commits(session.get_bind(), WATCHED), time.monotonic())
    last = _CHECKED.get(key)
    if cached is not None and last is not None and last[0] == stamp[0]:
        if stamp[1] - last[1] >= RECHECK_SECONDS:
            _CHECKED[key] = (stamp[0], stamp[1])  # one background check per period
            _check_later(session.get_bind(), key, stamp[0])
        return cached
    return _refresh(session, key, stamp)


def _refresh(session, key, stamp, write=False):
    version = data_version(session)
    cached = _CACHE.get(key)
    if cached is not None and cached.version == version and not write:
        _CHECKED[key] = stamp
        return cached
    with _lock(key):
        cached = _CACHE.get(key)
        info = stored_info(session)
        if cached is not None and cached.version == version:
            if write and (info is None or info.version != version):  # built in memory by a read: store it
                save(session, cached, 0.0, "transform" if info is not None else "fit")
            return cached
        usable = info is not None and info.format == FORMAT and info.method == default_text_method()
        stored = load(session, info.id) if usable and (cached is None or cached.version != info.version) else cached
        if usable and stored is not None and stored.version == version:
            index = stored
        elif stored is not None and getattr(stored, "format", None) == FORMAT:
            start = time.perf_counter()
            index = build(session, model=stored.model)  # new data, the stored model: transform only
            _save_if(write, session, index, time.perf_counter() - start, "transform")
        else:
            start = time.perf_counter()
            index = build(session)
            _save_if(write, session, index, time.perf_counter() - start, "fit")
        _CACHE[key] = index
        _CHECKED[key] = stamp
        return index


def _save_if(write, session, index, seconds, fitted):
    if write or session.info.get("directory_wrote"):  # a writer, or a transaction that already writes
        save(session, index, seconds, fitted)
    else:
        import logging
        logging.getLogger(__name__).info("search index %s built in memory (%.1f s), not stored: reads never "
                                         "write; an import, the server's start or `matcher index build` "
                                         "stores it", fitted, seconds)


def _check_later(bind, key, generation):
    """Compare the data version in a background thread and refresh the index in memory when it changed."""
    def check():
        try:
            with Session(bind) as s:
                _refresh(s, key, (generation, time.monotonic()))
        except Exception:  # noqa: BLE001 - a failed background check leaves the index as it was
            _CHECKED.pop(key, None)  # the next query checks again, in the request
    worker = threading.Thread(target=check, name="directory-index-check", daemon=True)
    _PENDING.append(worker)
    worker.start()


_PENDING = []
"""Background checks started by :func:`_check_later` (so a caller about to close the database can wait)."""


def join_checks(timeout=10.0):
    """Wait for the background checks still running (before the database they read is closed)."""
    while _PENDING:
        _PENDING.pop().join(timeout)


def forget(session=None):
    """Drop the in-memory copies (all, or the one of ``session``'s database)."""
    if session is None:
        _CACHE.clear()
        _CHECKED.clear()
    else:
        _CACHE.pop(_key(session), None)
        _CHECKED.pop(_key(session), None)
