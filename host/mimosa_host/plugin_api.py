"""The MiMOSA plugin API: the one module of the host a plugin may import.

Everything a plugin and the host exchange is here: the hook specifications, the
markers, and the small dataclasses the hooks return or receive. Hooks return plain
data and check their own permissions at call time; a hookimpl may accept any subset
of a spec's arguments, so arguments may be added to a spec but never removed.

Labels in the dataclasses (``title``, ``label``, ``description``) are English
msgids of the plugin's own gettext domain (see :func:`mimosa_translations`); the
host translates them into the viewer's language when it renders them. Mark them in
plugin code with a no-op marker so that Babel extracts them.

Dispatch is per mission: for a request, the host calls a plugin's hooks only when
the plugin is enabled for the request's mission.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:  # annotation-only imports keep the contract importable cheaply
    import click
    import flask
    import marshmallow
    import sqlalchemy
    import sqlalchemy.orm

PROJECT = "mimosa"
ENTRY_POINT_GROUP = "mimosa.plugins"
RECORD_TYPES = ("beneficiary", "movement")
"""The host's record types: what ``record_type`` may be in tabs, pages and record URLs."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------------------
# Types the hooks exchange
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PluginInfo:
    """Who the plugin is and which host versions it runs on."""

    name: str
    version: str
    title: str
    description: str
    requires_host: str
    """A PEP 440 specifier set, e.g. ``">=1.0,<2"``; the host refuses a mismatch."""
    restricted: bool = False
    """Only HQ administrators may enable a restricted plugin."""


@dataclass(frozen=True)
class DatabaseInfo:
    """The plugin's own tables and migrations, kept apart from the host's."""

    metadata: sqlalchemy.MetaData
    script_location: str
    """An Alembic script location, e.g. ``"my_plugin:migrations"``."""
    version_table: str


@dataclass(frozen=True)
class Permission:
    name: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class Role:
    """A bundle of permissions an administrator grants to a user in one mission."""

    name: str
    label: str
    permissions: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Tab:
    """A tab on a host record page, linking to one of the plugin's pages."""

    id: str
    label: str
    url: str
    order: int = 100
    badge: str | None = None


@dataclass(frozen=True)
class MenuItem:
    id: str
    label: str
    url: str
    order: int = 100


@dataclass(frozen=True)
class Job:
    """A periodic job; the host runs ``run(ctx)`` once per mission where the plugin is enabled, or once for the
    plugin (``plugin_wide``)."""

    name: str
    interval: timedelta
    run: Callable[[RequestContext], None]
    wake_on: str | None = None
    """A channel (a plain identifier) that brings the job's turn forward, for one mission: :func:`wake_jobs`
    in the process, or a committed ``NOTIFY <channel>, '<mission code>'`` on PostgreSQL (``job_wakeup``)."""
    plugin_wide: bool = False
    """Run once per interval for the plugin, not once per mission: work across missions (matching records of
    several missions, a balance of no mission's). Its context acts for the plugin with no user and no mission
    (``mission`` is :data:`NO_MISSION`): ``missions_with(permission)`` are the missions where the plugin is enabled
    (it holds its own declared permissions in each), and ``in_mission(code)`` is its context in one of them, on
    the same connection. Any wake-up on ``wake_on`` brings it forward, whatever mission it names. Host 1.3.0.

    Host 1.4.0 narrows that context to what the job declares below: its permissions, and the tables it writes
    (every other write raises ``mimosa_host.db.WriteRefused``), so that a job reading every mission's people
    reads and writes no more than its work needs."""
    permissions: frozenset[str] | None = None
    """A plugin-wide job's permissions: the few of its plugin's declared ones it needs, in its context and in each
    mission's (so ``missions_with`` of any other is empty); ``None``: every one its plugin declares. Host 1.4.0."""
    writes: frozenset[str] = frozenset()
    """The tables (by name) a plugin-wide job writes through its own context's sessions, the ones of no mission
    (its HQ's rows); any other write there is refused. Host 1.4.0."""
    mission_writes: frozenset[str] = frozenset()
    """The tables a plugin-wide job writes in a mission, through ``in_mission``'s sessions (its audit of what it
    read there, say); any other write there is refused: a mission's sessions are its readers. Host 1.4.0."""


METRIC_TYPES = ("gauge", "counter")


@dataclass(frozen=True)
class Metric:
    """One metric of a mission, for the host's ``/metrics`` (:func:`mimosa_metrics`): plain data the host
    renders in Prometheus' text format, adding the label ``mission`` to every sample.

    Counts and durations only, labelled by codes (a status, a job's name): never a person's name, a record's
    value or anything else of a case.
    """

    name: str
    """Starts with ``<plugin name>_`` (the host drops any other); letters, digits and ``_``; a counter's
    without ``_total``, which the host adds."""
    help: str
    """One line of English for the operators (not translated)."""
    type: str
    """``gauge`` or ``counter`` (:data:`METRIC_TYPES`)."""
    samples: tuple[tuple[Mapping[str, str], float], ...] = ()
    """(labels, value) pairs; every sample of a metric has the same label names, ``mission`` not among them."""


@dataclass(frozen=True)
class SettingsFinding:
    """One thing a settings check found (:func:`mimosa_mission_settings_check`).

    ``message`` is a msgid of the plugin's domain, filled with ``params`` after translation;
    the params are plain text the host shows escaped, as given.
    """

    message: str
    params: dict[str, str] = field(default_factory=dict)
    ok: bool = False
    """True for what works; False for what must be corrected."""
    setting: str | None = None
    """The settings field to look at, if one is to blame."""


@dataclass(frozen=True)
class Translations:
    domain: str
    directory: str
    """A folder holding ``<locale>/LC_MESSAGES/<domain>.mo``."""


@dataclass(frozen=True)
class UserRef:
    id: int
    username: str
    display_name: str
    is_hq_admin: bool = False


@dataclass(frozen=True)
class MissionRef:
    code: str
    name: str
    country: str
    """ISO 3166-1 alpha-3."""


NO_MISSION = MissionRef("", "", "")
"""The ``mission`` of a plugin-wide job's context (:attr:`Job.plugin_wide`): no mission's code, so its
``session_factory`` is bound to none (a mission's rows are reached through :meth:`RequestContext.in_mission`)."""


@dataclass(frozen=True)
class RequestContext:
    """What a hook or a plugin page knows about the request it serves.

    ``user`` is ``None`` for jobs the host runs on the mission's behalf; a job's
    ``permissions`` are those its own plugin declares.

    ``session_factory`` is bound to the mission: it opens a SQLAlchemy session on the
    host's database whose ``info["mission_code"]`` is ``mission.code``. The host applies
    no filter through it: the plugin scopes its own tables to that mission itself. The
    database is the host's, and a plugin touches only its own tables through it, never
    the host's (the host's records are reached through its SOAP services).
    """

    mission: MissionRef
    locale: str
    permissions: frozenset[str]
    session_factory: Callable[[], sqlalchemy.orm.Session]
    user: UserRef | None = None
    csrf_token: Callable[[], str] = field(default=lambda: "")
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The mission's settings document of the plugin being served (its page, job or command;
    the enable hook gets them as an argument), as its settings schema dumped them; empty in the
    hooks the host calls for several plugins at once. The host's document is the only copy."""
    plugin_missions: tuple[MissionRef, ...] = ()
    """The missions where the plugin being served is enabled, with their countries, by code (its
    pages, jobs and commands, as ``settings``); empty in the hooks the host calls for several plugins."""

    scope: MissionScope | None = field(default=None, compare=False, repr=False)
    """Host side: how :meth:`missions_with` and :meth:`in_mission` reach the user's other missions
    (a user's request to the plugin's own page, with ``plugin_missions``), or the plugin's (a plugin-wide job);
    ``None`` elsewhere."""

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def missions_with(self, permission: str) -> tuple[MissionRef, ...]:
        """The missions where the plugin being served is enabled and the same user holds ``permission``, by code.

        A user's **HQ scope** for that permission: an HQ page reads mission by mission through it, each
        through :meth:`in_mission`'s session, never through an unscoped query. Without a user's scope (a
        job, a command, the hooks the host calls for several plugins) it is this mission alone, if
        :meth:`can` says so.
        """
        if self.scope is None:
            return (self.mission,) if self.can(permission) else ()
        return self.scope.missions_with(permission)

    def in_mission(self, mission_code: str) -> RequestContext:
        """The same user's context in another mission of ``plugin_missions``: that mission's permissions,
        settings and a session factory bound to it.

        Sessions opened through it meanwhile share the request's connection: one opened while another
        holds a transaction joins it as a SAVEPOINT, so a use case that writes in two missions' scopes
        commits once. Raises :class:`LookupError` when the user holds no role there or the plugin is not
        enabled there (and, without a user's scope, for any mission but this one).
        """
        if mission_code == self.mission.code:
            return self
        if self.scope is None:
            raise LookupError(mission_code)
        return self.scope.context(mission_code)

    def mission_users(self, permission: str) -> tuple[UserRef, ...]:
        """The active users of this mission who hold ``permission`` in it, by display name (then username).

        For choosing a person of the mission by name (e.g. a case's new owner). Without a user's scope (a
        job, a command, the hooks the host calls for several plugins) it is the request's user alone, if
        :meth:`can` says so.
        """
        if self.scope is None:
            return (self.user,) if self.user is not None and self.can(permission) else ()
        return self.scope.mission_users(self.mission.code, permission)


@dataclass(frozen=True)
class MachineRequest:
    """A machine's request to a plugin's machine route (:func:`mimosa_machine_routes`), read whole by the host
    within the route's ``max_bytes`` before any plugin code sees it."""

    method: str
    path: str
    """The route's path as declared (the part after ``/machine/<plugin name>``)."""
    headers: Mapping[str, str]
    body: bytes
    remote_addr: str | None = None


@dataclass(frozen=True)
class MachineResponse:
    """What a machine route answers; the host adds no cookie and sets ``Cache-Control: no-store``."""

    body: bytes
    status: int = 200
    content_type: str = "text/xml; charset=utf-8"


@dataclass(frozen=True)
class MachinePrincipal:
    """Who a machine request comes from, as the plugin's ``authenticate`` established it: the mission it acts
    in (where the plugin must be enabled) and the principal's name (e.g. a partner's username), for the handler
    and the plugin's own audit trail."""

    mission_code: str
    name: str


@dataclass(frozen=True)
class MachineRoute:
    """A route for machines, not people: no session, no cookie, no CSRF token; the caller authenticates each
    request itself (e.g. a WS-Security header), and its mission comes from that, not from the URL.

    Served at ``/machine/<plugin name><path>``. The host refuses a body larger than ``max_bytes`` (by its
    ``Content-Length``, then by what it reads) and a compressed one before any plugin code runs, answering with
    ``refuse(status, reason)``; then it calls ``authenticate(ctx, request)`` in the plugin's plugin-wide context
    (no user, no mission: ``in_mission`` reaches the missions where the plugin is enabled, as a plugin-wide
    job's; it reads only: a replay check's nonce is the handler's to write); then
    ``handler(ctx, request, principal)`` in the principal's mission, acting for the plugin there (its own
    permissions, no user). Host 1.4.0."""

    path: str
    """Starts with ``/``; letters, digits, ``-``, ``_``, ``.`` and ``/``."""
    methods: tuple[str, ...]
    max_bytes: int
    authenticate: Callable[[RequestContext, MachineRequest], MachinePrincipal | MachineResponse]
    """The principal, or the answer refusing the request (nothing more runs)."""
    handler: Callable[[RequestContext, MachineRequest, MachinePrincipal], MachineResponse]
    refuse: Callable[[int, str], MachineResponse] | None = None
    """How the route answers the host's own refusals (``413`` too large, ``400`` compressed, ``403`` the
    principal's mission is not one where the plugin is enabled, ``500`` a failure); ``reason`` is English, for
    the machine. ``None``: plain text."""


class MissionScope(Protocol):
    """Host side of :meth:`RequestContext.missions_with`, :meth:`RequestContext.in_mission` and
    :meth:`RequestContext.mission_users`."""

    def missions_with(self, permission: str) -> tuple[MissionRef, ...]: ...

    def context(self, mission_code: str) -> RequestContext: ...

    def mission_users(self, mission_code: str, permission: str) -> tuple[UserRef, ...]: ...


@dataclass(frozen=True)
class Page:
    """What a plugin view returns for the host to render inside its page frame.

    ``body`` is HTML the plugin has rendered and escaped itself. When ``record_type``
    and ``record_ref`` are set, the host renders the record's header and tabs around
    the body (and answers 404 when the record is not in the request's mission);
    ``active_tab`` names the tab to highlight.
    """

    title: str
    body: str
    record_type: str | None = None
    record_ref: str | None = None
    active_tab: str | None = None
    status: int = 200


class CommandHost(Protocol):
    """What a plugin's CLI command finds as click's context object (``click.get_current_context().obj``).

    Under ``mimosa-host <plugin>`` the host provides it; a plugin's own stand-alone script has
    none, and should say that such a command runs under the host.
    """

    def enabled_missions(self) -> Sequence[str]:
        """The codes of the missions where the plugin is enabled."""

    def context(self, mission_code: str) -> AbstractContextManager[RequestContext]:
        """A context acting for ``mission_code`` with the plugin's own permissions (as its jobs do), bound as current.

        Raises :class:`LookupError` when the mission does not exist or the plugin is not enabled there.
        """

    def plugin_context(self, job: Job | None = None) -> AbstractContextManager[RequestContext]:
        """A context acting for the plugin across its missions, as the plugin-wide ``job`` gets it (``Job.plugin_wide``:
        its permissions and its writes, host 1.4.0; with no job, the plugin's permissions and no write), bound as
        current. Host 1.3.0."""


_current_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar("mimosa_request_context")


class Refusal(Exception):
    """Raised by a plugin to refuse an operation with a message meant for the user.

    The message is a msgid of the plugin's gettext domain; the host translates it.
    """


wake_listeners: list[Callable[[str, str | None], None]] = []
"""The job runners of this process waiting for :func:`wake_jobs` (``job_wakeup.Wakeup.ring``)."""


def wake_jobs(channel: str, mission_code: str | None = None) -> None:
    """Run the jobs that wake on ``channel`` soon (for ``mission_code``, or every mission), in this process's
    job runners; call it once the work is committed. Other processes hear of it through ``NOTIFY``."""
    for ring in list(wake_listeners):
        ring(channel, mission_code)


def current_context() -> RequestContext:
    """The context of the request (or job) being served; raises LookupError outside one."""
    return _current_context.get()


def bind_context(ctx: RequestContext) -> contextvars.Token[RequestContext]:
    """Host side: make ``ctx`` the current context; pass the token to :func:`unbind_context`."""
    return _current_context.set(ctx)


def unbind_context(token: contextvars.Token[RequestContext]) -> None:
    _current_context.reset(token)


# --------------------------------------------------------------------------------------
# Hook specifications
# --------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def mimosa_plugin_info() -> PluginInfo:
    """Name, version, title, description, host version range and ``restricted`` flag."""


@hookspec(firstresult=True)
def mimosa_database() -> DatabaseInfo:
    """The plugin's ``MetaData``, Alembic script location and version table."""


@hookspec
def mimosa_permissions() -> Sequence[Permission]:
    """The permissions the plugin checks; each name starts with ``<plugin name>.`` (others are ignored)."""


@hookspec
def mimosa_roles() -> Sequence[Role]:
    """Role bundles the plugin suggests; administrators grant them per mission.

    A role's name, and each permission it bundles, start with ``<plugin name>.``; the host
    ignores a role named otherwise and drops any other permission from a role.
    """


@hookspec
def mimosa_record_tabs(record_type: str, record_ref: str, ctx: RequestContext) -> Sequence[Tab]:
    """Tabs on a host record page; ``record_type`` is ``beneficiary`` or ``movement``.

    Return no tab the user of ``ctx`` may not open.
    """


@hookspec
def mimosa_menu_items(ctx: RequestContext) -> Sequence[MenuItem]:
    """Entries in the host's navigation for the user and mission of ``ctx``."""


@hookspec
def mimosa_blueprints() -> Sequence[flask.Blueprint]:
    """Flask blueprints mounted under ``/m/<mission>/plugins/<plugin name>/``; views may return a :class:`Page`.

    The host answers 404 before any of the plugin's code runs where the plugin is disabled,
    the user holds no role, or (for a rule with the variables ``record_type`` and
    ``record_ref``) the record is not in the mission or the user may not view records. It
    fills the ``mission`` URL value in for ``url_for``. A blueprint may not register handlers
    for the whole application (``before_app_request``, ``app_errorhandler`` ...): the host
    refuses the plugin.
    """


@hookspec
def mimosa_machine_routes() -> Sequence[MachineRoute]:
    """Routes for machines (:class:`MachineRoute`), served at ``/machine/<plugin name><path>`` outside the web
    shell's sessions and CSRF protection: the size limit first, then the plugin's ``authenticate``, then its
    ``handler`` in the mission the principal belongs to. Host 1.4.0."""


@hookspec(firstresult=True)
def mimosa_mission_settings_schema() -> marshmallow.Schema:
    """A marshmallow schema for the plugin's per-mission settings, rendered by the admin page."""


@hookspec
def mimosa_mission_enabled(mission: MissionRef, settings: dict[str, Any], ctx: RequestContext) -> None:
    """Side effects of enabling the plugin for ``mission``; raise :class:`Refusal` to refuse.

    The host calls this inside the transaction that records the enablement, so a refusal
    leaves nothing behind.
    """


@hookspec(firstresult=True)
def mimosa_mission_settings_check(
    mission: MissionRef, settings: dict[str, Any], ctx: RequestContext
) -> Sequence[SettingsFinding]:
    """Try ``settings`` for ``mission`` for real (e.g. call the service they name): what works, what not.

    The admin page's "Test the connection" calls it with the form's current values, validated by the
    plugin's schema (a blank secret stands for the stored one) and not saved. It must write nothing.
    """


@hookspec
def mimosa_mission_disabled(mission: MissionRef, ctx: RequestContext) -> None:
    """Side effects of disabling the plugin for ``mission``; its data for the mission is kept."""


@hookspec
def mimosa_jobs() -> Sequence[Job]:
    """Periodic jobs; the host asks every plugin, and runs each job once per mission where the plugin is enabled."""


@hookspec
def mimosa_metrics(ctx: RequestContext) -> Sequence[Metric]:
    """The plugin's metrics in the mission of ``ctx``, for the host's ``/metrics``.

    The host asks once per mission where the plugin is enabled, on every scrape, acting for the mission as
    for a job (no user; the plugin's own permissions), and labels each sample with the mission's code. It must
    write nothing, and stay cheap: a few aggregate queries.
    """


@hookspec
def mimosa_cli_commands() -> Sequence[click.Command]:
    """Click commands mounted under ``mimosa-host <plugin name>``."""


@hookspec(firstresult=True)
def mimosa_translations() -> Translations:
    """The plugin's gettext domain and catalog folder."""
