"""The trends page: charts of the suppressed counts, each with its table beside it (the same numbers, for screen
readers and for anyone who wants them exact), by year or by quarter, over every mission of the reader's scope
(services/trends.py says why there is no other filter).

A chart draws only published numbers: a withheld one is left out of it (no bar), and its table says "<11" or
"x". The filters travel in the address (they name no person), and a filter that is not a choice is a message
naming it (400), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable

import pygal
from flask import abort, request

from ctm_plugin import i18n
from ctm_plugin.codelists import all_lists
from ctm_plugin.domain.trends import AGE_GROUPS, RELEASE_AFTER, ROUTE_ARROW, SCORE_BAND_LABELS, UNKNOWN
from ctm_plugin.i18n import N_
from ctm_plugin.research import small_cell_k
from ctm_plugin.schemas.trends import PERIODS
from ctm_plugin.scoring.chart import inline_svg
from ctm_plugin.security.permissions import TRENDS_VIEW
from ctm_plugin.services import trends as service
from ctm_plugin.services.base import Invalid, NotFound
from ctm_plugin.web import page, render
from ctm_plugin.web.exchanges import HOST_STATUSES
from ctm_plugin.web.forms import FormState
from mimosa_host.plugin_api import Page, current_context

FILTER = "filter"
PERIOD_LABELS = {"year": N_("Years"), "quarter": N_("Quarters")}
SCORE_DIMENSIONS = {"economic": N_("Economic"), "social": N_("Social"), "psychosocial": N_("Psychosocial")}
assert {label for _low, _high, label in AGE_GROUPS} <= {"0-17", "18-24", "25-34", "35-44", "45+"}


def value_label(dimension: str, value: str) -> str:
    """A dimension's value in the reader's language."""
    lists = all_lists()
    if value == UNKNOWN:
        return i18n._("Not recorded")
    by_list = {
        "citizenship": "country",
        "exploitation_country": "country",
        "exploitation_type": "exploitation_type",
        "control": "control_method",
        "recruiter": "recruiter_relationship",
        "sex": "gender",
        "assistance": "service_type",
    }
    if dimension in by_list:
        return lists[by_list[dimension]].label(value)
    if dimension == "cases":
        return i18n._("Cases")
    if dimension == "route":
        start, _arrow, end = value.partition(ROUTE_ARROW)
        return f"{lists['country'].label(start)} → {lists['country'].label(end)}"
    if dimension == "return":
        return i18n._(HOST_STATUSES[value]) if value in HOST_STATUSES else value
    if dimension == "reintegration":
        part, _colon, band = value.partition(":")
        named = i18n._(SCORE_DIMENSIONS[part]) if part in SCORE_DIMENSIONS else part
        return f"{named}: {i18n._(SCORE_BAND_LABELS[band])}" if band in SCORE_BAND_LABELS else named
    return value  # an age group (digits) or a mission's code


def chart_of(table: service.TrendTable, label: Callable[[str], str], number: int) -> str:
    """The table's published numbers as bars: the cases by period; any other dimension by value in the latest
    period (its Total row is withheld wherever a year's number is: services/trends.py)."""
    title = i18n._(table.dimension.title)
    if table.dimension.key == "cases":
        names = list(table.periods)
        shown = table.numbers.row_totals
        chart = pygal.Bar(**_look(title, 360))
    else:
        names = [label(v) for v in table.values]
        shown = table.numbers.cells[-1]
        title = f"{title}: {table.periods[-1]}"
        chart = pygal.HorizontalBar(**_look(title, max(240, 36 * len(names) + 120)))
    chart.x_labels = names
    chart.add(title, [s.count for s in shown])  # None (no bar) where withheld
    description = i18n._(
        "Bars of the counts that may be published; a count below %(k)s is left out. "
        "The table beside it has every number.",
        k=table.numbers.k,
    )
    return inline_svg(chart, f"trend-chart-{number}", title, description)


def _look(title: str, height: int) -> dict[str, object]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "title": title,
        "show_legend": False,
        "width": 720,
        "height": height,
        "explicit_size": False,
        "truncate_label": -1,
        "print_values": False,
        "value_formatter": lambda value: f"{value:.0f}",
    }


@page("/trends", TRENDS_VIEW)
def trends_page():  # noqa: ANN201
    ctx = current_context()
    asked = dict(request.args.items())
    errors: dict[str, list[str]] = {}
    found = None
    try:
        found = service.trends(ctx, asked)
    except NotFound:
        abort(404)
    except Invalid as refused:
        errors = refused.errors

    def labeller(dimension: str) -> Callable[[str], str]:
        return lambda value: value_label(dimension, value)

    body = render(
        "trends.html",
        found=found,
        form=FormState(FILTER, errors, {"period": found.filters["period_bin"]} if found else asked),
        period_choices=[(p, i18n._(PERIOD_LABELS[p])) for p in PERIODS],
        charts=[chart_of(t, labeller(t.dimension.key), n) for n, t in enumerate(found.tables)] if found else [],
        value_label=value_label,
        k=small_cell_k(),
        release_days=RELEASE_AFTER.days,
        shown_fields=("period",),
    )
    return Page(title=i18n._("Trends"), body=body, status=400 if errors else 200)
