"""The mission settings schema and what enabling or disabling the CTM in a mission does."""

from collections.abc import Sequence
from typing import Any

from marshmallow import Schema

from ctm_plugin.domain.models import MissionActivation, utcnow
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.schemas.mission_settings import MissionSettingsSchema
from ctm_plugin.security.audit import actor
from ctm_plugin.services.host import check_settings, mappings
from mimosa_host.plugin_api import MissionRef, RequestContext, SettingsFinding, hookimpl


@hookimpl
def mimosa_mission_settings_schema() -> Schema:
    return MissionSettingsSchema()


@hookimpl
def mimosa_mission_enabled(mission: MissionRef, settings: dict[str, Any], ctx: RequestContext) -> None:
    with ctx.session_factory() as session, session.begin():
        activation = session.get(MissionActivation, mission.code)
        if activation is None:
            activation = MissionActivation(mission_code=mission.code, enabled_by=actor(ctx))
            session.add(activation)
        elif activation.disabled_at is not None:
            activation.enabled_at, activation.enabled_by, activation.disabled_at = utcnow(), actor(ctx), None
        activation.case_number_prefix = settings["case_number_prefix"]
        # The connection to the host is not copied: pages, jobs and commands get the host's
        # settings document in their context (services/host.py).


@hookimpl
def mimosa_mission_disabled(mission: MissionRef, ctx: RequestContext) -> None:
    with ctx.session_factory() as session, session.begin():
        activation = session.get(MissionActivation, mission.code)
        if activation is not None:
            activation.disabled_at = utcnow()


@hookimpl
def mimosa_mission_settings_check(
    mission: MissionRef, settings: dict[str, Any], ctx: RequestContext
) -> Sequence[SettingsFinding]:
    """ "Test the connection": the host is asked with these settings and the mapping in force; nothing is written."""
    with mission_session(ctx) as session:
        beneficiary = mappings(session)["beneficiary"]
    return check_settings(mission.code, settings, beneficiary)
