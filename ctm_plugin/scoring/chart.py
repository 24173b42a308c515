"""The sustainability scores over time as an SVG line chart, rendered on the server by pygal.

The page inlines the SVG: it carries no script (pygal's tooltips need one, and pygal links its
scripts from a CDN by default: ``js=[]``, and its inline configuration script is removed), no
external reference (its comments naming pygal's site and the SVG namespaces, which HTML does not
need for an inline ``<svg>``, are removed), and a title and description for screen readers
(``role="img"``). The table beside it carries the same numbers for everyone.

Its look comes from the CTM's stylesheet (``web/static/ctm.css``, ``.ctm-chart``): the host's
Content-Security-Policy allows no inline style, so pygal's ``<style>`` and ``style`` attributes are
removed with its tooltips. The series are coloured in order: ``.serie-0`` to ``.serie-3``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import pygal
from lxml import etree

_NAMESPACES = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Decimal | None]
    """``None`` where a survey has no score for the series (an older model without its dimension)."""


def scores_chart(title: str, description: str, dates: Sequence[str], series: Sequence[Series]) -> str:
    """An inline ``<svg>``: one line per series (a dimension, the overall score) over ``dates``, 0 to 1."""
    chart = pygal.Line(
        js=[],
        disable_xml_declaration=True,
        title=title,
        range=(0, 1),
        include_x_axis=True,
        show_dots=True,
        dots_size=4,
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        truncate_legend=-1,
        width=720,
        margin_right=48,
        height=360,
        explicit_size=False,
        x_label_rotation=0,
        value_formatter=lambda value: f"{value:.2f}",
    )
    chart.x_labels = list(dates)
    for line in series:
        chart.add(line.label, [None if value is None else float(value) for value in line.values])
    return inline_svg(chart, "scores-chart", title, description)


def inline_svg(chart: pygal.graph.graph.Graph, chart_id: str, title: str, description: str) -> str:
    """``chart`` as an inline ``<svg>`` safe under the host's Content-Security-Policy (see above): no script,
    no style, no external reference; its title and description (ids ``<chart_id>-title``, ``-desc``) for
    screen readers."""
    tree = chart.render_tree()
    unwanted = "//*[local-name()='defs'] | //*[contains(@class, 'tooltip-overlay')] | //comment()"
    for node in tree.xpath(unwanted):
        node.getparent().remove(node)
    for node in tree.xpath("//*[@style]"):
        del node.attrib["style"]
    tree.set("role", "img")
    tree.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    for node in tree.xpath("./*[local-name()='title']"):
        tree.remove(node)
    svg = "{http://www.w3.org/2000/svg}"
    head = etree.Element(svg + "title", id=f"{chart_id}-title")
    head.text = title
    desc = etree.Element(svg + "desc", id=f"{chart_id}-desc")
    desc.text = description
    tree.insert(0, desc)
    tree.insert(0, head)
    text = etree.tostring(tree, encoding="unicode")
    return _NAMESPACES.sub("", text)
