"""The route picture: boxes per country in order, arrows labelled with the transport, all text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ctm_plugin.web.route import BOX_WIDTH, GAP, PAD, Stop, describe, route_svg, stops

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own markup, parsed to check it is well formed


def texts(group: ET.Element) -> str:
    return " ".join(span.text or "" for span in group.iter(f"{SVG}tspan"))


def groups(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if g.get("class") == kind]


def test_consecutive_events_in_one_country_share_a_box():
    steps = [("Cambodia", None), ("Cambodia", "Car"), ("Thailand", "Bus"), ("Thailand", "Truck"), ("Malaysia", "Boat")]
    assert stops(steps) == [Stop("Cambodia"), Stop("Thailand", "Bus"), Stop("Malaysia", "Boat")]


def test_a_country_visited_again_later_gets_a_new_box():
    assert [s.country for s in stops([("A", None), ("B", "Car"), ("A", "Car")])] == ["A", "B", "A"]


def test_boxes_left_to_right_with_labelled_arrows_between():
    svg = parse(route_svg([("Cambodia", "Car"), ("Thailand", "Bus"), ("Thailand", None), ("Malaysia", None)]))
    boxes = groups(svg, "stop")
    assert [texts(box) for box in boxes] == ["Cambodia", "Thailand", "Malaysia"]
    lefts = [float(box.find(f"{SVG}rect").get("x")) for box in boxes]
    assert lefts == [PAD, PAD + BOX_WIDTH + GAP, PAD + 2 * (BOX_WIDTH + GAP)]
    legs = groups(svg, "leg")
    assert len(legs) == 2
    assert texts(legs[0]) == "Bus"
    assert legs[1].find(f"{SVG}text") is None  # the transport into Malaysia is not recorded
    assert svg.get("viewBox") == f"0 0 {2 * PAD + 3 * BOX_WIDTH + 2 * GAP} {svg.get('height')}"


def test_the_route_is_summarised_in_words_for_screen_readers():
    svg = parse(route_svg([("Cambodia", None), ("Thailand", "Bus or coach"), ("Malaysia", None)]))
    summary = "Route: from Cambodia, to Thailand by Bus or coach, to Malaysia."
    assert svg.get("role") == "img" and svg.get("aria-label") == summary
    assert svg.find(f"{SVG}title").text == summary


def test_the_summary_is_translated_by_the_given_gettext():
    french = {
        "Route: %(route)s.": "Itinéraire : %(route)s.",
        "from %(place)s": "départ : %(place)s",
        "to %(place)s by %(transport)s": "puis %(place)s (%(transport)s)",
    }
    route = stops([("Cambodge", None), ("Thaïlande", "Bus")])
    assert describe(route, lambda m: french.get(m, m)) == "Itinéraire : départ : Cambodge, puis Thaïlande (Bus)."


def test_every_text_is_escaped():
    markup = route_svg([("<script>alert(1)</script>", None), ('A "quoted" & land', "<b>ship</b>")])
    assert "<script>" not in markup and "<b>" not in markup
    svg = parse(markup)  # still well formed
    assert texts(groups(svg, "stop")[0]).startswith("<script>")
    assert '"quoted"' in svg.get("aria-label")


def test_long_names_wrap_and_nothing_uses_inline_styles():
    markup = route_svg(
        [("Democratic Republic of the Congo", None), ("Bosnia & Herzegovina", "Other means of transport")]
    )
    svg = parse(markup)
    spans = list(groups(svg, "stop")[0].iter(f"{SVG}tspan"))
    assert 1 < len(spans) <= 3
    assert not re.search(r"\sstyle=", markup)


def test_no_country_no_picture():
    assert route_svg([]) == ""
