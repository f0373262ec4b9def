"""One text model fit of 20,000 demo texts, for ``farm-bench --vs``: ``new`` (the default, n-grams and
syllables, :func:`matcher.features.char_tfidf`) or ``old`` (the 2-4-gram block alone).

Usage::

    farm-bench -n 3 --vs ".venv/bin/python bench/text_block_cost.py old" -- .venv/bin/python bench/text_block_cost.py new
"""

import sys

from matcher import demo
from matcher.features import _char_block, char_tfidf
from matcher.tokens import CHAR_NGRAMS


def main(which):
    texts = [f.description for f in demo.generate().firms if f.description]
    texts = (texts * 14)[:20000]
    if which == "new":
        char_tfidf(texts)
    else:
        _char_block(texts, None, CHAR_NGRAMS)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "new")
