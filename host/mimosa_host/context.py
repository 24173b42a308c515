"""The :class:`RequestContext` the host hands to plugins: for a user's request, a job, or the host itself."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from .accounts import granted_roles, known_roles, mission_people, mission_ref, plugin_permissions, user_ref
from .db import READ_IN_TRANSACTION, SharedConnection, mission_sessions, writing_only
from .enablement import enabled_plugins, plugin_missions, plugin_place
from .models import Mission, User
from .plugin_api import NO_MISSION, Job, MissionRef, RequestContext, UserRef, bind_context, unbind_context
from .plugins import PluginHost
from .roles import permissions_for

if TYPE_CHECKING:
    from .runtime import Runtime


def build_context(
    session: Session,
    host: PluginHost,
    factory: Callable[..., Session],
    mission: Mission,
    user: User | None,
    locale: str,
    csrf_token: Callable[[], str] = lambda: "",
    plugin: str | None = None,
    host_sessions: Callable[..., Session] | None = None,
) -> tuple[RequestContext, set[str]]:
    """The request context for ``user`` in ``mission``, and the plugins enabled there.

    With no user, the context acts for the mission with the permissions ``plugin``
    declares (a job of that plugin), or with none. With ``plugin`` enabled in the mission
    (its page, job or command), the context carries that plugin's settings for the mission and
    the missions where it is enabled.
    The plugin's sessions come from ``factory``: a request's, job's or command's
    ``SharedConnection.plugin_session``.

    A user's context on the plugin's own page also reaches the user's other missions where the
    plugin is enabled (``missions_with``, ``in_mission``): the host reads their grants through
    ``host_sessions`` (the request's ``SharedConnection.session``; ``factory`` when not given), when
    the plugin first asks.
    """
    place = plugin_place(session, mission.code, plugin) if plugin is not None else None
    enabled = (place.enabled if place is not None else enabled_plugins(session, mission.code)) & set(host.active_names)
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
        settings=place.settings if place is not None and plugin in enabled else {},
        plugin_missions=place.missions if place is not None and plugin in enabled else (),
    )
    if user is not None and plugin is not None and plugin in enabled:
        scope = UserScope(host, host_sessions or factory, factory, user.id, locale, csrf_token, plugin, ctx)
        ctx = dataclasses.replace(ctx, scope=scope)
        scope.contexts[mission.code] = ctx
        scope.enabled[mission.code] = enabled
    return ctx, enabled


class _Scope:
    """Contexts in the missions where a plugin is enabled (``missions``), each built (:meth:`_build`) when the
    plugin first asks for it and kept for the request, job or command; ``None``: not to be reached."""

    missions: tuple[MissionRef, ...]
    contexts: dict[str, RequestContext | None]

    def _build(self, mission_code: str) -> RequestContext | None:
        raise NotImplementedError

    def context(self, mission_code: str) -> RequestContext:
        if mission_code not in self.contexts:
            self.contexts[mission_code] = self._build(mission_code)
        ctx = self.contexts[mission_code]
        if ctx is None:
            raise LookupError(mission_code)
        return ctx

    def missions_with(self, permission: str) -> tuple[MissionRef, ...]:
        found = []
        for mission in self.missions:
            try:
                if self.context(mission.code).can(permission):
                    found.append(mission)
            except LookupError:
                continue
        return tuple(found)


class UserScope(_Scope):
    """One user's contexts in the missions where a plugin is enabled, built when the plugin first asks.

    Each is built as the user's request to that mission would be (its permissions, its settings), with
    sessions from the same ``factory``: on a request's shared connection, they join its transaction.
    """

    def __init__(
        self,
        host: PluginHost,
        host_sessions: Callable[..., Session],
        factory: Callable[..., Session],
        user_id: int,
        locale: str,
        csrf_token: Callable[[], str],
        plugin: str,
        first: RequestContext,
    ) -> None:
        self.host, self.host_sessions, self.factory = host, host_sessions, factory
        self.user_id, self.locale, self.csrf_token, self.plugin = user_id, locale, csrf_token, plugin
        self.missions = first.plugin_missions
        self.contexts: dict[str, RequestContext | None] = {}
        self.enabled: dict[str, set[str]] = {}
        """The plugins enabled in a mission, as its context was built with them."""
        self.people: dict[str, tuple[tuple[UserRef, frozenset[str]], ...]] = {}
        """A mission's users with their permissions there, read once a request (:meth:`mission_users`)."""

    def _build(self, mission_code: str) -> RequestContext | None:
        if mission_code not in {m.code for m in self.missions}:
            return None
        with self.host_sessions() as s:
            mission, user = s.get(Mission, mission_code), s.get(User, self.user_id)
            if mission is None or user is None or not user.active or not granted_roles(s, user.id, mission_code):
                return None
            ctx, enabled = build_context(
                s, self.host, self.factory, mission, user, self.locale, self.csrf_token, self.plugin
            )
        if self.plugin not in enabled:
            return None
        self.enabled[mission_code] = enabled
        return dataclasses.replace(ctx, scope=self)

    def mission_users(self, mission_code: str, permission: str) -> tuple[UserRef, ...]:
        """Read on the request's connection, with the roles of the plugins enabled in that mission: once a
        request and mission, whatever permissions the plugin asks about (a page names its cases' owners and
        offers its caseworkers)."""
        if mission_code not in self.people:
            with self.host_sessions(**READ_IN_TRANSACTION) as s:  # in the plugin's transaction: no savepoint
                enabled = self.enabled.get(mission_code)
                if enabled is None:
                    enabled = enabled_plugins(s, mission_code) & set(self.host.active_names)
                self.people[mission_code] = mission_people(s, mission_code, known_roles(self.host, enabled))
        return tuple(user for user, permissions in self.people[mission_code] if permission in permissions)


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


class PluginScope(_Scope):
    """A plugin's own contexts (no user) in the missions where it is enabled: a plugin-wide job's reach
    (``Job.plugin_wide``), beside :class:`UserScope`. Each is the context the plugin's job in that mission would
    get (the mission's settings), narrowed to the job's ``permissions``, its sessions from the same ``factory``
    writing only the job's ``mission_writes`` (host 1.4.0)."""

    def __init__(
        self,
        host: PluginHost,
        host_sessions: Callable[[], Session],
        factory: Callable[..., Session],
        plugin: str,
        locale: str,
        permissions: frozenset[str],
        mission_writes: frozenset[str],
    ) -> None:
        self.host, self.host_sessions, self.factory, self.plugin, self.locale = (
            host,
            host_sessions,
            factory,
            plugin,
            locale,
        )
        self.permissions, self.mission_writes = permissions, mission_writes
        self.contexts: dict[str, RequestContext | None] = {}
        self.missions: tuple[MissionRef, ...] = ()

    def _build(self, mission_code: str) -> RequestContext | None:
        if mission_code not in {m.code for m in self.missions}:
            return None
        with self.host_sessions() as s:
            mission = s.get(Mission, mission_code)
            if mission is None:
                return None
            ctx, enabled = build_context(s, self.host, self.factory, mission, None, self.locale, plugin=self.plugin)
        if self.plugin not in enabled:
            return None
        return dataclasses.replace(
            ctx,
            permissions=ctx.permissions & self.permissions,
            session_factory=mission_sessions(writing_only(self.factory, self.mission_writes), mission_code),
            scope=self,
        )

    def mission_users(self, _mission_code: str, _permission: str) -> tuple[UserRef, ...]:
        return ()  # the plugin acts for no user: it chooses no person


@contextmanager
def _bound(ctx: RequestContext) -> Iterator[RequestContext]:
    token = bind_context(ctx)
    try:
        yield ctx
    finally:
        unbind_context(token)


@contextmanager
def acting_for(rt: Runtime, plugin: str, mission_code: str, locale: str = "en") -> Iterator[RequestContext]:
    """``plugin``'s context in a mission with no user (a job, a command, the metrics), bound as the current one
    for the block, on one connection for the whole work, as a request has; ``LookupError`` for no such mission.
    The plugin acts with its own permissions and no other's."""
    db = SharedConnection(rt.engine)
    try:
        with db.session() as s:
            mission = s.get(Mission, mission_code)
            if mission is None:
                raise LookupError(mission_code)
            ctx, _enabled = build_context(s, rt.host, db.plugin_session, mission, None, locale, plugin=plugin)
        with _bound(ctx):
            yield ctx
    finally:
        db.close()


@contextmanager
def acting_for_plugin(rt: Runtime, plugin: str, locale: str = "en", job: Job | None = None) -> Iterator[RequestContext]:
    """``plugin``'s context across its missions with no user, as its plugin-wide ``job`` gets it
    (``Job.plugin_wide``), bound as the current one for the block, on one connection for the whole work. Its
    ``mission`` is :data:`NO_MISSION` and its sessions are bound to none; ``missions_with``/``in_mission`` reach
    every mission where the plugin is enabled (:class:`PluginScope`). Its permissions, here and in every mission,
    are the job's (``Job.permissions``, of those the plugin declares); its sessions write only ``Job.writes``,
    a mission's only ``Job.mission_writes``. With no ``job``: the plugin's permissions, and no write."""
    db = SharedConnection(rt.engine)
    try:
        declared = frozenset(p.name for p in plugin_permissions(rt.host, {plugin}).get(plugin, ()))
        wanted = job.permissions if job is not None and job.permissions is not None else declared
        permissions = declared & wanted
        writes, mission_writes = (job.writes, job.mission_writes) if job is not None else (frozenset(), frozenset())
        scope = PluginScope(rt.host, db.session, db.plugin_session, plugin, locale, permissions, mission_writes)
        with db.session() as s:
            scope.missions = plugin_missions(s, plugin)
        ctx = RequestContext(
            mission=NO_MISSION,
            locale=locale,
            permissions=permissions,
            session_factory=mission_sessions(writing_only(db.plugin_session, writes), NO_MISSION.code),
            plugin_missions=scope.missions,
            scope=scope,
        )
        with _bound(ctx):
            yield ctx
    finally:
        db.close()
