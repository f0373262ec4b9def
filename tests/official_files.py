"""Where the public reference files (the official code lists) are, for the tests that read them."""

import os
from pathlib import Path


def _reference_dir():
    """The public reference files (official code lists): ``$MATCHER_REFERENCE``, else ``shared/reference``
    beside any parent of the checkout (``/work/shared/reference`` for ``/work/main`` and ``/work/wt/NAME``).
    Tests that read them skip when it is absent."""
    if os.environ.get("MATCHER_REFERENCE"):
        return Path(os.environ["MATCHER_REFERENCE"])
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "reference").is_dir():
            return parent / "shared" / "reference"
    return Path("/nonexistent/shared/reference")


REFERENCE = _reference_dir()
