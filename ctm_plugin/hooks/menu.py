"""The CTM's entries in the host's navigation: only what the user may use in the mission."""

from collections.abc import Sequence

from flask import url_for

from ctm_plugin.i18n import N_
from ctm_plugin.security.permissions import (
    CASE_EDIT,
    CASE_SUPERVISE,
    CASE_VIEW,
    DISBURSEMENT_APPROVE,
    EMERGENCY_FUND_APPROVE,
    EMERGENCY_FUND_REQUEST,
    HANDOVER_ACCEPT,
    MAPPING_MANAGE,
    SYNC_VIEW,
)
from mimosa_host.plugin_api import MenuItem, RequestContext, hookimpl

FIRST_ITEM_ORDER = 50


@hookimpl
def mimosa_menu_items(ctx: RequestContext) -> Sequence[MenuItem]:
    items = []
    if ctx.can(CASE_EDIT):
        items.append(MenuItem("ctm.people", N_("Find a person"), url_for("ctm.find_person"), order=FIRST_ITEM_ORDER))
    if ctx.can(HANDOVER_ACCEPT):
        items.append(MenuItem("ctm.handovers", N_("Hand-overs"), url_for("ctm.inbox"), order=FIRST_ITEM_ORDER + 3))
    if ctx.can(SYNC_VIEW):
        items.append(MenuItem("ctm.sync", N_("Synchronisation"), url_for("ctm.sync"), order=FIRST_ITEM_ORDER + 1))
    if ctx.can(MAPPING_MANAGE):
        items.append(MenuItem("ctm.mappings", N_("Mappings"), url_for("ctm.mappings"), order=FIRST_ITEM_ORDER + 2))
    if ctx.can(EMERGENCY_FUND_APPROVE):
        items.append(MenuItem("ctm.fund", N_("Emergency fund"), url_for("ctm.fund_page"), order=FIRST_ITEM_ORDER + 5))
    if ctx.can(EMERGENCY_FUND_REQUEST):
        items.append(
            MenuItem(
                "ctm.fund_requests",
                N_("Emergency fund requests"),
                url_for("ctm.mission_fund_requests"),
                order=FIRST_ITEM_ORDER + 4,
            )
        )
    if ctx.can(MAPPING_MANAGE):
        items.append(
            MenuItem("ctm.scoring", N_("Scoring model"), url_for("ctm.scoring_model"), order=FIRST_ITEM_ORDER + 2)
        )
    if ctx.can(CASE_SUPERVISE):
        alerts = url_for("ctm.monitoring_alerts")
        items.append(MenuItem("ctm.alerts", N_("Monitoring alerts"), alerts, order=FIRST_ITEM_ORDER + 6))
    if ctx.can(DISBURSEMENT_APPROVE) and ctx.can(CASE_VIEW):
        items.append(
            MenuItem(
                "ctm.disbursements",
                N_("Disbursements to approve"),
                url_for("ctm.pending_disbursements"),
                order=FIRST_ITEM_ORDER + 4,
            )
        )
    return items
