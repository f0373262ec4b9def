"""An additive, explainable scorer fitted on staff decisions: logistic regression with monotone weights.

The hand score is Σ wᵢ·vᵢ / Σ w over the score components vᵢ ∈ [0, 1]. :class:`AdditiveLogit` fits
P(approved | v) = σ(b + Σ βᵢ·vᵢ) with βᵢ ≥ 0 (``monotone=True``: more of a component never lowers a pair),
so its coefficients can take the hand weights' place in the same formula: a pair's score is still the sum
of each component's contribution, and the ranking within a track is the model's (σ and the intercept do not
change an order). L2 penalty ``alpha`` on β; sample weights let implicit negatives count less.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data, _check_sample_weight


class AdditiveLogit(ClassifierMixin, BaseEstimator):
    """Binary logistic regression whose coefficients may be held ≥ 0.

    Parameters
    ----------
    alpha : float, default 1.0
        L2 penalty on the coefficients (not on the intercept), in units of the summed sample weights.
    monotone : bool, default True
        Hold every coefficient ≥ 0 (a component can only add to a pair's score).
    max_iter : int, default 500

    Attributes
    ----------
    coef_ : ndarray, shape (n_features,)
    intercept_ : float
    classes_ : ndarray, shape (2,)
    n_features_in_ : int
    n_iter_ : int

    Examples
    --------
    >>> X = np.array([[0.0], [0.2], [0.8], [1.0]]); y = np.array([0, 0, 1, 1])
    >>> model = AdditiveLogit(alpha=0.01).fit(X, y)
    >>> bool(model.coef_[0] > 0), model.predict(X).tolist()
    (True, [0, 0, 1, 1])
    """

    def __init__(self, alpha=1.0, monotone=True, max_iter=500):
        self.alpha = alpha
        self.monotone = monotone
        self.max_iter = max_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = False
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit on component values ``X`` (n_pairs, n_features) and labels ``y`` (two classes; the larger is
        "approved"). Returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) > 2:
            raise ValueError(f"Only binary classification is supported; got {len(self.classes_)} classes")
        if len(self.classes_) < 2:
            raise ValueError("AdditiveLogit needs two classes; got 1 class")
        if not (np.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a number >= 0; got {self.alpha!r}")
        w = _check_sample_weight(sample_weight, X, dtype=np.float64)
        t = (y == self.classes_[1]).astype(np.float64)
        total = w.sum() or 1.0
        n = X.shape[1]

        def loss(theta):
            beta, b = theta[:n], theta[n]
            z = X @ beta + b
            # log(1 + e^z) - t·z, stably
            value = (w * (np.logaddexp(0.0, z) - t * z)).sum() / total + 0.5 * self.alpha * beta @ beta
            r = w * (_sigmoid(z) - t) / total
            grad = np.concatenate([X.T @ r + self.alpha * beta, [r.sum()]])
            return value, grad

        bounds = [(0.0, None) if self.monotone else (None, None)] * n + [(None, None)]
        result = minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": self.max_iter})
        self.coef_, self.intercept_ = result.x[:n].copy(), float(result.x[n])
        self.n_iter_ = int(result.nit)
        return self

    def decision_function(self, X):
        """b + Σ βᵢ·xᵢ, shape (n_pairs,)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        """Shape (n_pairs, 2): P(first class), P(second class)."""
        p = _sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

    def contributions(self, X):
        """Each feature's part βᵢ·xᵢ of the decision function (without the intercept), shape (n_pairs, n_features)."""
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X * self.coef_


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))
