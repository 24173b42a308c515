from ctm_plugin import __version__
from ctm_plugin.i18n import N_
from mimosa_host.plugin_api import PluginInfo, hookimpl

NAME = "ctm"
REQUIRES_HOST = ">=1.4,<2"
"""1.1: the host lists a mission's users to a plugin (``RequestContext.mission_users``); 1.2: ``mimosa_metrics``;
1.3: plugin-wide jobs (``Job.plugin_wide``: re-trafficking matching); 1.4: a plugin-wide job narrowed to what it
declares (``Job.permissions``, ``Job.writes``, ``Job.mission_writes``) and machine routes (``mimosa_machine_routes``:
the partner service)."""


@hookimpl
def mimosa_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        version=__version__,
        title=N_("Counter-trafficking"),
        description=N_(
            "Counter-trafficking cases, Palermo screening, assistance, consent, voluntary return and reintegration."
        ),
        requires_host=REQUIRES_HOST,
    )
