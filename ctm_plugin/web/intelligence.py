"""Intelligence: the links between cases (perpetrators, places, routes, recruitment methods) and the most
connected, the network drawn as SVG with the same links as a table, and a case's referral package for law
enforcement (printed, or downloaded as CSV) while the person's consent to it is in force.

The network is drawn here, server-side, in two columns (perpetrators and places on the left, their cases on the
right, each case beside its first entity): a deterministic layout that stays readable for the bounded picture
the domain gives (domain/intelligence.py), with no script, no style attribute and no external reference (the
host's Content-Security-Policy), its title and description for screen readers, and the table beside it.
"""

from __future__ import annotations

import csv
import io

from flask import Response, abort
from markupsafe import Markup, escape

from ctm_plugin import i18n
from ctm_plugin.codelists import all_lists
from ctm_plugin.domain import intelligence as links
from ctm_plugin.domain.models import utcnow
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import INTELLIGENCE_VIEW
from ctm_plugin.services import intelligence as service
from ctm_plugin.services.base import NotFound
from ctm_plugin.services.spreadsheet import neutral
from ctm_plugin.web import ROW_ID, page, person, render
from ctm_plugin.web.dates import recalled
from mimosa_host.plugin_api import Page, current_context

KIND_TITLES = {
    links.PERPETRATOR: i18n.N_("Perpetrators"),
    links.PLACE: i18n.N_("Places"),
    links.ROUTE: i18n.N_("Routes"),
    links.RECRUITMENT: i18n.N_("Recruitment methods"),
}
KIND_NAMES = {
    links.PERPETRATOR: i18n.N_("Perpetrator"),
    links.PLACE: i18n.N_("Place"),
    links.ROUTE: i18n.N_("Route"),
    links.RECRUITMENT: i18n.N_("Recruitment method"),
}
MOST_CONNECTED = 10


def entity_label(entity: links.Entity) -> str:
    """How an entity reads: an alias as the caseworker wrote it, a place, route or method in the reader's
    language."""
    countries = all_lists()["country"]
    if entity.kind == links.PLACE:
        country, _colon, _locality = entity.key.partition(":")
        locality = entity.label.rpartition(",")[0] if _colon else ""
        return f"{locality}, {countries.label(country)}" if locality else countries.label(country)
    if entity.kind == links.ROUTE:
        start, _arrow, end = entity.key.partition(links.ROUTE_ARROW)
        return f"{countries.label(start)} → {countries.label(end)}"
    if entity.kind == links.RECRUITMENT:
        return all_lists()["recruitment_method"].label(entity.key)
    return entity.label


def _shortened(text: str, most: int = 26) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


ROW = 26
TOP = 34
WIDTH = 480
LEFT_X = 170
RIGHT_X = 330
FILLS = {links.PERPETRATOR: "#8a1c1c", links.PLACE: "#1f4e8c"}


def network_svg(network: links.Network, title: str, description: str) -> Markup:
    """The network in two columns, its nodes spread evenly over the taller column; every text escaped."""
    rows = max(len(network.entities), len(network.cases), 1)
    height = TOP + rows * ROW

    def y(index: int, count: int) -> float:
        return TOP + (index + 0.5) * (rows * ROW / max(count, 1))

    at_entity = {e.ref: y(i, len(network.entities)) for i, e in enumerate(network.entities)}
    at_case = {c: y(i, len(network.cases)) for i, c in enumerate(network.cases)}
    left_title, right_title = i18n._("Perpetrators and places"), i18n._("Cases")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        'aria-labelledby="network-title network-desc" font-family="sans-serif" font-size="12">',
        f'<title id="network-title">{escape(title)}</title><desc id="network-desc">{escape(description)}</desc>',
        f'<text x="{LEFT_X}" y="16" text-anchor="end" font-weight="bold">{escape(left_title)}</text>',
        f'<text x="{RIGHT_X}" y="16" font-weight="bold">{escape(right_title)}</text>',
    ]
    for ref, case in network.links:
        parts.append(
            f'<line x1="{LEFT_X}" y1="{at_entity[ref]:.1f}" x2="{RIGHT_X}" y2="{at_case[case]:.1f}" '
            'stroke="#777" stroke-width="1.2"/>'
        )
    for entity in network.entities:
        cy = at_entity[entity.ref]
        fill = FILLS[entity.kind]
        marker = (
            f'<circle cx="{LEFT_X}" cy="{cy:.1f}" r="6" fill="{fill}"/>'
            if entity.kind == links.PERPETRATOR
            else f'<rect x="{LEFT_X - 6}" y="{cy - 6:.1f}" width="12" height="12" fill="{fill}"/>'
        )
        label = f"{_shortened(entity_label(entity))} ({len(entity.cases)})"
        parts.append(
            f'<g data-node="{escape(entity.ref)}">{marker}<text x="{LEFT_X - 12}" y="{cy + 4:.1f}" '
            f'text-anchor="end">{escape(label)}</text></g>'
        )
    for case in network.cases:
        cy = at_case[case]
        parts.append(
            f'<g data-node="case:{escape(case.mission)}:{case.case_id}"><circle cx="{RIGHT_X}" cy="{cy:.1f}" r="5" '
            f'fill="#fff" stroke="#333" stroke-width="1.5"/><text x="{RIGHT_X + 10}" y="{cy + 4:.1f}">'
            f"{escape(case.case_number)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _read(view: str) -> service.Intelligence:
    try:
        return service.read(current_context(), view)
    except NotFound:
        abort(404)


@page("/intelligence", INTELLIGENCE_VIEW)
def intelligence_links():  # noqa: ANN201
    found = _read("links")
    by_kind = {kind: [e for e in found.shared if e.kind == kind] for kind in links.KINDS}
    body = render(
        "intelligence.html",
        found=found,
        most_connected=[e for e in found.shared if e.kind in (links.PERPETRATOR, links.PLACE)][:MOST_CONNECTED],
        by_kind=by_kind,
        kind_titles=KIND_TITLES,
        kind_names=KIND_NAMES,
        entity_label=entity_label,
    )
    return Page(title=i18n._("Intelligence"), body=body)


@page("/intelligence/network", INTELLIGENCE_VIEW)
def intelligence_network():  # noqa: ANN201
    found = _read("network")
    network = links.network(found.shared)
    title = i18n._("Network of cases, perpetrators and places")
    description = i18n._(
        "Perpetrators (circles) and places (squares) shared by two or more cases, each joined by a line to its "
        "cases; the table below lists the same links."
    )
    body = render(
        "intelligence_network.html",
        found=found,
        network=network,
        svg=network_svg(network, title, description) if network.entities else "",
        kind_names=KIND_NAMES,
        entity_label=entity_label,
        bounds=(links.NETWORK_ENTITIES, links.NETWORK_CASES),
    )
    return Page(title=i18n._("Intelligence network"), body=body)


def _package(case_id: int, action: str) -> service.Package | Page:
    try:
        return service.referral_package(current_context(), case_id, action)
    except NotFound:
        abort(404)
    except service.NoConsent as refused:
        body = render("intelligence_package.html", package=None, refusal=refused.message)
        return Page(title=i18n._("Law-enforcement referral package"), body=body, status=409)


@page(f"/intelligence/cases/<{ROW_ID}:case_id>/package", INTELLIGENCE_VIEW)
def referral_package(case_id: int):  # noqa: ANN201
    """The package for print; producing it is audited on the case."""
    package = _package(case_id, "intelligence.package")
    if isinstance(package, Page):
        return package
    ctx = current_context()
    body = render(
        "intelligence_package.html",
        package=package,
        refusal=None,
        produced_by=person(actor(ctx)),
        produced_at=utcnow(),
    )
    title = i18n._("Law-enforcement referral package %(number)s", number=package.case_number)
    return Page(title=title, body=body)


@page(f"/intelligence/cases/<{ROW_ID}:case_id>/package.csv", INTELLIGENCE_VIEW)
def referral_package_csv(case_id: int):  # noqa: ANN201
    """The package as a CSV (one line per fact: section, item, value), in the reader's language; audited."""
    package = _package(case_id, "intelligence.package.download")
    if isinstance(package, Page):
        return package
    name = f"referral-{package.mission}-{package.case_number}.csv".replace("/", "-")
    return Response(
        "\ufeff" + package_csv(package),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def package_csv(package: service.Package) -> str:
    lists = all_lists()
    out = io.StringIO()
    writer = csv.writer(out)
    _ = i18n._
    rows: list[tuple[str, str, str]] = [
        (_("Case"), _("Mission"), package.mission),
        (_("Case"), _("Case number"), package.case_number),
        (_("Case"), _("Consent to sharing with law enforcement given on"), package.consent_given_on.isoformat()),
        (
            _("Facts"),
            _("Trafficking status"),
            lists["trafficking_status"].label(package.trafficking_status) if package.trafficking_status else "",
        ),
        (
            _("Facts"),
            _("Types of exploitation"),
            ", ".join(lists["exploitation_type"].labels(package.exploitation_types)),
        ),
        (
            _("Facts"),
            _("Recruitment methods"),
            ", ".join(lists["recruitment_method"].labels(package.recruitment_methods)),
        ),
        (_("Facts"), _("Means of control"), ", ".join(lists["control_method"].labels(package.control_methods))),
    ]
    for event in package.events:
        where = ", ".join(
            x for x in (event.locality or "", lists["country"].label(event.country) if event.country else "") if x
        )
        when = recalled(event.start_date, event.start_precision) if event.start_date else ""
        rows.append(
            (_("Events"), f"{event.sequence}. {lists['event_type'].label(event.type)}", f"{where} {when}".strip())
        )
    for number, p in enumerate(package.perpetrators, start=1):
        described = [
            p.alias or _("no alias"),
            ", ".join(lists["perpetrator_role"].labels(p.roles)),
            lists["country"].label(p.nationality) if p.nationality else "",
            lists["gender"].label(p.sex) if p.sex else "",
        ]
        rows.append((_("Perpetrators"), str(number), "; ".join(d for d in described if d)))
    for start, end in package.routes:
        rows.append((_("Routes"), "", f"{lists['country'].label(start)} → {lists['country'].label(end)}"))
    writer.writerows([neutral(a), neutral(b), neutral(c)] for a, b, c in rows)
    return out.getvalue()
