"""The CTM's entries in the host's navigation: only what the user may use in the mission."""

import logging
from collections.abc import Sequence

from flask import url_for

from ctm_plugin import i18n
from ctm_plugin.i18n import N_
from ctm_plugin.security.permissions import (
    AGREEMENT_APPROVE,
    AUDIT_VIEW,
    CASE_EDIT,
    CASE_SUPERVISE,
    CASE_VIEW,
    DETERMINE,
    DISBURSEMENT_APPROVE,
    EMERGENCY_FUND_APPROVE,
    EMERGENCY_FUND_REQUEST,
    HANDOVER_ACCEPT,
    INTELLIGENCE_VIEW,
    MAPPING_MANAGE,
    PARTNER_MANAGE,
    RESEARCH_APPROVE,
    RESEARCH_REQUEST,
    RETRAFFICKING_REVIEW,
    SYNC_VIEW,
    TRENDS_VIEW,
)
from ctm_plugin.services import due, referral_inbox
from mimosa_host.plugin_api import MenuItem, RequestContext, hookimpl

log = logging.getLogger(__name__)

FIRST_ITEM_ORDER = 50

ENTRIES = (
    # (permissions the user needs, id, label, endpoint), in the menu's order
    ((CASE_VIEW,), "ctm.cases", N_("Cases"), "ctm.case_list"),
    ((CASE_EDIT,), "ctm.my_cases", N_("My cases"), "ctm.my_cases"),
    ((DETERMINE,), "ctm.determination_queue", N_("Awaiting a determination"), "ctm.determination_queue"),
    ((CASE_EDIT,), "ctm.due", N_("Due"), "ctm.due_list"),
    ((CASE_EDIT,), "ctm.people", N_("Find a person"), "ctm.find_person"),
    ((CASE_EDIT,), "ctm.to_screen", N_("People to screen"), "ctm.people_to_screen"),
    ((HANDOVER_ACCEPT,), "ctm.handovers", N_("Hand-overs"), "ctm.inbox"),
    ((CASE_EDIT,), "ctm.referrals", N_("Referrals from partners"), "ctm.referral_inbox"),
    (
        (DISBURSEMENT_APPROVE, CASE_VIEW),
        "ctm.disbursements",
        N_("Disbursements to approve"),
        "ctm.pending_disbursements",
    ),
    ((CASE_SUPERVISE,), "ctm.alerts", N_("Monitoring alerts"), "ctm.monitoring_alerts"),
    ((CASE_SUPERVISE,), "ctm.reassign", N_("Reassign cases"), "ctm.reassign_cases"),
    ((EMERGENCY_FUND_REQUEST,), "ctm.fund_requests", N_("Emergency fund requests"), "ctm.mission_fund_requests"),
    ((EMERGENCY_FUND_APPROVE,), "ctm.fund", N_("Emergency fund"), "ctm.fund_page"),
    ((TRENDS_VIEW,), "ctm.trends", N_("Trends"), "ctm.trends_page"),
    ((RESEARCH_REQUEST,), "ctm.research_exports", N_("Research exports"), "ctm.research_exports"),
    ((RESEARCH_APPROVE,), "ctm.research_approvals", N_("Research exports to approve"), "ctm.research_approvals"),
    ((RETRAFFICKING_REVIEW,), "ctm.retrafficking", N_("Re-trafficking"), "ctm.retrafficking_matches"),
    ((INTELLIGENCE_VIEW,), "ctm.intelligence", N_("Intelligence"), "ctm.intelligence_links"),
    ((PARTNER_MANAGE,), "ctm.partners", N_("Partners"), "ctm.partners_list"),
    ((AGREEMENT_APPROVE,), "ctm.agreement_approvals", N_("Sharing agreements to approve"), "ctm.agreement_approvals"),
    ((SYNC_VIEW,), "ctm.sync", N_("Synchronisation"), "ctm.sync"),
    ((MAPPING_MANAGE,), "ctm.mappings", N_("Mappings"), "ctm.mappings"),
    ((MAPPING_MANAGE,), "ctm.scoring", N_("Scoring model"), "ctm.scoring_model"),
    ((AUDIT_VIEW,), "ctm.audit", N_("Audit trail"), "ctm.audit_trail_page"),
)


COUNTED = {
    "ctm.due": (
        lambda ctx: due.due_count(ctx),
        N_("Due now (%(count)s)"),
    ),  # due today or overdue; the list looks ahead too
    "ctm.referrals": (
        lambda ctx: referral_inbox.pending_count(ctx),
        N_("Referrals from partners (%(count)s)"),
    ),  # waiting
}
"""The entries whose label says how many items wait: the count (looked up when called), and the label with it."""


def _label(ctx: RequestContext, item_id: str, label: str) -> str:
    """The entry's msgid; a counted entry's with its number when there is any ("Due now (3)").

    The menu is on every page: a count that fails leaves the plain label, logged by the error's type only
    (its message may hold a case's data), rather than breaking the page.
    """
    if item_id not in COUNTED:
        return label
    counter, counted = COUNTED[item_id]
    try:
        count = counter(ctx)
    except Exception as failed:  # any failure: the page still shows
        log.warning("the count of %s failed: %s", item_id, type(failed).__name__)
        return label
    return i18n._(counted, count=count) if count else label


@hookimpl
def mimosa_menu_items(ctx: RequestContext) -> Sequence[MenuItem]:
    return [
        MenuItem(item_id, _label(ctx, item_id, label), url_for(endpoint), order=order)
        for order, (needed, item_id, label, endpoint) in enumerate(ENTRIES, start=FIRST_ITEM_ORDER)
        if all(ctx.can(permission) for permission in needed)
    ]
