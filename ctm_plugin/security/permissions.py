"""The permissions the CTM checks and the role bundles it suggests to administrators.

Identity fields are a group of their own (``ctm.identity.view``): the CT tabs show the
birth date and perpetrators' aliases only to users who hold it, and never check a date
against a birth date the user may not see. (The host's frame still shows the name.)
"""

from ctm_plugin.i18n import N_
from mimosa_host.plugin_api import Permission, Role

CASE_VIEW = "ctm.case.view"
CASE_EDIT = "ctm.case.edit"
IDENTITY_VIEW = "ctm.identity.view"
DETERMINE = "ctm.screening.determine"
RETURN_BOOK = "ctm.return.book"
MAPPING_MANAGE = "ctm.mapping.manage"
SYNC_VIEW = "ctm.sync.view"
SYNC_MANAGE = "ctm.sync.manage"
AUDIT_VIEW = "ctm.audit.view"
TRENDS_VIEW = "ctm.trends.view"
EMERGENCY_FUND_APPROVE = "ctm.emergency_fund.approve"
CHILD_PROTECTION = "ctm.child_protection"
HANDOVER_ACCEPT = "ctm.handover.accept"
APPROVE_RISK = "ctm.return.approve_risk"
DISBURSEMENT_APPROVE = "ctm.disbursement.approve"
CASE_SUPERVISE = "ctm.case.supervise"
EMERGENCY_FUND_REQUEST = "ctm.emergency_fund.request"
RESEARCH_REQUEST = "ctm.research.request"
RESEARCH_APPROVE = "ctm.research.approve"
RETRAFFICKING_REVIEW = "ctm.retrafficking.review"
"""HQ's review of re-trafficking matches (confirm, dismiss); the matching job acts with it on HQ's rows."""
INTELLIGENCE_VIEW = "ctm.intelligence.view"
"""The intelligence pages (what links cases, the network, law enforcement's package): the intelligence analyst's
only, and the one permission besides identity's that opens perpetrators' aliases."""
PARTNER_MANAGE = "ctm.partner.manage"
"""The mission's partners: their details, credentials, suspension, agreements drafted, exchanges seen."""
AGREEMENT_APPROVE = "ctm.agreement.approve"
"""HQ's sign-off of a sharing agreement, never by whoever drafted it."""

AWAITED: dict[str, int] = {}
"""Declared before any code checks them: each with the issue that brings its pages (DESIGN.md's
table of permissions, in its numbering). Every other declared permission is checked by the code,
and a test keeps both true."""

PERMISSIONS = (
    Permission(CASE_VIEW, N_("View counter-trafficking cases")),
    Permission(CASE_EDIT, N_("Open and edit counter-trafficking cases")),
    Permission(IDENTITY_VIEW, N_("See identity fields of victims")),
    Permission(DETERMINE, N_("Record a trafficking determination")),
    Permission(RETURN_BOOK, N_("Book voluntary returns")),
    Permission(MAPPING_MANAGE, N_("Configure and test mappings with the host")),
    Permission(SYNC_VIEW, N_("See synchronisation status and failures")),
    Permission(SYNC_MANAGE, N_("Retry or discard messages to the host")),
    Permission(AUDIT_VIEW, N_("See who viewed and changed cases")),
    Permission(TRENDS_VIEW, N_("See aggregate trends")),
    Permission(EMERGENCY_FUND_APPROVE, N_("Approve emergency-fund assistance")),
    Permission(CHILD_PROTECTION, N_("Record best-interests determinations and accept children's hand-overs")),
    Permission(HANDOVER_ACCEPT, N_("Accept or decline hand-overs from other missions")),
    Permission(APPROVE_RISK, N_("Approve or refuse high-risk returns")),
    Permission(DISBURSEMENT_APPROVE, N_("Approve disbursements of reintegration budgets")),
    Permission(CASE_SUPERVISE, N_("Supervise cases: approve closings, reassign cases, see re-trafficking risk alerts")),
    Permission(EMERGENCY_FUND_REQUEST, N_("Request assistance from the global emergency fund")),
    Permission(RESEARCH_REQUEST, N_("Request a k-anonymous research export")),
    Permission(RESEARCH_APPROVE, N_("Approve or decline research exports requested by others")),
    Permission(RETRAFFICKING_REVIEW, N_("Review people identified again across missions (re-trafficking)")),
    Permission(
        INTELLIGENCE_VIEW,
        N_("See the perpetrators, places and routes linking cases, and produce law-enforcement referral packages"),
    ),
    Permission(PARTNER_MANAGE, N_("Manage the mission's partners, their credentials and sharing agreements")),
    Permission(AGREEMENT_APPROVE, N_("Approve sharing agreements drafted by others")),
)

ROLES = (
    Role(
        "ctm.caseworker",
        N_("CT caseworker"),
        (CASE_VIEW, CASE_EDIT, IDENTITY_VIEW, HANDOVER_ACCEPT, EMERGENCY_FUND_REQUEST),
    ),
    Role(
        "ctm.supervisor",
        N_("CT supervisor"),
        (
            CASE_VIEW,
            CASE_EDIT,
            IDENTITY_VIEW,
            DISBURSEMENT_APPROVE,
            CASE_SUPERVISE,
            EMERGENCY_FUND_REQUEST,
            TRENDS_VIEW,  # the trends of the missions where the role is granted: a mission manager's own
        ),
    ),
    Role(
        "ctm.child_protection_officer",
        N_("CT child-protection officer"),
        (CASE_VIEW, CASE_EDIT, IDENTITY_VIEW, HANDOVER_ACCEPT, CHILD_PROTECTION),
    ),
    Role("ctm.movement_officer", N_("CT movement officer"), (CASE_VIEW, IDENTITY_VIEW, RETURN_BOOK)),
    Role("ctm.integrator", N_("CT integrator"), (MAPPING_MANAGE, SYNC_VIEW, SYNC_MANAGE)),
    Role("ctm.mission_admin", N_("CT mission administrator"), (AUDIT_VIEW, SYNC_VIEW, PARTNER_MANAGE)),
    Role(
        "ctm.hq_programme_manager",
        N_("CT HQ programme manager"),
        (
            CASE_VIEW,
            DETERMINE,
            EMERGENCY_FUND_APPROVE,
            TRENDS_VIEW,
            APPROVE_RISK,
            RESEARCH_APPROVE,
            RETRAFFICKING_REVIEW,
            AGREEMENT_APPROVE,
        ),
    ),
    Role("ctm.researcher", N_("CT researcher"), (TRENDS_VIEW, RESEARCH_REQUEST)),
    Role("ctm.auditor", N_("CT auditor"), (CASE_VIEW, AUDIT_VIEW)),
    Role("ctm.intelligence_analyst", N_("CT intelligence analyst"), (INTELLIGENCE_VIEW,)),
)

# Field groups: the parts of a case a page may show, each behind a permission.
IDENTITY = "identity"


def field_groups(ctx_permissions: frozenset[str], *groups: str) -> list[str]:
    """The groups a page shows this user: the ones asked for, plus identity if the user may see it."""
    return [*groups, *([IDENTITY] if IDENTITY_VIEW in ctx_permissions else [])]
