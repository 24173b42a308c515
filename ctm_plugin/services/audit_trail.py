"""Reading the audit trail: a case's, and the mission's filtered by user, days and action, newest
first, a page at a time (keyset: each page starts below the last id shown, so a page never shifts
while events are added); and its CSV export, streamed in batches.

Only holders of ``ctm.audit.view`` read it, only in their mission; reading it is audited too.
Events say who did what to which field groups, never the values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.mission_time import day_start, in_mission_time
from ctm_plugin.i18n import N_, _
from ctm_plugin.schemas.audit import TrailFilterSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit_actions import action_label, group_label
from ctm_plugin.security.permissions import AUDIT_VIEW
from mimosa_host.plugin_api import RequestContext

from .base import NotFound, case_of_beneficiary, load, require, unit_of_work
from .spreadsheet import neutral

PAGE_SIZE = 50
EXPORT_BATCH = 500
"""Rows read per query while the CSV streams: memory stays flat however long the trail."""

CSV_HEADER = (
    N_("Time"),
    N_("User"),
    N_("Action"),
    N_("Action code"),
    N_("Case"),
    N_("Field groups"),
)


@dataclass(frozen=True)
class TrailRow:
    id: int
    at: datetime
    username: str
    action: str
    field_groups: list[str]
    case_number: str | None
    beneficiary_id: str | None


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    next_before: int | None
    """The id the next (older) page starts below; None on the last page."""


def _rows(session: Session, where: list[Any], before: int | None, limit: int) -> list[TrailRow]:
    query = (
        sa.select(AuditEvent, Case.case_number, Case.beneficiary_id)
        .outerjoin(Case, Case.id == AuditEvent.case_id)
        .where(*where, *([AuditEvent.id < before] if before else []))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        TrailRow(e.id, e.at, e.username, e.action, list(e.field_groups or ()), number, ref)
        for e, number, ref in session.execute(query)
    ]


def _page(session: Session, where: list[Any], before: int | None) -> TrailPage:
    rows = _rows(session, where, before, PAGE_SIZE + 1)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return TrailPage(rows, rows[-1].id if more else None)


def case_trail(ctx: RequestContext, beneficiary_id: str, data: dict[str, Any]) -> tuple[str, TrailPage]:
    """The case's number and a page of its events; :class:`NotFound` if the beneficiary has no case here."""
    require(ctx, AUDIT_VIEW)
    before = load(TrailFilterSchema(only=("before",)), data).get("before")
    with unit_of_work(ctx) as session:
        case = case_of_beneficiary(session, beneficiary_id)
        if case is None:
            raise NotFound
        page = _page(session, [AuditEvent.case_id == case.id], before)
        audit.record(session, ctx, "audit.view", case.id, ["audit"])
        return case.case_number, page


def _filters(ctx: RequestContext, values: dict[str, Any]) -> list[Any]:
    where: list[Any] = []
    if values.get("username"):
        where.append(AuditEvent.username == values["username"].strip())
    if values.get("action"):
        where.append(AuditEvent.action == values["action"])
    if values.get("from_on"):
        where.append(AuditEvent.at >= day_start(values["from_on"], ctx.settings))
    if values.get("to_on"):
        where.append(AuditEvent.at < day_start(values["to_on"] + timedelta(days=1), ctx.settings))
    return where


def mission_trail(ctx: RequestContext, data: dict[str, Any]) -> TrailPage:
    """A page of the mission's events matching the filters; :class:`Invalid` names a wrong filter."""
    require(ctx, AUDIT_VIEW)
    values = load(TrailFilterSchema(), data)
    with unit_of_work(ctx) as session:
        page = _page(session, _filters(ctx, values), values.get("before"))
        audit.record(session, ctx, "audit.view", None, ["audit"])
        return page


def export_csv(ctx: RequestContext, data: dict[str, Any]) -> Iterator[str]:
    """The filtered trail as CSV lines, every page of it. The filters are checked and the export is
    audited (committed) before the first line: an export that fails half-way was still asked for."""
    require(ctx, AUDIT_VIEW)
    values = load(TrailFilterSchema(), {k: v for k, v in data.items() if k != "before"})
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "audit.export", None, ["audit"])
    return _lines(ctx, _filters(ctx, values))


def _lines(ctx: RequestContext, where: list[Any]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([neutral(cell) for cell in cells])
        return out.getvalue()

    yield line([_(title) for title in CSV_HEADER])
    before: int | None = None
    while True:
        with unit_of_work(ctx) as session:
            rows = _rows(session, where, before, EXPORT_BATCH)
        for row in rows:
            yield line(
                [
                    in_mission_time(row.at, ctx.settings).isoformat(timespec="seconds"),
                    row.username,
                    action_label(row.action),
                    row.action,
                    row.case_number or "",
                    "; ".join(group_label(group) for group in row.field_groups),
                ]
            )
        if len(rows) < EXPORT_BATCH:
            return
        before = rows[-1].id
