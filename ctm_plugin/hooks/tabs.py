from collections.abc import Sequence

from flask import url_for

from ctm_plugin.i18n import N_
from ctm_plugin.security.permissions import CASE_VIEW
from mimosa_host.plugin_api import RequestContext, Tab, hookimpl

CASE_TAB = "ctm.case"


@hookimpl
def mimosa_record_tabs(record_type: str, record_ref: str, ctx: RequestContext) -> Sequence[Tab]:
    if record_type != "beneficiary" or not ctx.can(CASE_VIEW):
        return ()
    return (Tab(CASE_TAB, N_("Counter-trafficking"), url_for("ctm.case_overview", ref=record_ref), order=50),)
