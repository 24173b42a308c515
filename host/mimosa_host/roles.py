"""The host's own roles, and the permissions a user holds in a mission.

A user's permissions in a mission are the union of the permissions of the roles
granted there; plugin roles count only where the plugin is enabled.
"""

from __future__ import annotations

from collections.abc import Iterable

from .i18n import N_
from .plugin_api import Permission, Role

VIEW_RECORDS = "host.records.view"
MANAGE_PLUGINS = "host.plugins.manage"

HOST_PERMISSIONS = (
    Permission(VIEW_RECORDS, N_("View beneficiaries and movements")),
    Permission(MANAGE_PLUGINS, N_("Enable, disable and configure plugins")),
)

HOST_ROLES = (
    Role("host.officer", N_("Operations officer"), (VIEW_RECORDS,)),
    Role("host.mission_admin", N_("Mission administrator"), (VIEW_RECORDS, MANAGE_PLUGINS)),
)


def permissions_for(granted_roles: Iterable[str], known_roles: Iterable[Role]) -> frozenset[str]:
    by_name = {role.name: role for role in known_roles}
    return frozenset(p for name in granted_roles if name in by_name for p in by_name[name].permissions)
