"""Where the shipped data and the instance folder are.

The reference tables, track rules and demo round live in the checkout's top-level ``data/`` folder, which
the package ships as ``matcher.data`` (``package_dir`` in ``setup.py``), read through
:mod:`importlib.resources` — so a wheel or a plain ``pip install .`` finds them too.

The instance folder (SQLite file, secret key) is ``$MATCHER_INSTANCE`` when set; else ``instance/`` in the
checkout for a checkout or editable install; else ``instance/`` in the current directory, never inside
site-packages.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
CHECKOUT = PACKAGE_ROOT.parent if (PACKAGE_ROOT.parent / "setup.py").is_file() else None


def _data_dir():
    try:
        path = Path(str(resources.files("matcher.data")))
    except ModuleNotFoundError:  # running from a checkout that was never installed
        path = None
    if path is None or not (path / "tracks.toml").is_file():
        path = PACKAGE_ROOT.parent / "data"
    return path


DATA_DIR = _data_dir()


def instance_dir():
    """The instance folder (not created here): ``$MATCHER_INSTANCE``, the checkout's, or ``./instance``."""
    if os.environ.get("MATCHER_INSTANCE"):
        return Path(os.environ["MATCHER_INSTANCE"])
    if CHECKOUT is not None:
        return CHECKOUT / "instance"
    return Path.cwd() / "instance"
