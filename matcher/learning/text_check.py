"""How well a text model finds texts of the same kind, on real public text none of us wrote.

Each document is one official name; its label is its place in the official classification. Every
document is a query against all the others (the model fitted on the whole corpus, as a round fits on its
pool): precision@10 is the share of its 10 nearest others (cosine) that carry the same label, the same
question as "are the 10 firms proposed from the same industry?". Queries whose label no other document
carries are skipped.

* :func:`ksic_documents`: the KSIC 11th 세세분류 names (5 digits, ``ksic_11th.xlsx``), labelled by their
  중분류 (2 digits, 77 divisions: the grain of "an industry").
* :func:`g2b_documents`: the G2B names of ``g2b_categories.json`` and ``sme_competition_products.json``
  (one per code), labelled by their 4-digit family.

The files are in ``../shared/reference`` (:func:`reference_folder`); nothing of them is copied into the
repository, and the tests that use them skip when they are absent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

K = 10


def reference_folder():
    """``$MATCHER_REFERENCE`` or ``shared/reference`` beside the checkout (None when neither exists)."""
    here = Path(__file__).resolve()
    candidates = [os.environ.get("MATCHER_REFERENCE")] + [str(p / "shared" / "reference") for p in here.parents[2:5]]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return None


def ksic_documents(reference):
    """(names, labels) of the KSIC 11th 세세분류: each name and its 2-digit 중분류.

    Parameters
    ----------
    reference : Path
        The folder holding ``ksic_11th.xlsx`` (columns: code, Korean name, English name).
    """
    import pandas as pd
    raw = pd.read_excel(Path(reference) / "ksic_11th.xlsx", header=None, dtype=str)
    names, labels = [], []
    for code, name in zip(raw[0], raw[1]):
        code = str(code).strip()
        if len(code) == 5 and code.isdigit() and isinstance(name, str) and name.strip():
            names.append(name.strip())
            labels.append(code[:2])
    return names, np.array(labels)


def g2b_documents(reference, digits=4):
    """(names, labels) of the G2B names (one per code), labelled by the first ``digits`` of the code."""
    reference = Path(reference)
    by_code = {}
    for file in ("g2b_categories.json", "sme_competition_products.json"):
        for entry in json.loads((reference / file).read_text(encoding="utf-8")):
            by_code.setdefault(entry["code"], entry["name"].strip())
    codes = sorted(by_code)
    return [by_code[c] for c in codes], np.array([c[:digits] for c in codes])


def neighbour_hits(vectors, labels, k=K):
    """Per query: the share of its k nearest others with the same label, and 1 / rank of the first one.

    Parameters
    ----------
    vectors : sparse or dense matrix, shape (n_docs, n_terms)
        Rows of unit length (or zero), so a product gives cosines.
    labels : array, shape (n_docs,)
    k : int

    Returns
    -------
    precision, reciprocal_rank : ndarray, shape (n_queries,)
        Over the documents whose label another document carries, in document order. Ties are broken by
        document order, the same way for every model.
    """
    labels = np.asarray(labels)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    queries = np.flatnonzero(counts[inverse] > 1)
    precision, rr = np.zeros(len(queries)), np.zeros(len(queries))
    for start in range(0, len(queries), 512):
        rows = queries[start:start + 512]
        sims = vectors[rows] @ vectors.T
        sims = np.asarray(sims.toarray() if hasattr(sims, "toarray") else sims, dtype=np.float64)
        sims[np.arange(len(rows)), rows] = -np.inf  # a document is not its own neighbour
        order = np.argsort(-sims, axis=1, kind="stable")
        same = inverse[order] == inverse[rows][:, None]
        precision[start:start + len(rows)] = same[:, :k].sum(axis=1) / k
        rr[start:start + len(rows)] = 1.0 / (same.argmax(axis=1) + 1)
    return precision, rr


def neighbour_precision(vectors, labels, k=K):
    """Mean precision@k and MRR of :func:`neighbour_hits`, and the number of queries.

    Examples
    --------
    >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> neighbour_precision(x, np.array(["a", "a", "b", "b"]), k=1)
    {'p@k': 1.0, 'mrr': 1.0, 'queries': 4}
    """
    precision, rr = neighbour_hits(vectors, labels, k)
    n = len(precision)
    return {"p@k": float(precision.mean()) if n else 0.0, "mrr": float(rr.mean()) if n else 0.0, "queries": n}
