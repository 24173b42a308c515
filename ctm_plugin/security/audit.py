"""Writing audit events: in the same transaction as the change, or before a page is shown."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from ctm_plugin.domain.audit import AuditEvent
from mimosa_host.plugin_api import RequestContext


def actor(ctx: RequestContext) -> str:
    """Who acts: the user, or ``system`` for a job or the host itself."""
    return ctx.user.username if ctx.user else "system"


def record(
    session: Session, ctx: RequestContext, action: str, case_id: int | None, field_groups: Iterable[str] = ()
) -> None:
    """Append one event; the caller's transaction commits it with the change (or the page)."""
    session.add(
        AuditEvent(
            mission_code=ctx.mission.code,
            username=actor(ctx),
            action=action,
            case_id=case_id,
            field_groups=sorted(set(field_groups)),
        )
    )
