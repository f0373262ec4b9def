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

from .tokens import CHAR_NGRAMS, SYLLABLE_WEIGHT, TEXT_METHODS, join_blocks, noun_tokens, syllables, text_max_df


def _tokens_as_is(tokens):
    return tokens


class TextVectorizer(BaseEstimator):
    """TF-IDF text vectors, by character n-grams or by Kiwi noun tokens.

    A scikit-learn estimator (parameters stored in ``__init__``, ``fit`` returns ``self``,
    the fitted TF-IDF in ``tfidf_`` and ``syllables_``, ``transform`` before ``fit`` raises
    ``NotFittedError``). Rows are L2-normalised, so a sparse product of two matrices gives cosine similarities.

    Parameters
    ----------
    method : {"char", "kiwi"}
        ``char``: ``char_wb`` n-grams of 2-4 characters joined with single characters at
        :data:`~matcher.tokens.SYLLABLE_WEIGHT` (see :func:`matcher.tokens.join_blocks`; the study
        behind it is in docs/learning.md); ``kiwi``: nouns from the Kiwi morphological analyser
        (particles such as 를/의 dropped, compounds split).
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
        main = self._block(self.tfidf_, self._analysed(texts), len(texts))
        if self.method == "kiwi":
            return main
        return join_blocks([main, self._block(self.syllables_, texts, len(texts))], [1.0, SYLLABLE_WEIGHT])

    @staticmethod
    def _block(tfidf, texts, n_texts):
        if tfidf is None:
            return sparse.csr_matrix((n_texts, 0), dtype=np.float32)
        return tfidf.transform(texts).tocsr()

    def fit_transform(self, texts):
        """Fit on ``texts`` and return their vectors (one pass over the texts)."""
        if self.method not in TEXT_METHODS:
            raise ValueError(f"text method {self.method!r} is not one of {TEXT_METHODS}")
        texts = [t or "" for t in texts]
        max_df = text_max_df(len(texts), self.max_df)
        if self.method == "kiwi":
            self.syllables_ = None
            self.tfidf_, matrix = _fitted(TfidfVectorizer(analyzer=_tokens_as_is, sublinear_tf=True, max_df=max_df,
                                                          dtype=np.float32), self._analysed(texts))
            return matrix
        self.tfidf_, main = _fitted(TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True,
                                                    max_df=max_df, dtype=np.float32), texts)
        self.syllables_, single = _fitted(TfidfVectorizer(analyzer=syllables, sublinear_tf=True, max_df=max_df,
                                                          dtype=np.float32), texts)
        return join_blocks([main, single], [1.0, SYLLABLE_WEIGHT])


def _fitted(tfidf, texts):
    """(the fitted ``tfidf`` or None, its matrix): None and no columns when there are no terms at all, or
    none left after ``max_df`` (no text signal)."""
    try:
        return tfidf, tfidf.fit_transform(texts).tocsr()
    except ValueError:
        return None, sparse.csr_matrix((len(texts), 0), dtype=np.float32)


TextVectorizer.__module__ = "matcher.features"  # where pickles and the docs name it
