"""The person's route as a picture: the countries left to right, arrows labelled with the transport.

Pure: from one ``(country label, transport label or None)`` step per event, in the order of
the story, to SVG markup. Consecutive steps in the same country share a box. The arrow into
a country carries the transport of the first event there: that event is the move to the
next country (its border crossing and documents describe the same leg).

The host's Content-Security-Policy forbids inline ``style`` attributes, so the drawing uses
SVG presentation attributes only (``fill``, ``stroke``, ``font-size``…). Every text is escaped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from ctm_plugin.i18n import N_

Step = tuple[str, str | None]
"""A country label and the label of the transport the event used (``None`` when not recorded)."""

# Geometry, in SVG user units.
PAD = 10
BOX_WIDTH = 160
BOX_HEIGHT = 64
GAP = 130
"""Room for the arrow between two boxes, and its label."""
BOX_CHARS = 18
LABEL_CHARS = 18
BOX_LINES = 3
LABEL_LINES = 2
INK, ACCENT, FILL = "#1d2733", "#0b5394", "#eef4fb"

ROUTE = N_("Route: %(route)s.")
FIRST = N_("from %(place)s")
LEG = N_("to %(place)s by %(transport)s")
LEG_UNKNOWN = N_("to %(place)s")


@dataclass(frozen=True)
class Stop:
    """One box: a country, and how the person arrived in it from the previous box."""

    country: str
    arrived_by: str | None = None


def stops(steps: Sequence[Step]) -> list[Stop]:
    """Merge consecutive steps in the same country; the first step of a new country gives the arrow's transport."""
    result: list[Stop] = []
    for country, transport in steps:
        if result and result[-1].country == country:
            continue
        result.append(Stop(country, transport if result else None))
    return result


def _identity(message: str) -> str:
    return message


def describe(route: Sequence[Stop], gettext: Callable[[str], str] = _identity) -> str:
    """The route in words, e.g. "Route: from Cambodia, to Thailand by Bus or coach."."""
    parts = []
    for index, stop in enumerate(route):
        if index == 0:
            parts.append(gettext(FIRST) % {"place": stop.country})
        elif stop.arrived_by:
            parts.append(gettext(LEG) % {"place": stop.country, "transport": stop.arrived_by})
        else:
            parts.append(gettext(LEG_UNKNOWN) % {"place": stop.country})
    return gettext(ROUTE) % {"route": ", ".join(parts)}


def _lines(text: str, width: int, most: int) -> list[str]:
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _text(lines: list[str], x: float, first_baseline: float, size: int, line_height: int, **attrs: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attrs.items())
    spans = "".join(
        f'<tspan x="{x:g}" y="{first_baseline + i * line_height:g}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text text-anchor="middle" font-size="{size}" fill="{INK}"{extra}>{spans}</text>'


def route_svg(steps: Sequence[Step], gettext: Callable[[str], str] = _identity) -> Markup:
    """The SVG picture of the route; empty markup when no step has a country.

    ``gettext`` translates the few words of the summary (the ``<title>`` and ``aria-label``);
    the labels in ``steps`` come translated already.
    """
    route = stops(steps)
    if not route:
        return Markup("")
    width = 2 * PAD + len(route) * BOX_WIDTH + (len(route) - 1) * GAP
    height = 2 * PAD + BOX_HEIGHT
    middle = PAD + BOX_HEIGHT / 2
    summary = escape(describe(route, gettext))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ctm-route" role="img" aria-label="{summary}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="system-ui, sans-serif">',
        f"<title>{summary}</title>",
    ]
    for index, stop in enumerate(route):
        left = PAD + index * (BOX_WIDTH + GAP)
        if index > 0:
            start, end = left - GAP + 6, left - 6
            parts.append(
                f'<g class="leg"><line x1="{start}" y1="{middle:g}" x2="{end - 9}" y2="{middle:g}" '
                f'stroke="{ACCENT}" stroke-width="2"/>'
                f'<polygon points="{end},{middle:g} {end - 10},{middle - 5:g} {end - 10},{middle + 5:g}" '
                f'fill="{ACCENT}"/>'
            )
            if stop.arrived_by:
                lines = _lines(stop.arrived_by, LABEL_CHARS, LABEL_LINES)
                top = middle - 7 - (len(lines) - 1) * 14
                parts.append(_text(lines, left - GAP / 2, top, 12, 14, font_style="italic"))
            parts.append("</g>")
        lines = _lines(stop.country, BOX_CHARS, BOX_LINES)
        first = middle + 5 - (len(lines) - 1) * 8.5
        parts.append(
            f'<g class="stop"><rect x="{left}" y="{PAD}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="6" '
            f'fill="{FILL}" stroke="{ACCENT}" stroke-width="1.5"/>'
            + _text(lines, left + BOX_WIDTH / 2, first, 14, 17, font_weight="600")
            + "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
