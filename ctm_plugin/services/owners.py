"""Who owns a case: the owner's name, and a supervisor reassigning one case or all of one caseworker's.

Owners are stored as usernames; the host names the mission's users (``ctx.mission_users``). Only
a user who may edit cases in the mission can own one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.case import Case
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.case import ReassignAllSchema, ReassignSchema
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import CASE_EDIT, CASE_SUPERVISE
from mimosa_host.plugin_api import RequestContext, UserRef

from .base import Invalid, get_case, load, open_here, require, touch, unit_of_work

NOT_A_CASEWORKER = N_("Choose a caseworker of this mission from the list.")
SAVED_MEANWHILE = N_(
    "Someone else saved one of these cases meanwhile: no case was moved. Check the numbers and try again."
)


def caseworkers(ctx: RequestContext) -> tuple[UserRef, ...]:
    """The users who may own a case of the mission, by name."""
    return ctx.mission_users(CASE_EDIT)


class OwnerNames(dict[str, str]):
    """The mission's caseworkers' display names by username, asked of the host once for a whole page.

    Called with a username, the name; the username itself when the mission no longer knows them.
    """

    def __call__(self, username: str) -> str:
        return self.get(username, username)


def owner_names(ctx: RequestContext) -> OwnerNames:
    return OwnerNames((user.username, user.display_name) for user in caseworkers(ctx))


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
    """Each owner of open cases in the mission with how many they own, by username: the cases
    :func:`reassign_all` would move (a case handed over to another mission is not counted); ``shown``: the
    Reassign cases page lists them, and that view is audited (``cases.owners.view``)."""
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        if shown:
            audit.record(session, ctx, "cases.owners.view", None)
        rows = session.execute(
            sa.select(Case.owner, sa.func.count()).where(open_here()).group_by(Case.owner).order_by(Case.owner)
        )
        return [(owner, count) for owner, count in rows]


def cases_to_move(ctx: RequestContext, data: dict[str, Any]) -> int:
    """How many cases :func:`reassign_all` would move, after its checks: the confirmation's number."""
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        return len(_moving(ctx, session, data)[1])


def reassign_all(ctx: RequestContext, data: dict[str, Any]) -> int:
    """Give every open case of one caseworker to another (staff leave), auditing each; returns how many.

    A case handed over to another mission stays as it is: it takes no change here. A case someone else
    saved meanwhile is a :class:`Conflict`, and no case moves.
    """
    require(ctx, CASE_SUPERVISE)
    with unit_of_work(ctx) as session:
        target, moving = _moving(ctx, session, data)
        for case in moving:
            touch(case, ctx, case.version)
            case.owner = target
            audit.record(session, ctx, "case.reassign", case.id)
        return len(moving)


def _moving(ctx: RequestContext, session: Session, data: dict[str, Any]) -> tuple[str, list[Case]]:
    """The new owner and the cases that move to them, or :class:`Invalid` naming the field."""
    values = load(ReassignAllSchema(), data)
    source, target = values["from_owner"], values["to_owner"]
    if target not in {user.username for user in caseworkers(ctx)}:
        raise Invalid({"to_owner": [NOT_A_CASEWORKER]})
    if target == source:
        raise Invalid({"to_owner": [N_("Choose another caseworker than the one whose cases move.")]})
    moving = list(session.scalars(sa.select(Case).where(Case.owner == source, open_here()).order_by(Case.id)))
    if not moving:
        raise Invalid({"from_owner": [N_("This caseworker owns no open case to move.")]})
    return target, moving
