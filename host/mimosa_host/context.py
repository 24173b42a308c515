"""The :class:`RequestContext` the host hands to plugins: for a user's request, a job, or the host itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy.orm import Session

from .accounts import granted_roles, known_roles, mission_ref, plugin_permissions, user_ref
from .db import mission_sessions
from .enablement import enabled_plugins, plugin_missions, plugin_settings
from .models import Mission, User
from .plugin_api import RequestContext, UserRef
from .plugins import PluginHost
from .roles import permissions_for


def build_context(
    session: Session,
    host: PluginHost,
    factory: Callable[..., Session],
    mission: Mission,
    user: User | None,
    locale: str,
    csrf_token: Callable[[], str] = lambda: "",
    plugin: str | None = None,
) -> tuple[RequestContext, set[str]]:
    """The request context for ``user`` in ``mission``, and the plugins enabled there.

    With no user, the context acts for the mission with the permissions ``plugin``
    declares (a job of that plugin), or with none. With ``plugin`` enabled in the mission
    (its page, job or command), the context carries that plugin's settings for the mission and
    the missions where it is enabled.
    The plugin's sessions come from ``factory``: a request's, job's or command's
    ``SharedConnection.plugin_session``.
    """
    enabled = enabled_plugins(session, mission.code) & set(host.active_names)
    if user is not None:
        permissions = permissions_for(granted_roles(session, user.id, mission.code), known_roles(host, enabled))
    elif plugin is not None and plugin in enabled:
        permissions = frozenset(p.name for p in plugin_permissions(host, {plugin}).get(plugin, ()))
    else:
        permissions = frozenset()
    ctx = RequestContext(
        mission=mission_ref(mission),
        locale=locale,
        permissions=permissions,
        session_factory=mission_sessions(factory, mission.code),
        user=user_ref(user) if user else None,
        csrf_token=csrf_token,
        settings=plugin_settings(session, mission.code, plugin) if plugin in enabled else {},
        plugin_missions=plugin_missions(session, plugin) if plugin in enabled else (),
    )
    return ctx, enabled


def system_context(
    session: Session,
    host: PluginHost,
    factory: Callable[..., Session],
    mission: Mission,
    username: str = "system",
    display_name: str = "System",
) -> RequestContext:
    """The host itself acting in ``mission`` as an HQ administrator (the command line, the demo seed)."""
    ctx, _enabled = build_context(session, host, factory, mission, None, "en")
    return dataclasses.replace(ctx, user=UserRef(0, username, display_name, is_hq_admin=True))
