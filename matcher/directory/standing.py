"""Where one firm stands in a ranked list, and why the firms just above it rank higher.

Pure arrays in, a plain result out: the directory service (:func:`matcher.directory.why_not`) scores the
pool the list shows and hands the arrays here. The order is the list's own (score, ties by
사업자등록번호: :func:`matcher.directory.index.top_k`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..scoring import COMPONENTS


@dataclass(frozen=True)
class Above:
    """A firm ranked above: its place in ``rows``, rank, score, and the component it gains most on."""

    row: int
    rank: int
    score: float
    component: str
    gain: float


@dataclass(frozen=True)
class Standing:
    """The rank (from 1) and score of one firm among ``total``, and the firms just above it."""

    rank: int
    score: float
    total: int
    above: list = field(default_factory=list)

    def page(self, per_page):
        """The page of ``per_page`` the firm is listed on (from 1)."""
        return (self.rank - 1) // per_page + 1


def standing(values, brns, i, weights, above=3):
    """The rank of row ``i`` and the ``above`` firms ranked just above it, each with its main lead.

    Parameters
    ----------
    values : dict of str → ndarray, shape (n,)
        ``score`` and every component of :data:`matcher.scoring.COMPONENTS`, for the rows of the list.
    brns : ndarray of str, shape (n,)
        The rows' 사업자등록번호 (ties in score go to the smaller).
    i : int
        The row asked about.
    weights : dict
        The component weights the score combines (contribution = weight · value / Σ weights).
    above : int

    Returns
    -------
    Standing

    Examples
    --------
    >>> v = {"score": np.array([0.5, 0.7, 0.6]), **{c: np.zeros(3) for c in COMPONENTS}}
    >>> v["text"] = np.array([0.5, 0.9, 0.6])
    >>> s = standing(v, np.array(["3", "1", "2"]), 0, {c: 1.0 for c in COMPONENTS})
    >>> s.rank, [(a.rank, a.component) for a in s.above]
    (3, [(1, 'text'), (2, 'text')])
    """
    score = np.round(np.asarray(values["score"], dtype=np.float64), 12)
    ahead = np.flatnonzero((score > score[i]) | ((score == score[i]) & (brns < brns[i])))
    order = sorted(ahead.tolist(), key=lambda j: (-score[j], brns[j]))
    total_weight = sum(weights.values()) or 1.0
    shown = []
    for rank, j in enumerate(order, start=1):
        if rank <= len(order) - above:
            continue
        gains = {c: weights[c] / total_weight * (float(values[c][j]) - float(values[c][i])) for c in COMPONENTS}
        best = max(gains, key=gains.get)
        shown.append(Above(int(j), rank, float(score[j]), best, gains[best]))
    return Standing(len(order) + 1, float(score[i]), len(score), shown)
