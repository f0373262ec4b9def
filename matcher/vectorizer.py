"""The TF-IDF text vectoriser (:class:`TextVectorizer`), a scikit-learn estimator.

Apart from :mod:`matcher.features` so that importing the features does not import scikit-learn (about
0.8 s of a ``matcher match`` run, which uses :func:`matcher.features.char_tfidf` instead). Reached as
``matcher.features.TextVectorizer`` as before (also in pickles: its ``__module__`` says so).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .tokens import TEXT_METHODS, noun_tokens, text_max_df


def _tokens_as_is(tokens):
    return tokens


class TextVectorizer(BaseEstimator):
    """TF-IDF text vectors, by character n-grams or by Kiwi noun tokens.

    A scikit-learn estimator (parameters stored in ``__init__``, ``fit`` returns ``self``,
    the fitted TF-IDF in ``tfidf_``, ``transform`` before ``fit`` raises ``NotFittedError``).
    Rows are L2-normalised, so a sparse product of two matrices gives cosine similarities.

    Parameters
    ----------
    method : {"char", "kiwi"}
        ``char``: ``char_wb`` n-grams of 2-4 characters; ``kiwi``: nouns from the Kiwi
        morphological analyser (particles such as 를/의 dropped, compounds split).
    max_df : float, optional
        Terms in more than this share of documents are ignored (too common to tell firms
        apart). Default: 0.5, or 0.05 from :data:`LARGE_CORPUS` documents up, where common
        n-grams would make the sparse similarity products nearly dense (the benchmark's
        100k × 30k run depends on it).
    """

    def __init__(self, method="char", max_df=None):
        self.method = method
        self.max_df = max_df

    def _analysed(self, texts):
        return noun_tokens(texts) if self.method == "kiwi" else [t or "" for t in texts]

    def fit(self, texts):
        self.fit_transform(texts)
        return self

    def transform(self, texts):
        """Sparse CSR matrix, shape (len(texts), n_terms), rows of unit length (or zero).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            When called before :meth:`fit`.
        """
        check_is_fitted(self, "tfidf_")
        texts = list(texts)
        if self.tfidf_ is None:
            return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
        return self.tfidf_.transform(self._analysed(texts)).tocsr()

    def fit_transform(self, texts):
        """Fit on ``texts`` and return their vectors (one pass over the texts)."""
        if self.method not in TEXT_METHODS:
            raise ValueError(f"text method {self.method!r} is not one of {TEXT_METHODS}")
        texts = list(texts)
        max_df = text_max_df(len(texts), self.max_df)
        if self.method == "kiwi":
            tfidf = TfidfVectorizer(analyzer=_tokens_as_is, sublinear_tf=True, max_df=max_df,
                                    dtype=np.float32)
        else:
            tfidf = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True,
                                    max_df=max_df, dtype=np.float32)
        try:
            matrix = tfidf.fit_transform(self._analysed(texts)).tocsr()
        except ValueError:  # no terms at all, or none left after max_df: no text signal
            self.tfidf_ = None
            return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
        self.tfidf_ = tfidf
        return matrix


TextVectorizer.__module__ = "matcher.features"  # where pickles and the docs name it
