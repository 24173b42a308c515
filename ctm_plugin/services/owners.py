"""Who owns a case: the owner's name, and a supervisor reassigning one case or all of one caseworker's.

Owners are stored as usernames; the host names the mission's users (``ctx.mission_users``). Only
a user who may edit cases in the mission can own one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.models import utcnow
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.case import CLOSED_STATUSES, ReassignAllSchema, ReassignSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_SUPERVISE
from mimosa_host.plugin_api import RequestContext, UserRef

from .base import Invalid, get_case, handed_over_to, load, require, touch, unit_of_work

NOT_A_CASEWORKER = N_("Choose a caseworker of this mission from the list.")


def caseworkers(ctx: RequestContext) -> tuple[UserRef, ...]:
    """The users who may own a case of the mission, by name."""
    return ctx.mission_users(CASE_EDIT)


def owner_name(ctx: RequestContext, username: str) -> str:
    """The owner's display name; the username itself when the mission no longer knows them."""
    return next((user.display_name for user in caseworkers(ctx) if user.username == username), username)


def reassign(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """Give one case to another caseworker of the mission."""
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ReassignSchema(), data)
        if values["owner"] not in {user.username for user in caseworkers(ctx)}:
            raise Invalid({"owner": [NOT_A_CASEWORKER]})
        touch(case, ctx, values["version"])
        if values["owner"] == case.owner:
            raise Invalid({"owner": [N_("This caseworker already owns the case.")]})
        case.owner = values["owner"]
        audit.record(session, ctx, "case.reassign", case.id)


def owners_of_open_cases(ctx: RequestContext, *, shown: bool = False) -> list[tuple[str, int]]:
    """Each owner of open cases in the mission with how many they own, by username; ``shown``: the
    Reassign cases page lists them, and that view is audited (``cases.owners.view``)."""
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        if shown:
            audit.record(session, ctx, "cases.owners.view", None)
        rows = session.execute(
            sa.select(Case.owner, sa.func.count())
            .where(Case.status.not_in(CLOSED_STATUSES))
            .group_by(Case.owner)
            .order_by(Case.owner)
        )
        return [(owner, count) for owner, count in rows]


def reassign_all(ctx: RequestContext, data: dict[str, Any]) -> int:
    """Give every open case of one caseworker to another (staff leave), auditing each; returns how many.

    A case handed over to another mission stays as it is: it takes no change here.
    """
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        values = load(ReassignAllSchema(), data)
        source, target = values["from_owner"], values["to_owner"]
        if target not in {user.username for user in caseworkers(ctx)}:
            raise Invalid({"to_owner": [NOT_A_CASEWORKER]})
        if target == source:
            raise Invalid({"to_owner": [N_("Choose another caseworker than the one whose cases move.")]})
        moving = [
            case
            for case in session.scalars(
                sa.select(Case).where(Case.owner == source, Case.status.not_in(CLOSED_STATUSES)).order_by(Case.id)
            )
            if handed_over_to(case) is None
        ]
        if not moving:
            raise Invalid({"from_owner": [N_("This caseworker owns no open case to move.")]})
        for case in moving:
            case.owner, case.updated_by, case.updated_at = target, actor(ctx), utcnow()
            audit.record(session, ctx, "case.reassign", case.id)
        return len(moving)
