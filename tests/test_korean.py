"""Korean particles chosen by the final consonant, and the diagnostics that use them."""

import doctest

import networkx as nx
import pytest

from matcher import korean
from matcher.matching import diagnose


def test_doctests():
    assert doctest.testmod(korean).failed == 0


@pytest.mark.parametrize("word, which, expected", [
    ("현래랩", "와", "현래랩과"), ("아이디스", "과", "아이디스와"),
    ("한화테크윈", "는", "한화테크윈은"), ("대성소재", "은", "대성소재는"),
    ("대성소재(0.884)", "이", "대성소재(0.884)가"), ("한빛(0.5)", "가", "한빛(0.5)이"),
    ("렌즈", "을", "렌즈를"), ("부품", "를", "부품을"),
    ("ABC", "과", "ABC과(와)"), ("LG(0.7)", "은", "LG(0.7)은(는)"), ("", "이", "이(가)"),
])
def test_with_particle(word, which, expected):
    assert korean.with_particle(word, which) == expected


def test_every_hangul_syllable_agrees_with_its_decomposition():
    # a syllable has a final consonant exactly when its NFD form has three jamo
    import unicodedata
    for code in range(0xAC00, 0xD7A4, 97):
        ch = chr(code)
        assert korean.has_final_consonant(ch) == (len(unicodedata.normalize("NFD", ch)) == 3)


def _graph(lead_name, partner_name, taker_name):
    g = nx.Graph()
    g.add_node("a", bipartite=0, name=lead_name)
    g.add_node("b", bipartite=0, name=taker_name)
    g.add_node("m:s", bipartite=1, track="materials", brn="s", name=partner_name, min_leads=1, max_leads=1)
    g.add_edge("a", "m:s", score=0.884)
    g.add_edge("b", "m:s", score=0.9)
    return g


@pytest.mark.parametrize("partner, taker, expected", [
    ("한빛소재", "현래랩", "가장 잘 맞는 협력기업 한빛소재(0.884)는 현래랩과 짝지어짐"),
    ("대성정밀", "아이디스", "가장 잘 맞는 협력기업 대성정밀(0.884)은 아이디스와 짝지어짐"),
    ("ACME", "LG", "가장 잘 맞는 협력기업 ACME(0.884)은(는) LG과(와) 짝지어짐"),
])
def test_lost_to_better_pair_particles(partner, taker, expected):
    out = diagnose(_graph("주관", partner, taker), [("b", "m:s", 0.9)])
    reason = out["unmatched_leads"][0]["reasons"][0]
    assert reason["code"] == "lost_to_better_pair"
    assert reason["ko"].startswith(expected), reason["ko"]


@pytest.mark.parametrize("partner, expected", [("한빛소재", "한빛소재(0.884)가 쓰이지"),
                                               ("대성정밀", "대성정밀(0.884)이 쓰이지")])
def test_best_partner_unused_particles(partner, expected):
    out = diagnose(_graph("주관", partner, "다른"), [])
    reasons = {i["brn"]: i["reasons"][0] for i in out["unmatched_leads"]}
    assert expected in reasons["a"]["ko"]
