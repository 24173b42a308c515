from collections.abc import Sequence

from flask import url_for

from ctm_plugin.security.permissions import CASE_VIEW
from ctm_plugin.services.base import NotFound, case_id_for
from ctm_plugin.web.pages import TABS
from mimosa_host.plugin_api import RequestContext, Tab, hookimpl

FIRST_TAB_ORDER = 50


@hookimpl
def mimosa_record_tabs(record_type: str, record_ref: str, ctx: RequestContext) -> Sequence[Tab]:
    """The case overview always; the other CT tabs once the beneficiary has a case in the mission."""
    if record_type != "beneficiary" or not ctx.can(CASE_VIEW):
        return ()
    try:
        case_id_for(ctx, record_ref)
        has_case = True
    except NotFound:
        has_case = False
    return tuple(
        Tab(tab.id, tab.label, url_for(tab.endpoint, record_type=record_type, record_ref=record_ref), order=order)
        for order, tab in enumerate(TABS, start=FIRST_TAB_ORDER)
        if has_case or not tab.needs_case
    )
