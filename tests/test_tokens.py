import doctest

from matcher import tokens


def test_doctests():
    assert doctest.testmod(tokens).failed == 0


def test_a_handful_of_texts_keeps_every_term_and_a_large_corpus_cuts_common_ones():
    assert tokens.text_max_df(19) == 1.0
    assert tokens.text_max_df(20) == 0.5 and tokens.text_max_df(20, max_df=0.3) == 0.3
    assert tokens.text_max_df(tokens.LARGE_CORPUS) == 0.05
