"""The text model on real public text (``../shared/reference``; skipped when it is absent)."""

import doctest

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from matcher.features import char_tfidf
from matcher.learning import text_check
from matcher.learning.text_check import g2b_documents, ksic_documents, neighbour_hits, neighbour_precision
from matcher.vectorizer import TextVectorizer

REFERENCE = text_check.reference_folder()
needs_reference = pytest.mark.skipif(
    REFERENCE is None or not (REFERENCE / "ksic_11th.xlsx").exists(), reason="../shared/reference is absent")


def test_doctests():
    assert doctest.testmod(text_check).failed == 0


def test_neighbour_precision_against_a_loop():
    rng = np.random.default_rng(3)
    x = rng.random((40, 6))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = rng.integers(0, 5, size=40)
    labels[0] = 99  # alone: no query
    precision, rr = neighbour_hits(x, labels, k=3)
    expected_p, expected_rr = [], []
    for q in range(40):
        if (labels == labels[q]).sum() < 2:
            continue
        others = sorted((i for i in range(40) if i != q), key=lambda i: (-float(x[q] @ x[i]), i))
        same = [labels[i] == labels[q] for i in others]
        expected_p.append(sum(same[:3]) / 3)
        expected_rr.append(1 / (same.index(True) + 1))
    assert np.allclose(precision, expected_p) and np.allclose(rr, expected_rr)


def _plain_char(texts):
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, max_df=0.5).fit_transform(texts)


@needs_reference
@pytest.mark.parametrize(("documents", "least"), [(g2b_documents, 0.318), (ksic_documents, 0.380)])
def test_default_text_model_finds_same_kind_neighbours_on_real_names(documents, least):
    """The default (n-grams + syllables) against the plain 2-4-gram model it replaced (G2B 0.309, KSIC 0.386)."""
    texts, labels = documents(REFERENCE)
    ours = neighbour_precision(char_tfidf(texts), labels)["p@k"]
    assert ours >= least
    assert ours >= neighbour_precision(_plain_char(texts), labels)["p@k"] - 0.002


@needs_reference
def test_round_and_directory_vectors_are_one_model_on_real_names():
    texts, _ = ksic_documents(REFERENCE)
    a = char_tfidf(texts)
    b = TextVectorizer("char").fit(texts).transform(texts)
    assert abs(a - b).max() < 1e-6
