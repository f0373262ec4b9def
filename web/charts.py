"""Server-rendered SVG pictures of a run, as plain functions returning :class:`markupsafe.Markup`.

Every label goes through :func:`markupsafe.escape`, so a firm named ``<script>`` stays text.
"""

from __future__ import annotations

import re
from collections import defaultdict

from markupsafe import Markup, escape

TRACK_COLOURS = {
    "innovation": "#1b7f5b", "materials": "#2f6fd0", "convergence": "#9a4fd0",
    "construction": "#d07a1b", "value": "#c23b6b",
}
OTHER_COLOUR = "#666666"
BELOW_MIN_COLOUR = "#d01b1b"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _svg(width, height, body, label, cls="chart"):
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:g}" width="{width}" '
        f'height="{height:g}" role="img" aria-label="{escape(label)}" class="{cls}">{"".join(body)}</svg>')


def _text(x, y, text, anchor="start", cls="label"):
    # Control characters are not allowed in XML even when escaped; a name could carry one.
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" class="{cls}">{escape(_NOT_XML.sub("", text))}</text>'


def bipartite_svg(pairs, label="pairings", unused=()):
    """Partners (left) joined to their leads (right), lines coloured by track.

    Parameters
    ----------
    pairs : list of dict
        Each with ``partner`` and ``lead`` (display names), ``partner_key`` and ``lead_key`` (ids),
        ``track``, and ``below_min`` (True when the partner signs fewer leads than its minimum).
    unused : list of str
        Large partners left without leads (below their minimum by definition), drawn alone.

    Returns
    -------
    Markup
        An ``<svg>`` element; partners below their minimum get a red outline.
    """
    groups = defaultdict(list)
    for p in pairs:
        groups[(p["partner_key"], p["partner"], bool(p.get("below_min")))].append(p)
    for i, name in enumerate(unused):
        groups[(("unused", i), name, True)] = []
    row, top, width = 22, 20, 760
    height = top * 2 + row * max(len(pairs) + len(unused), 1)
    body, y = [], top
    # Partners with many leads first: the 1-large-to-many structure is what staff look for.
    for (_key, name, below), members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        py = y + row * (max(len(members), 1) - 1) / 2
        stroke = BELOW_MIN_COLOUR if below else "#333"
        for i, p in enumerate(members):
            ly = y + row * i
            colour = TRACK_COLOURS.get(p["track"], OTHER_COLOUR)
            body.append(f'<line x1="250" y1="{py:.1f}" x2="500" y2="{ly:.1f}" stroke="{colour}" '
                        f'stroke-width="2" class="edge track-{escape(p["track"])}"/>')
            body.append(f'<circle cx="500" cy="{ly:.1f}" r="5" fill="{colour}"/>')
            body.append(_text(512, ly + 4, p["lead"]))
        cls = "partner below-min" if below else "partner"
        body.append(f'<rect x="236" y="{py - 8:.1f}" width="16" height="16" rx="3" fill="#fff" '
                    f'stroke="{stroke}" stroke-width="{3 if below else 1.5}" class="{cls}"/>')
        body.append(_text(228, py + 4, name, "end", "label below-min" if below else "label"))
        y += row * max(len(members), 1)
    return _svg(width, height, body, label)


def load_svg(loads, label="partner load", x_title="", y_title="", min_legend=""):
    """Horizontal bars: leads per partner, with the partner's minimum as a dashed tick.

    Parameters
    ----------
    loads : list of dict
        Each with ``name``, ``count``, ``min`` and ``max`` (``max`` None = unbounded).
    x_title, y_title : str
        The axes' titles (leads per partner; the partners).
    min_legend : str
        What the dashed tick means, drawn under the chart with the same dash when some partner has one.
    """
    row, left, scale_w, top_margin = 20, 220, 420, 22 if y_title else 10
    top = max((max(l["count"], l["min"], l["max"] or 0) for l in loads), default=1) or 1
    body = [_text(left - 8, 14, y_title, "end", "axis-title")] if y_title else []
    for i, l in enumerate(loads):
        y = top_margin + i * row
        w = scale_w * l["count"] / top
        below = l["count"] < l["min"]
        body.append(_text(left - 8, y + 12, l["name"], "end"))
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="14" '
                    f'fill="{BELOW_MIN_COLOUR if below else "#2f6fd0"}"/>')
        body.append(_text(left + w + 6, y + 12, str(l["count"])))
        if l["min"] > 1:
            mx = left + scale_w * l["min"] / top
            body.append(f'<line x1="{mx:.1f}" y1="{y - 2}" x2="{mx:.1f}" y2="{y + 16}" stroke="#000" '
                        f'stroke-dasharray="3,2"/>')
    y = top_margin + row * max(len(loads), 1) + 4
    body.append(f'<line x1="{left}" y1="{y}" x2="{left + scale_w}" y2="{y}" stroke="#333"/>')
    if x_title:
        y += 16
        body.append(_text(left + scale_w / 2, y, x_title, "middle", "axis-title"))
    if min_legend and any(l["min"] > 1 for l in loads):
        y += 18
        body.append(f'<line x1="{left}" y1="{y - 12}" x2="{left}" y2="{y + 2}" stroke="#000" stroke-dasharray="3,2"/>')
        body.append(_text(left + 8, y, min_legend, "start", "small legend-min"))
    return _svg(left + scale_w + 60, y + 8, body, label)


def histogram_svg(scores, bins=10, label="score distribution", x_title="", y_title=""):
    """A histogram of ``scores`` (shape (n,), values in [0, 1]) in ``bins`` equal bins.

    320 px wide, so it fits a phone's screen without scrolling inside its box (class ``fits``);
    ``x_title`` and ``y_title`` name the axes (the score; how many proposals).
    """
    counts = [0] * bins
    for s in scores:
        counts[min(bins - 1, max(0, int(float(s) * bins)))] += 1
    width, left, top_margin = 320, 34 if y_title else 24, 18 if y_title else 8
    bottom = top_margin + 150
    top = max(counts) or 1
    bar = (width - left - 10) / bins
    body = [f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#333"/>']
    if y_title:
        body.append(_text(4, 12, y_title, "start", "axis-title"))
    for i, c in enumerate(counts):
        h = 140 * c / top
        x = left + i * bar
        body.append(f'<rect x="{x + 1:.1f}" y="{bottom - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                    f'fill="#1b7f5b"><title>{i / bins:.1f}–{(i + 1) / bins:.1f}: {c}</title></rect>')
        if c:
            body.append(_text(f"{x + bar / 2:.1f}", f"{bottom - h - 3:.1f}", str(c), "middle", "small"))
        if bins <= 10 or i % 2 == 0:
            body.append(_text(f"{x:.1f}", bottom + 14, f"{i / bins:.1f}", "middle", "small"))
    body.append(_text(width - 10, bottom + 14, "1.0", "end", "small"))
    height = bottom + 20
    if x_title:
        height += 14
        body.append(_text((left + width - 10) / 2, height - 4, x_title, "middle", "axis-title"))
    return _svg(width, height, body, label, "chart fits")


def weights_svg(components, label="weights", x_title="", y_title="", learned_label="", hand_label=""):
    """Learned against hand weights, one pair of horizontal bars per score component.

    Parameters
    ----------
    components : list of dict
        Each with ``label`` (the component's name as shown), ``learned`` and ``hand`` (shares of the score,
        in [0, 1]).
    x_title, y_title : str
        The axes' titles (share of the score; the score components).
    learned_label, hand_label : str
        The legend.
    """
    row, left, scale_w, top_margin = 34, 150, 380, 40
    top = max([max(c["learned"], c["hand"]) for c in components] + [0.05])
    body = [_text(left - 8, 14, y_title, "end", "axis-title")] if y_title else []
    colours = (("learned", "#2f6fd0", learned_label), ("hand", "#999999", hand_label))
    for i, (_key, colour, text) in enumerate(colours):
        x = left + i * 170
        body.append(f'<rect x="{x}" y="22" width="12" height="10" fill="{colour}"/>')
        body.append(_text(x + 16, 31, text, "start", "small legend"))
    for i, c in enumerate(components):
        y = top_margin + i * row
        body.append(_text(left - 8, y + 16, c["label"], "end"))
        for j, (key, colour, _text_label) in enumerate(colours):
            w = scale_w * c[key] / top
            by = y + j * 13
            body.append(f'<rect x="{left}" y="{by}" width="{w:.1f}" height="11" fill="{colour}" class="bar-{key}">'
                        f'<title>{escape(c["label"])}: {c[key]:.3f}</title></rect>')
            body.append(_text(f"{left + w + 4:.1f}", by + 10, f"{c[key]:.2f}", "start", "small"))
    y = top_margin + row * len(components) + 2
    body.append(f'<line x1="{left}" y1="{y}" x2="{left + scale_w}" y2="{y}" stroke="#333"/>')
    for f in (0.0, 0.5, 1.0):
        x = left + scale_w * f
        body.append(_text(f"{x:.1f}", y + 14, f"{top * f:.2f}", "middle", "small"))
    if x_title:
        y += 32
        body.append(_text(left + scale_w / 2, y, x_title, "middle", "axis-title"))
    return _svg(left + scale_w + 60, y + 8, body, label)


def funnel_svg(funnel, lang="ko"):
    """How far each track's pairs got: one block of horizontal bars per track, a bar per step.

    Parameters
    ----------
    funnel : dict
        As :func:`matcher.rounds.publication.funnel` returns it: ``steps`` [(key, Msg)] and ``tracks``
        {track: [count per step]}.

    Returns
    -------
    Markup
        An ``<svg>`` with both axis titles (steps; number of leads or pairs) and a tick scale.
    """
    from matcher.messages import N_, msg
    steps = [label.text(lang) for _key, label in funnel["steps"]]
    tracks = funnel["tracks"]
    row, gap, left, scale_w, top_pad = 16, 22, 150, 330, 10
    most = max((max(c) for c in tracks.values() if c), default=0) or 1
    body, y = [], top_pad
    for track, counts in tracks.items():
        body.append(_text(left, y + 12, msg(N_("track." + track)).text(lang), "start", "label track-title"))
        y += 18
        for label, count in zip(steps, counts):
            w = scale_w * count / most
            body.append(_text(left - 6, y + 11, label, "end", "small"))
            body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 4}" '
                        f'fill="{TRACK_COLOURS.get(track, OTHER_COLOUR)}"><title>{escape(label)}: {count}</title></rect>')
            body.append(_text(f"{left + w + 4:.1f}", y + 11, f"{count:,}", "start", "small"))
            y += row
        y += gap - row + 6
    axis_y = y + 4
    body.append(f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{axis_y}" stroke="#333"/>')
    body.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + scale_w}" y2="{axis_y}" stroke="#333"/>')
    for i in range(5):
        value = most * i / 4
        x = left + scale_w * i / 4
        body.append(f'<line x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 4}" stroke="#333"/>')
        body.append(_text(f"{x:.1f}", axis_y + 15, f"{value:,.0f}", "middle", "small"))
    body.append(_text(left + scale_w / 2, axis_y + 32, msg("funnel.axis_count").text(lang), "middle", "label axis-title"))
    mid, step_title = (top_pad + axis_y) / 2, msg("funnel.axis_step").text(lang)
    body.append(f'<text x="14" y="{mid:.1f}" text-anchor="middle" class="label axis-title" '
                f'transform="rotate(-90 14 {mid:.1f})">{escape(step_title)}</text>')
    return _svg(left + scale_w + 60, axis_y + 40, body, msg("funnel.title").text(lang), "chart fits")
