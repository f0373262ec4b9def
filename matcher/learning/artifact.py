"""Scoring models as files: plain JSON of coefficients with their metadata, signed, versioned.

A model is ``scoring-v<N>.json`` in the models folder (:func:`models_dir`: ``$MATCHER_MODELS``, else
``models/`` in the instance folder). Nothing is unpickled: the file is JSON, and it carries an HMAC-SHA256
of its canonical form keyed by the folder's ``.signing-key`` (made at the first save, readable by its owner
only), so an edited or foreign file is refused when it is read. Which model scores the runs is the
latest row of ``model_choices`` (``matcher model use VERSION`` or ``use hand``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from .. import db
from ..errors import NotFoundError, RefusedError
from ..paths import instance_dir
from ..scoring import COMPONENTS, check_weights
from ..messages import msg
from .messages import error

FORMAT = "matcher-scoring-model"
FORMAT_VERSION = 1
HAND = "hand"
_NAME = re.compile(r"^scoring-(v\d+)\.json$")
_VERSION = re.compile(r"^v\d+$")


def models_dir():
    """The models folder (not created here)."""
    return Path(os.environ["MATCHER_MODELS"]) if os.environ.get("MATCHER_MODELS") else instance_dir() / "models"


def _key(folder, create=False):
    path = Path(folder) / ".signing-key"
    if not path.exists():
        if not create:
            return None
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def _canonical(payload):
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _signature(key, payload):
    return "hmac-sha256:" + hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def versions(folder=None):
    """The versions saved in the folder, oldest first (``["v1", "v2", …]``)."""
    folder = Path(folder or models_dir())
    found = [m.group(1) for p in folder.glob("scoring-v*.json") if (m := _NAME.match(p.name))]
    return sorted(found, key=lambda v: int(v[1:]))


def save(payload, folder=None):
    """Write ``payload`` as the next version, signed; returns the version (``"v3"``).

    ``payload`` holds ``weights`` (``{"default": {...} or None, "tracks": {...}}``) and any metadata; the
    version, format and signature are added here.
    """
    folder = Path(folder or models_dir())
    key = _key(folder, create=True)
    existing = versions(folder)
    version = f"v{int(existing[-1][1:]) + 1 if existing else 1}"
    body = dict(payload, format=FORMAT, format_version=FORMAT_VERSION, version=version,
                saved_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    body["signature"] = _signature(key, body)
    path = folder / f"scoring-{version}.json"
    with open(path, "x", encoding="utf-8") as handle:  # never overwrite a version
        json.dump(body, handle, ensure_ascii=False, indent=1, sort_keys=True)
    return version


def load(version, folder=None):
    """The model ``version``, its signature checked.

    Raises
    ------
    NotFoundError
        No such version (``model.unknown``).
    RefusedError
        The file was changed after it was saved, or was signed by another install (``model.tampered``),
        or is not a scoring model of this format (``model.bad_file``).
    """
    folder = Path(folder or models_dir())
    version = str(version).strip()
    path = folder / f"scoring-{version}.json"
    if not _VERSION.match(version) or not path.is_file():
        raise error(NotFoundError, msg("model.unknown", version=version, known=versions(folder) or ["—"]))
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        signature = body.pop("signature")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise error(RefusedError, msg("model.bad_file", file=path.name)) from None
    key = _key(folder)
    if key is None or not hmac.compare_digest(str(signature), _signature(key, body)):
        raise error(RefusedError, msg("model.tampered", file=path.name))
    if body.get("format") != FORMAT or body.get("version") != version:
        raise error(RefusedError, msg("model.bad_file", file=path.name))
    _check_weights(body, path)
    return body


def _check_weights(body, path):
    weights = body.get("weights") or {}
    tables = ([weights["default"]] if weights.get("default") else []) + list((weights.get("tracks") or {}).values())
    for table in tables:
        if set(table) != set(COMPONENTS):
            raise error(RefusedError, msg("model.bad_file", file=path.name))
        check_weights(table, source=str(path))


def track_weights(body, track):
    """The weights the model gives ``track`` (its own, else its default), or None (hand weights)."""
    weights = body.get("weights") or {}
    return (weights.get("tracks") or {}).get(track) or weights.get("default") or None


# --- which model scores the runs --------------------------------------------------------------------


def in_use(session):
    """The version staff chose (``"hand"`` when none was chosen or hand weights were chosen last)."""
    row = session.scalars(select(db.ModelChoiceRow).order_by(db.ModelChoiceRow.id.desc()).limit(1)).first()
    return row.version if row is not None else HAND


def choose(session, version, actor="", folder=None, check=None):
    """Make ``version`` (or ``"hand"``) score the next runs (the caller commits).

    ``check(body)`` may refuse the model (raise); the CLI passes the "better beyond noise" test.
    Returns the version chosen.
    """
    version = str(version).strip()
    if version != HAND:
        body = load(version, folder)
        if check is not None:
            check(body)
    session.add(db.ModelChoiceRow(version=version, chosen_by=actor or ""))
    db.audit(session, actor, "model.use", version=version)
    return version


def weights_in_use(session, tracks, folder=None):
    """``(version, {track: weights or None})`` for the runs: None means the hand weights of ``data/weights.toml``."""
    version = in_use(session)
    if version == HAND:
        return HAND, {t: None for t in tracks}
    body = load(version, folder)
    return version, {t: track_weights(body, t) for t in tracks}
