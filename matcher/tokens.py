"""Text tokens for the text model: Kiwi nouns, and the text methods' settings.

Below :mod:`matcher.features` (the pair features) and :mod:`matcher.vectorizer` (the scikit-learn
estimator), which both use them: the Kiwi analyser (its model ships in ``kiwipiepy_model``; loaded once,
on first use) and the document-frequency cut of a corpus.
"""

from __future__ import annotations

import threading

TEXT_METHODS = ("char", "kiwi")
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
