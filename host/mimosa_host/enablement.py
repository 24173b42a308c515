"""Enabling and disabling a plugin for one mission, with every refusal the contract names."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import marshmallow
import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import db, sealing
from .accounts import mission_ref
from .i18n import N_, gettext
from .models import Mission, PluginEnablement, utcnow
from .plugin_api import MissionRef, Refusal, RequestContext
from .plugins import PluginHost


@dataclass
class EnablementRefused(Exception):
    """Why a change was refused: a host msgid with its parameters, and per-field errors."""

    message: str
    params: dict[str, Any] = field(default_factory=dict)
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    plugin_message: bool = False
    """True when ``message`` is a plugin's own msgid (from :class:`Refusal`)."""

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


def secret_fields(schema: marshmallow.Schema) -> set[str]:
    """Fields whose stored value is never shown again; left blank in a form, it is kept."""
    return {name for name, f in schema.fields.items() if f.metadata.get("secret")}


def _state(session: Session, mission_code: str, plugin_name: str) -> PluginEnablement | None:
    return session.scalar(
        sa.select(PluginEnablement).where(
            PluginEnablement.mission_code == mission_code, PluginEnablement.plugin_name == plugin_name
        )
    )


def secret_place(mission_code: str, plugin_name: str, name: str) -> tuple[str, str, str]:
    """(table, column, row) a secret setting is sealed for: the mission's row of the plugin, the setting's name."""
    return PluginEnablement.__tablename__, f"secrets.{name}", f"{mission_code}/{plugin_name}"


def stored_settings(state: PluginEnablement | None) -> tuple[dict[str, Any], set[str]]:
    """The plugin's settings for the mission with its secrets opened, and the secrets that did not open.

    A secret that does not open (its key is gone, or it was moved from another row) is absent, as if
    never set: the plugin goes without it, the settings page says so and asks for it again.
    """
    if state is None:
        return {}, set()
    return _opened(state.mission_code, state.plugin_name, state.settings, state.secrets)


def _opened(
    mission_code: str, plugin_name: str, stored: dict[str, Any] | None, secrets: dict[str, str] | None
) -> tuple[dict[str, Any], set[str]]:
    settings, undecryptable = dict(stored or {}), set()
    for name, token in (secrets or {}).items():
        value = sealing.opened(token, *secret_place(mission_code, plugin_name, name))
        if value is None:
            undecryptable.add(name)
        else:
            settings[name] = json.loads(value)
    return settings, undecryptable


def store_settings(state: PluginEnablement, settings: dict[str, Any], secret_names: set[str]) -> None:
    """Keep ``settings`` in ``state``: the secret ones sealed, each bound to its row and name."""
    state.settings = {name: value for name, value in settings.items() if name not in secret_names}
    state.secrets = {
        name: seal_secret(state, name, value)
        for name, value in settings.items()
        if name in secret_names and value is not None
    }


def seal_secret(state: PluginEnablement, name: str, value: Any) -> str:
    """A secret setting's value sealed (as JSON, so it keeps its type) for its row and name."""
    return sealing.seal(
        json.dumps(value), sealing.associated_data(*secret_place(state.mission_code, state.plugin_name, name))
    )


def plugin_settings(session: Session, mission_code: str, plugin_name: str) -> dict[str, Any]:
    """The plugin's settings document for the mission, secrets opened (``{}`` when it has none)."""
    return stored_settings(_state(session, mission_code, plugin_name))[0]


def enabled_plugins(session: Session, mission_code: str) -> set[str]:
    return set(
        session.scalars(
            sa.select(PluginEnablement.plugin_name).where(
                PluginEnablement.mission_code == mission_code, PluginEnablement.enabled.is_(True)
            )
        )
    )


def enabled_missions(session: Session, plugin_name: str) -> list[str]:
    return list(
        session.scalars(
            sa.select(PluginEnablement.mission_code)
            .where(PluginEnablement.plugin_name == plugin_name, PluginEnablement.enabled.is_(True))
            .order_by(PluginEnablement.mission_code)
        )
    )


def plugin_missions(session: Session, plugin_name: str) -> tuple[MissionRef, ...]:
    """The missions where ``plugin_name`` is enabled, with their names and countries, by code."""
    return tuple(
        mission_ref(mission)
        for mission in session.scalars(
            sa.select(Mission)
            .join(PluginEnablement, PluginEnablement.mission_code == Mission.code)
            .where(PluginEnablement.plugin_name == plugin_name, PluginEnablement.enabled.is_(True))
            .order_by(Mission.code)
        )
    )


@dataclass(frozen=True)
class PluginPlace:
    """What a plugin's page, job or command starts from: the plugins enabled in its mission, the plugin's
    settings there (``{}`` when it is not enabled there) and the missions where it is enabled."""

    enabled: set[str]
    settings: dict[str, Any]
    missions: tuple[MissionRef, ...]


def plugin_place(session: Session, mission_code: str, plugin_name: str) -> PluginPlace:
    """:func:`enabled_plugins`, :func:`plugin_settings` and :func:`plugin_missions` in one statement: the enabled
    rows of the mission (every plugin's) and of the plugin (every mission's), with their missions. A plugin's page
    pays one round trip for them, not three; a host page reads :func:`enabled_plugins` alone. Read as columns, not
    as rows made objects (a mission's, a plugin's), and only the plugin's settings in this mission opened."""
    rows = session.execute(
        sa.select(
            PluginEnablement.mission_code,
            PluginEnablement.plugin_name,
            PluginEnablement.settings,
            PluginEnablement.secrets,
            Mission.name,
            Mission.country,
        )
        .join(Mission, Mission.code == PluginEnablement.mission_code)
        .where(
            PluginEnablement.enabled.is_(True),
            sa.or_(PluginEnablement.mission_code == mission_code, PluginEnablement.plugin_name == plugin_name),
        )
        .order_by(Mission.code)
    ).all()
    found = next((r for r in rows if r[0] == mission_code and r[1] == plugin_name), None)
    return PluginPlace(
        enabled={plugin for code, plugin, *_rest in rows if code == mission_code},
        settings=_opened(mission_code, plugin_name, found[2], found[3])[0] if found is not None else {},
        missions=tuple(MissionRef(r[0], r[4], r[5]) for r in rows if r[1] == plugin_name),
    )


def _joined(ctx: RequestContext, session: Session) -> RequestContext:
    """``ctx`` whose sessions join ``session``'s transaction: a plugin's side effects commit or roll back with it.

    Like every session the host hands a plugin, they carry ``info["mission_code"]``.
    """
    return dataclasses.replace(
        ctx,
        session_factory=lambda: Session(
            bind=session.connection(),
            join_transaction_mode="create_savepoint",
            info={db.MISSION_INFO_KEY: ctx.mission.code},
        ),
    )


def _check_plugin(host: PluginHost, engine: sa.Engine | sa.Connection, plugin_name: str, is_hq_admin: bool) -> None:
    installed = host.installed.get(plugin_name)
    if installed is None:
        raise EnablementRefused(N_("There is no plugin named %(name)s."), {"name": plugin_name})
    if not installed.compatible:
        raise EnablementRefused(
            N_("The plugin %(name)s cannot run on this host. %(reason)s"),
            {"name": plugin_name, "reason": " ".join(gettext(p.message, **p.params) for p in installed.problems)},
        )
    assert installed.info is not None  # a compatible plugin has answered mimosa_plugin_info
    if installed.info.restricted and not is_hq_admin:
        raise EnablementRefused(N_("Only an HQ administrator may enable the plugin %(name)s."), {"name": plugin_name})
    database = host.call_one(plugin_name, "mimosa_database")
    if database is not None and not db.plugin_at_head(engine, database):
        raise EnablementRefused(
            N_("The database of the plugin %(name)s is not up to date; run “mimosa-host db upgrade” first."),
            {"name": plugin_name},
        )


def validate_settings(
    host: PluginHost, plugin_name: str, submitted: dict[str, Any], previous: dict[str, Any]
) -> dict[str, Any]:
    schema = host.call_one(plugin_name, "mimosa_mission_settings_schema")
    if schema is None:
        return {}
    data = dict(submitted)
    for name in secret_fields(schema):
        if not data.get(name) and previous.get(name):
            data[name] = previous[name]
    try:
        loaded = schema.load(data, unknown=marshmallow.RAISE)
    except marshmallow.ValidationError as exc:
        errors = exc.normalized_messages()
        raise EnablementRefused(
            N_("The settings were not saved: correct the fields marked below."),
            field_errors={name: msgs if isinstance(msgs, list) else [str(msgs)] for name, msgs in errors.items()},
        ) from None
    return schema.dump(loaded)


def enable(
    session: Session,
    host: PluginHost,
    mission_code: str,
    plugin_name: str,
    settings: dict[str, Any],
    ctx: RequestContext,
) -> PluginEnablement:
    """Enable (or re-configure) a plugin in a mission, in the caller's transaction.

    Raises :class:`EnablementRefused`; the caller rolls back, so nothing changes.
    """
    actor = ctx.user
    # The session's own connection, its transaction begun: a query on a bare connection first would
    # begin one the session then only joins with a SAVEPOINT, and its commit would commit nothing.
    _check_plugin(host, session.connection(), plugin_name, bool(actor and actor.is_hq_admin))
    mission = session.get(Mission, mission_code)
    if mission is None:
        raise EnablementRefused(N_("There is no mission %(code)s."), {"code": mission_code})
    state = _state(session, mission_code, plugin_name)
    clean = validate_settings(host, plugin_name, settings, stored_settings(state)[0])
    if state is None:
        state = PluginEnablement(mission_code=mission_code, plugin_name=plugin_name)
        session.add(state)
    state.enabled = True
    schema = host.call_one(plugin_name, "mimosa_mission_settings_schema")
    store_settings(state, clean, secret_fields(schema) if schema is not None else set())
    state.changed_by = actor.username if actor else "system"
    state.changed_at = utcnow()
    try:
        session.flush()
    except sa.exc.IntegrityError:
        # Another administrator enabled the plugin in this mission between our read and our write.
        raise EnablementRefused(
            N_(
                "Someone else changed the plugin %(name)s in mission %(code)s at the same time; "
                "reload the page and try again."
            ),
            {"name": plugin_name, "code": mission_code},
        ) from None
    try:
        host.call_one(
            plugin_name,
            "mimosa_mission_enabled",
            mission=mission_ref(mission),
            settings=clean,
            ctx=_joined(ctx, session),
        )
    except Refusal as exc:
        raise EnablementRefused(str(exc), plugin_message=True) from None
    return state


def disable(session: Session, host: PluginHost, mission_code: str, plugin_name: str, ctx: RequestContext) -> None:
    """Disable a plugin in a mission; its settings and its data for the mission are kept."""
    state = _state(session, mission_code, plugin_name)
    if state is None or not state.enabled:
        raise EnablementRefused(
            N_("The plugin %(name)s is not enabled in mission %(code)s."), {"name": plugin_name, "code": mission_code}
        )
    state.enabled = False
    state.changed_by = ctx.user.username if ctx.user else "system"
    state.changed_at = utcnow()
    session.flush()
    mission = session.get_one(Mission, mission_code)
    try:
        host.call_one(plugin_name, "mimosa_mission_disabled", mission=mission_ref(mission), ctx=_joined(ctx, session))
    except Refusal as exc:
        # The contract has no refusal of a disable; a plugin raising one anyway gets its message
        # shown rather than an error page, and the caller rolls back.
        raise EnablementRefused(str(exc), plugin_message=True) from None
