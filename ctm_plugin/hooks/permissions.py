from collections.abc import Sequence

from ctm_plugin.security.permissions import PERMISSIONS, ROLES
from mimosa_host.plugin_api import Permission, Role, hookimpl


@hookimpl
def mimosa_permissions() -> Sequence[Permission]:
    return PERMISSIONS


@hookimpl
def mimosa_roles() -> Sequence[Role]:
    return ROLES
