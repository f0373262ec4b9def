"""The SVG pictures: well-formed XML, escaped labels, the right counts, partners below minimum flagged."""

import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from web.charts import BELOW_MIN_COLOUR, bipartite_svg, histogram_svg, load_svg

NS = "{http://www.w3.org/2000/svg}"


def _pair(partner, lead, track="materials", below=False):
    return dict(partner=partner, lead=lead, partner_key=(partner, track), lead_key=lead, track=track,
                below_min=below)


def test_bipartite_groups_leads_under_their_partner():
    pairs = [_pair("테크윈", f"SME {i}") for i in range(5)] + [_pair("작은 협력", "SME 9", "innovation")]
    root = ET.fromstring(str(bipartite_svg(pairs)))
    assert len(root.findall(f"{NS}line")) == 6
    assert len(root.findall(f"{NS}rect")) == 2  # one box per partner
    colours = {line.get("stroke") for line in root.findall(f"{NS}line")}
    assert colours == {"#2f6fd0", "#1b7f5b"}


def test_bipartite_marks_partner_below_minimum_and_escapes_names():
    svg = str(bipartite_svg([_pair("<script>x</script>", "A&B", below=True)]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "A&amp;B" in svg
    box = ET.fromstring(svg).find(f"{NS}rect")
    assert box.get("stroke") == BELOW_MIN_COLOUR and "below-min" in box.get("class")


def test_unused_partners_are_drawn_alone_and_flagged():
    root = ET.fromstring(str(bipartite_svg([_pair("협력", "SME")], unused=["빈 대기업"])))
    assert len(root.findall(f"{NS}line")) == 1
    boxes = root.findall(f"{NS}rect")
    assert [b.get("stroke") == BELOW_MIN_COLOUR for b in boxes] == [False, True]


def test_load_chart_flags_below_minimum():
    svg = load_svg([dict(name="대기업", count=3, min=5, max=None), dict(name="중기업", count=1, min=1, max=1)])
    fills = [r.get("fill") for r in ET.fromstring(str(svg)).findall(f"{NS}rect")]
    assert fills == [BELOW_MIN_COLOUR, "#2f6fd0"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1), max_size=200), st.integers(min_value=1, max_value=20))
def test_histogram_counts_every_score_once(scores, bins):
    root = ET.fromstring(str(histogram_svg(scores, bins=bins)))
    bars = root.findall(f"{NS}rect")
    assert len(bars) == bins
    counts = [int(bar.find(f"{NS}title").text.rsplit(": ", 1)[1]) for bar in bars]
    assert sum(counts) == len(scores)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12), st.booleans()), max_size=15))
def test_bipartite_is_well_formed_for_any_names(items):
    pairs = [_pair(p, l, below=b) for p, l, b in items]
    root = ET.fromstring(str(bipartite_svg(pairs)))
    assert len(root.findall(f"{NS}line")) == len(pairs)


def _texts(svg):
    return [t.text for t in ET.fromstring(str(svg)).iter(f"{NS}text")]


def test_load_chart_has_axis_titles_and_explains_the_dashed_minimum():
    svg = load_svg([dict(name="대기업", count=3, min=5, max=None)], x_title="배정된 주관기업 수",
                   y_title="협력기업", min_legend="점선: 최소 주관기업 수")
    texts = _texts(svg)
    assert "배정된 주관기업 수" in texts and "협력기업" in texts and "점선: 최소 주관기업 수" in texts
    dashed = [line for line in ET.fromstring(str(svg)).iter(f"{NS}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 2  # the partner's minimum, and the same dash in the legend


def test_load_chart_without_a_minimum_draws_no_dashed_legend():
    svg = load_svg([dict(name="중기업", count=1, min=1, max=1)], min_legend="점선: 최소 주관기업 수")
    assert "점선: 최소 주관기업 수" not in _texts(svg)


def test_histogram_has_axis_titles_and_fits_a_phone():
    svg = histogram_svg([0.1, 0.5, 0.52], x_title="점수", y_title="제안 수")
    root = ET.fromstring(str(svg))
    assert "점수" in _texts(svg) and "제안 수" in _texts(svg)
    assert int(root.get("width")) <= 360 and "fits" in root.get("class")  # 390 px less the page's margins
