"""Text similarity on real public text: which weighting finds a product's class from its name?

Two labelled checks built from official lists none of us wrote (``../shared/reference``; never
copied into the repo):

* **G2B**: each 중소기업자간 경쟁제품 name (``sme_competition_products.json``, 10-digit 세부품명) is a query;
  the documents are the G2B 물품분류 (8-digit classes of ``g2b_categories.json``), each the names of its
  entries and their parent group, with every entry of the query list removed (a query never meets its
  own name). The right answer is the query's 8-digit class.
* **KSIC**: each 세세분류 name (5 digits, ``ksic_11th_hierarchy.xlsx``) is a query against the 세분류 names
  (4 digits); names equal to their 세분류's are left out (they would be a trivial match).

Methods: the current character n-grams (``char_wb`` 2–4, sublinear TF-IDF), character n-grams plus
word unigrams, character n-grams plus Kiwi nouns, and BM25 weighting (k1 = 1.2, b = 0.75) of character
n-grams and of character n-grams plus Kiwi nouns. Reported: hit@1, hit@5 and MRR.

Usage::

    .venv/bin/python bench/text_study.py [--reference ../shared/reference]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from matcher.features import noun_tokens


def g2b_check(reference):
    """(queries, their class index, class documents) of the G2B check."""
    products = json.loads((reference / "sme_competition_products.json").read_text(encoding="utf-8"))
    entries = json.loads((reference / "g2b_categories.json").read_text(encoding="utf-8"))
    query_codes = {p["code"] for p in products}
    docs = {}
    for e in entries:
        if e["code"] in query_codes:
            continue
        docs.setdefault(e["code"][:8], []).extend([e["name"], e.get("parent") or ""])
    classes = sorted(c for c, words in docs.items() if any(words))
    position = {c: i for i, c in enumerate(classes)}
    queries = [(p["name"], position[p["code"][:8]]) for p in products if p["code"][:8] in position]
    return [q for q, _ in queries], np.array([c for _, c in queries]), [" ".join(dict.fromkeys(docs[c])) for c in classes]


def ksic_check(reference):
    """(queries, their class index, class documents) of the KSIC check (세세분류 → 세분류)."""
    raw = pd.read_excel(reference / "ksic_11th_hierarchy.xlsx", header=None, dtype=str).iloc[3:]
    classes, queries, labels = {}, [], []
    current = None
    for row in raw.itertuples(index=False):
        if isinstance(row[6], str) and row[6].strip():
            current = row[6].strip()
            classes[current] = str(row[7]).strip()
        if isinstance(row[8], str) and row[8].strip() and current:
            queries.append((str(row[9]).strip(), current))
    codes = sorted(classes)
    position = {c: i for i, c in enumerate(codes)}
    kept = [(q, position[c]) for q, c in queries if q != classes[c]]
    return [q for q, _ in kept], np.array([c for _, c in kept]), [classes[c] for c in codes]


def _tfidf_char():
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float64)


class Combined:
    """Several vectorisers side by side, each L2-normalised and weighted, the whole row normalised again."""

    def __init__(self, parts):
        self.parts = parts

    def fit(self, texts):
        for vec, prep, _w in self.parts:
            vec.fit(prep(texts))
        return self

    def transform(self, texts):
        blocks = [w * normalize(vec.transform(prep(texts))) for vec, prep, w in self.parts]
        return normalize(sparse.hstack(blocks).tocsr())


class BM25:
    """BM25 weights (k1, b) on term counts for the documents; queries get binary idf weights."""

    def __init__(self, analyzer, k1=1.2, b=0.75):
        self.analyzer, self.k1, self.b = analyzer, k1, b

    def fit(self, texts):
        self.counts_ = CountVectorizer(analyzer=self.analyzer)
        x = self.counts_.fit_transform(texts).tocsr().astype(np.float64)
        n = x.shape[0]
        df = np.bincount(x.indices, minlength=x.shape[1])
        self.idf_ = np.log(1 + (n - df + 0.5) / (df + 0.5))
        lengths = np.asarray(x.sum(axis=1)).ravel()
        self.avg_ = lengths.mean() if n else 1.0
        return self

    def documents(self, texts):
        x = self.counts_.transform(texts).tocsr().astype(np.float64)
        lengths = np.repeat(np.asarray(x.sum(axis=1)).ravel(), np.diff(x.indptr))
        tf = x.data
        x.data = tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * lengths / self.avg_))
        return normalize(x @ sparse.diags(self.idf_))

    def transform(self, texts):
        x = self.counts_.transform(texts).tocsr().astype(np.float64)
        x.data[:] = 1.0
        return normalize(x @ sparse.diags(self.idf_))


def _kiwi_analyzer(text):
    return noun_tokens([text])[0]


def _char_and_kiwi(text):
    grams = CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer()(text)
    return grams + [f"w:{t}" for t in noun_tokens([text])[0]]


def _words(texts):
    return texts


def methods():
    """name → (fit on documents, vectorise documents, vectorise queries)."""
    word = TfidfVectorizer(analyzer="word", token_pattern=r"(?u)\b\w+\b", sublinear_tf=True)
    kiwi = TfidfVectorizer(analyzer=_kiwi_analyzer, sublinear_tf=True)
    return {
        "char n-grams (current)": _plain(_tfidf_char()),
        "char + word": _plain(Combined([(_tfidf_char(), _words, 1.0), (word, _words, 1.0)])),
        "char + Kiwi nouns": _plain(Combined([(_tfidf_char(), _words, 1.0), (kiwi, _words, 1.0)])),
        "BM25 char n-grams": _bm25(BM25(CountVectorizer(analyzer="char_wb", ngram_range=(2, 4)).build_analyzer())),
        "BM25 char + Kiwi nouns": _bm25(BM25(_char_and_kiwi)),
    }


def _plain(vec):
    return (vec.fit, vec.transform, vec.transform)


def _bm25(model):
    return (model.fit, model.documents, model.transform)


def evaluate(queries, labels, docs, fit, vec_docs, vec_queries):
    """hit@1, hit@5, MRR of ranking ``docs`` for each query (the right one: ``labels``)."""
    fit(docs)
    scores = (vec_queries(queries) @ vec_docs(docs).T).toarray()
    right = scores[np.arange(len(queries)), labels]
    rank = 1 + (scores > right[:, None]).sum(axis=1)
    return {"hit@1": float((rank == 1).mean()), "hit@5": float((rank <= 5).mean()), "MRR": float((1 / rank).mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", default=str(Path(__file__).resolve().parents[1].parent / "shared" / "reference"))
    args = parser.parse_args(argv)
    reference = Path(args.reference)
    checks = {"G2B": g2b_check(reference), "KSIC": ksic_check(reference)}
    print("| method | check | queries | classes | hit@1 | hit@5 | MRR | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, (fit, vec_docs, vec_queries) in methods().items():
        for check, (queries, labels, docs) in checks.items():
            start = time.perf_counter()
            res = evaluate(queries, labels, docs, fit, vec_docs, vec_queries)
            print(f"| {name} | {check} | {len(queries)} | {len(docs)} | {res['hit@1']:.3f} | {res['hit@5']:.3f} | "
                  f"{res['MRR']:.3f} | {time.perf_counter() - start:.1f} |", flush=True)


if __name__ == "__main__":
    main()
