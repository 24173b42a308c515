"""The scores chart is an SVG with no script and no external reference, titled for screen readers."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from ctm_plugin.scoring.chart import Series, scores_chart


def test_the_chart_is_plain_svg_with_a_title_and_description_and_nothing_external():
    svg = scores_chart(
        "Scores over time",
        "Three surveys.",
        ["2026-01-05", "2026-04-05", "2026-07-05"],
        [
            Series("Economic", [Decimal("0.50"), Decimal("0.80"), Decimal("0.08")]),
            Series("Overall", [Decimal("0.72")] * 3),
        ],
    )
    assert "<script" not in svg.lower() and "<style" not in svg and "style=" not in svg
    assert "http" not in svg.lower() and "href" not in svg.lower() and "<!--" not in svg
    root = etree.fromstring(svg.encode())
    assert root.tag == "svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "scores-chart-title scores-chart-desc"
    assert root[0].tag == "title" and root[0].text == "Scores over time"
    assert root[1].tag == "desc" and root[1].text == "Three surveys."
    assert "Economic" in svg and "2026-07-05" in svg
