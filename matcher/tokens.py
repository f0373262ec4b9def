"""Text tokens for the text model: Kiwi nouns, and the text methods' settings.

Below :mod:`matcher.features` (the pair features) and :mod:`matcher.vectorizer` (the scikit-learn
estimator), which both use them: the Kiwi analyser (its model ships in ``kiwipiepy_model``; loaded once,
on first use) and the document-frequency cut of a corpus.
"""

from __future__ import annotations

import threading

TEXT_METHODS = ("char", "kiwi")
CHAR_NGRAMS = (2, 4)
"""The ``char_wb`` n-gram lengths of the ``char`` text method's main block."""
SYLLABLE_WEIGHT = 0.5
"""Weight of the ``char`` method's second block, single characters (Hangul syllables, letters, digits; no
spaces), beside the n-gram block: each block's rows are of unit length, the joined row is normalised again,
so a cosine is (n-gram cosine + 0.25 × syllable cosine) / 1.25 for two texts with both. Chosen on real
public text (``bench/text_study.py``, docs/learning.md): G2B neighbours' precision@10 0.309 → 0.322, KSIC
level (0.386)."""
LARGE_CORPUS = 20_000
KIWI_TAGS = frozenset({"NNG", "NNP", "SL", "SH", "XR"})
"""Kiwi part-of-speech tags kept as tokens: common and proper nouns, foreign words (CCTV), roots."""

_KIWI = []
_KIWI_LOCK = threading.Lock()


def kiwi():
    """The one :class:`kiwipiepy.Kiwi` instance (its model ships in ``kiwipiepy_model``; no network).

    Made once even when several server threads ask at the same moment (each would load ~450 MB).
    """
    if not _KIWI:
        with _KIWI_LOCK:
            if not _KIWI:
                from kiwipiepy import Kiwi
                _KIWI.append(Kiwi())
    return _KIWI[0]


def noun_tokens(texts):
    """Kiwi noun tokens (lower-cased) of each text; a list of token lists, one per text.

    Examples
    --------
    >>> noun_tokens(["영상감시카메라를"])
    [['영상', '감시', '카메라']]
    """
    texts = [t or " " for t in texts]
    return [[tok.form.lower() for tok in toks if tok.tag in KIWI_TAGS] for toks in kiwi().tokenize(texts)]


def text_max_df(n_texts, max_df=None):
    """The document-frequency cut of :class:`matcher.vectorizer.TextVectorizer` (and of
    :func:`matcher.features.char_tfidf`) for a corpus of ``n_texts`` texts."""
    if n_texts < 20:
        return 1.0  # a handful of texts: every term counts
    return max_df or (0.05 if n_texts >= LARGE_CORPUS else 0.5)


def syllables(text):
    """The ``char`` method's single characters of a text: lower-cased, whitespace dropped (sklearn's
    ``char_wb`` 1-grams without the padding spaces).

    Examples
    --------
    >>> syllables("CCTV 카메라")
    ['c', 'c', 't', 'v', '카', '메', '라']
    """
    return [c for word in (text or "").lower().split() for c in word]


def join_blocks(blocks, weights):
    """Text blocks side by side, each times its weight, each row normalised to unit length again.

    One function for the round's :func:`matcher.features.char_tfidf` and the directory's
    :class:`matcher.vectorizer.TextVectorizer`, so that the same blocks give the same bits.

    Parameters
    ----------
    blocks : list of scipy.sparse.csr_matrix, float32, each shape (n_texts, n_terms_b), rows of unit length or zero
    weights : list of float

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape (n_texts, Σ n_terms_b), float32; a row's entries block after block.
    """
    import numpy as np
    from scipy import sparse

    scaled = []
    for block, weight in zip(blocks, weights):
        block = block.tocsr().copy()
        block.data *= np.float32(weight)
        scaled.append(block)
    x = sparse.hstack(scaled, format="csr", dtype=np.float32)
    squares = (x.data * x.data).astype(np.float64)
    norm = np.sqrt(sparse.csr_matrix((squares, x.indices, x.indptr), shape=x.shape) @ np.ones(x.shape[1]))
    norm[norm == 0.0] = 1.0
    x.data[:] = x.data.astype(np.float64) / np.repeat(norm, np.diff(x.indptr))
    return x
