"""Text models on real public text: which one puts texts of the same kind nearest each other?

Two checks on official lists none of us wrote (``../shared/reference``; never copied into the repo), both
from :mod:`matcher.learning.text_check`: every KSIC 11th 세세분류 name against the others (right when a
neighbour is of the same 중분류, 77 divisions), and every G2B name (물품분류 and 중소기업자간 경쟁제품, one per
code) against the others (right when of the same 4-digit family). Each model is fitted on the check's own
corpus, as a round fits on its pool. Reported: precision@10, MRR, the paired bootstrap 95 % interval of
the P@10 difference to the current default, and the seconds to fit and vectorise 20,000 firm texts (the
demo's texts repeated: for time only, not for quality).

Usage::

    .venv/bin/python bench/text_study.py [--reference ../shared/reference] [--only NAME …]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from matcher.learning.text_check import g2b_documents, ksic_documents, neighbour_hits, reference_folder
from matcher.tokens import noun_tokens, text_max_df


def tfidf(analyzer="char_wb", ngrams=(2, 4), sublinear=True, max_df=None, norm="l2"):
    """TF-IDF with the project's document-frequency cut (``text_max_df``) unless ``max_df`` is given."""
    def fit_transform(texts):
        cut = text_max_df(len(texts), max_df)
        return TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=sublinear, max_df=cut,
                               norm=norm, dtype=np.float32).fit_transform(texts)
    return fit_transform


def short_weighted(ngrams=(1, 4), weight=0.5):
    """One ``char_wb`` TF-IDF whose 1-gram columns are multiplied by ``weight`` before the rows are normalised."""
    def fit_transform(texts):
        vec = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True,
                              max_df=text_max_df(len(texts)), dtype=np.float32)
        x = vec.fit_transform(texts)
        scale = np.array([weight if len(t) == 1 else 1.0 for t in vec.get_feature_names_out()], dtype=np.float32)
        return normalize(x @ sparse.diags(scale))
    return fit_transform


def bm25(ngrams=(2, 4), k1=1.2, b=0.75):
    """BM25 term weights (Okapi idf) on ``char_wb`` counts, rows L2-normalised (symmetric, document to document)."""
    def fit_transform(texts):
        x = CountVectorizer(analyzer="char_wb", ngram_range=ngrams, max_df=text_max_df(len(texts))).fit_transform(texts)
        x = x.tocsr().astype(np.float64)
        n = x.shape[0]
        df = np.bincount(x.indices, minlength=x.shape[1])
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        lengths = np.repeat(np.asarray(x.sum(axis=1)).ravel(), np.diff(x.indptr))
        avg = lengths.mean() if len(lengths) else 1.0
        x.data = x.data * (k1 + 1) / (x.data + k1 * (1 - b + b * lengths / avg))
        return normalize(x @ sparse.diags(idf))
    return fit_transform


def _as_is(tokens):
    return tokens


def kiwi_nouns(texts):
    cut = text_max_df(len(texts))
    return TfidfVectorizer(analyzer=_as_is, sublinear_tf=True, max_df=cut, dtype=np.float32).fit_transform(
        noun_tokens(texts))


def mixed(parts):
    """Blocks side by side, each L2-normalised and weighted, the row normalised again."""
    def fit_transform(texts):
        return normalize(sparse.hstack([w * normalize(f(texts)) for f, w in parts]).tocsr())
    return fit_transform


def lsa(base, dims=200, weight=0.5):
    """``base`` plus ``weight`` × its truncated SVD (latent semantic analysis of the corpus itself)."""
    def fit_transform(texts):
        x = base(texts)
        z = TruncatedSVD(min(dims, x.shape[1] - 1), random_state=0).fit_transform(x)
        return normalize(sparse.hstack([normalize(x), weight * sparse.csr_matrix(normalize(z))]).tocsr())
    return fit_transform


def methods():
    """name → fit_transform(texts) → unit rows."""
    out = {"char_wb 2-4, sublinear (current default)": tfidf()}
    for ngrams in ((1, 2), (1, 3), (1, 4), (2, 3), (2, 5), (3, 5)):
        out[f"char_wb {ngrams[0]}-{ngrams[1]}, sublinear"] = tfidf(ngrams=ngrams)
    out["char_wb 1-3, raw tf"] = tfidf(ngrams=(1, 3), sublinear=False)
    out["char_wb 2-4, raw tf"] = tfidf(sublinear=False)
    out["char 1-3 (across spaces), sublinear"] = tfidf(analyzer="char", ngrams=(1, 3))
    out["char 2-4 (across spaces), sublinear"] = tfidf(analyzer="char", ngrams=(2, 4))
    out["char_wb 1-3, no max_df cut"] = tfidf(ngrams=(1, 3), max_df=1.0)
    out["BM25 char_wb 1-3"] = bm25((1, 3))
    out["BM25 char_wb 2-4"] = bm25((2, 4))
    out["Kiwi nouns"] = kiwi_nouns
    out["char_wb 2-4 + Kiwi nouns"] = mixed([(tfidf(), 1.0), (kiwi_nouns, 1.0)])
    out["char_wb 1-3 + Kiwi nouns"] = mixed([(tfidf(ngrams=(1, 3)), 1.0), (kiwi_nouns, 1.0)])
    out["char_wb 1-3 + Kiwi nouns × 0.5"] = mixed([(tfidf(ngrams=(1, 3)), 1.0), (kiwi_nouns, 0.5)])
    out["char_wb 1-3 + LSA 200"] = lsa(tfidf(ngrams=(1, 3)))
    out["char_wb 1-4 + LSA 200"] = lsa(tfidf(ngrams=(1, 4)))
    out["char_wb 1-5, sublinear"] = tfidf(ngrams=(1, 5))
    for w in (0.35, 0.5, 0.7, 1.0):
        out[f"char_wb 2-4 + 1-grams × {w}"] = mixed([(tfidf(), 1.0), (tfidf(ngrams=(1, 1)), w)])
    for w in (0.3, 0.5, 0.7):
        out[f"char_wb 1-4, 1-grams × {w}"] = short_weighted((1, 4), w)
    out["char_wb 1-3, 1-grams × 0.5"] = short_weighted((1, 3), 0.5)
    out["char_wb 1-4, max_df 0.2"] = tfidf(ngrams=(1, 4), max_df=0.2)
    return out


def paired_interval(a, b, rounds=2000, seed=0):
    """95 % bootstrap interval of mean(a - b) over paired queries."""
    rng = np.random.default_rng(seed)
    d = np.asarray(a) - np.asarray(b)
    means = d[rng.integers(0, len(d), size=(rounds, len(d)))].mean(axis=1)
    return np.percentile(means, [2.5, 97.5])


def timing_texts(n=20_000):
    from matcher import demo
    texts = [f.description for f in demo.generate().firms if f.description]
    return (texts * (n // len(texts) + 1))[:n]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=None)
    parser.add_argument("--only", nargs="*", help="names of methods to run (substring match)")
    args = parser.parse_args(argv)
    reference = Path(args.reference) if args.reference else reference_folder()
    checks = {"KSIC": ksic_documents(reference), "G2B": g2b_documents(reference)}
    big = timing_texts()
    chosen = {n: f for n, f in methods().items() if not args.only or any(o in n for o in args.only)}
    print(f"# load {os.getloadavg()[0]:.1f} (2 cores); " + ", ".join(
        f"{c}: {len(t)} names, {len(set(l))} labels" for c, (t, l) in checks.items()))
    print("| method | KSIC P@10 | Δ (95 % CI) | KSIC MRR | G2B P@10 | Δ (95 % CI) | G2B MRR | s / 20k texts |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    base = {}
    for name, fit_transform in chosen.items():
        cells = []
        for check, (texts, labels) in checks.items():
            p, rr = neighbour_hits(fit_transform(texts), labels)
            base.setdefault(check, p)
            lo, hi = paired_interval(p, base[check])
            cells += [f"{p.mean():.3f}", f"{p.mean() - base[check].mean():+.3f} ({lo:+.3f}, {hi:+.3f})", f"{rr.mean():.3f}"]
        start = time.perf_counter()
        fit_transform(big)
        cells.append(f"{time.perf_counter() - start:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
