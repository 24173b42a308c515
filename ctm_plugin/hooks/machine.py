"""The CTM's machine routes (host 1.4.0): the partner service (adapters/partner_service.py)."""

from collections.abc import Sequence

from ctm_plugin.adapters import partner_service
from mimosa_host.plugin_api import MachineRoute, hookimpl


@hookimpl
def mimosa_machine_routes() -> Sequence[MachineRoute]:
    return (partner_service.route(),)
