"""What every use case shares: refusals, the unit of work, loading a case, the version check."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from marshmallow import Schema, ValidationError
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import ORMOption

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.handover import ACCEPTED, Handover
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import FormSchema
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from mimosa_host.plugin_api import RequestContext

T = TypeVar("T")


class NotFound(Exception):
    """No such case for this user in this mission; pages answer 404, never 403."""


@dataclass
class Invalid(Exception):
    """Bad input: errors per field (msgids), nothing saved."""

    errors: dict[str, list[str]] = field(default_factory=dict)


class Conflict(Exception):
    """Someone else saved the case since this form was read; nothing saved."""

    message = N_("Someone else saved this case while you were editing it. Reload the page to see their changes.")


class HandedOver(Conflict):
    """The case was handed over to another mission: it is read-only, but for closing it; nothing saved."""

    message = N_("This case was handed over to another mission: it is read-only, and can only be closed.")


class ClosedCase(Conflict):
    """The case is closed: it is read-only until it is reopened; nothing saved."""

    message = N_("This case is closed: it is read-only until someone reopens it.")


def require(ctx: RequestContext, permission: str) -> None:
    if not ctx.can(permission):
        raise NotFound


@contextmanager
def unit_of_work(ctx: RequestContext) -> Iterator[Session]:
    """One transaction in the mission's scope: commits on success, rolls back on any error.

    A concurrent save of the same case surfaces as :class:`Conflict`.
    """
    with mission_session(ctx) as session:
        try:
            with session.begin():
                yield session
        except StaleDataError:
            raise Conflict from None


def load(schema: Schema, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema.load(data)
    except ValidationError as exc:
        messages = exc.normalized_messages()
        raise Invalid({name: _flatten(msgs) for name, msgs in messages.items()}) from None


def _flatten(messages: Any) -> list[str]:
    if isinstance(messages, dict):  # list fields report errors per index
        return sorted({m for msgs in messages.values() for m in _flatten(msgs)})
    return list(messages) if isinstance(messages, list) else [str(messages)]


def among(session: Session, column: QueryableAttribute[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """``column IN values``; on PostgreSQL ``= ANY`` of one array parameter: the same statement whatever their
    number, where an ``IN`` of a pull's page of 200 values renders, sends and parses a parameter each. (SQLite
    gains nothing from a JSON array read by ``json_each`` in its place: measured slower.)"""
    listed = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, listed, type_=postgresql.ARRAY(column.type)))
    return column.in_(listed)


def case_of_beneficiary(session: Session, beneficiary_id: str) -> Case | None:
    return session.scalar(sa.select(Case).where(Case.beneficiary_id == beneficiary_id))


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound
    return case


def row_of_case(session: Session, model: type[T], row_id: int, case: Case) -> T:
    """The row ``row_id`` of ``model`` if it belongs to ``case``; :class:`NotFound` otherwise (another case's row
    is never reached through this one)."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "case_id", None) != case.id:
        raise NotFound
    return row


def edit_row(
    ctx: RequestContext,
    case_id: int,
    model: type[Any],
    row_id: int,
    schema_for: Callable[[Case], FormSchema],
    data: dict[str, Any],
    action: str,
    field_group: str,
) -> None:
    """Set every field of ``schema_for(case)``'s form on the case's row ``row_id``, with the version check and
    an audit event naming ``field_group``; the caller has checked the permission."""
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        row = row_of_case(session, model, row_id, case)
        schema = schema_for(case)
        values = load(schema, data)
        touch(case, ctx, values["version"])
        assign(row, schema, values)
        audit.record(session, ctx, action, case.id, [field_group])


def touch(
    case: Case, ctx: RequestContext, expected_version: int, *, closing: bool = False, reopening: bool = False
) -> None:
    """Check the form's version and mark the case changed, so its version moves on.

    The UPDATE carries the version it read; a save that raced past this check still fails. Every
    change of a case passes here, so this is where its state is enforced: a closed case takes no
    change but its reopening, and a case handed over to another mission none but its closing.
    """
    if case.version != expected_version:
        raise Conflict
    if case.status in CLOSED_STATUSES and not (closing or reopening):
        raise ClosedCase
    if not closing and handed_over_to(case) is not None:
        raise HandedOver
    case.updated_by = actor(ctx)
    case.updated_at = utcnow()


HANDED_OVER = "ctm_handed_over"
"""``Session.info`` key: the hand-over read with a page's case (:func:`case_for_page`), by case id."""


def handed_over_to(case: Case) -> str | None:
    """The mission that accepted the case's hand-over, if one did (the hand-over row says so, both sides see it)."""
    session = sa.orm.object_session(case)
    assert session is not None  # a case a use case loaded
    read = session.info.get(HANDED_OVER, {})
    if case.id in read:
        return read[case.id]
    return session.scalar(sa.select(Handover.to_mission).where(*_accepted_from(case.id, case.mission_code)))


BESIDE = "ctm_beside"
"""``Session.info`` key: what a page read beside its case (:func:`case_for_page`'s ``beside``), by case id."""


def case_for_page(
    session: Session,
    beneficiary_id: str,
    options: Sequence[ORMOption] = (),
    beside: Sequence[tuple[Any, Any]] = (),
) -> Case | None:
    """The beneficiary's case for a page that only reads it, with ``options`` (eager loads) and, in the same
    statement, the mission it was handed over to (kept for :func:`handed_over_to` in this session) and the
    rows ``beside`` names, each an ``(entity, on)`` pair outer-joined to the case (kept for :func:`read_beside`:
    what a tab shows of other tables, without a statement of its own)."""
    handed_over = (
        sa.select(Handover.to_mission)
        .where(*_accepted_from(Case.id, Case.mission_code))
        .correlate(Case)
        .limit(1)
        .scalar_subquery()
    )
    query = sa.select(Case, handed_over, *(entity for entity, _on in beside))
    for entity, on in beside:
        query = query.outerjoin(entity, on)
    row = session.execute(query.where(Case.beneficiary_id == beneficiary_id).options(*options)).unique().one_or_none()
    if row is None:
        return None
    session.info.setdefault(HANDED_OVER, {})[row[0].id] = row[1]
    if beside:
        session.info.setdefault(BESIDE, {})[row[0].id] = tuple(row[2:])
    return row[0]


def read_beside(session: Session, case_id: int) -> tuple[Any, ...] | None:
    """What :func:`case_for_page` read beside the case in this session, if it was asked to."""
    return session.info.get(BESIDE, {}).get(case_id)


def open_here() -> sa.ColumnElement[bool]:
    """Cases that take changes (:func:`touch` refuses the others): open, and not handed over to another
    mission. Work listed on any other case could never be done."""
    handed_over = sa.exists().where(*_accepted_from(Case.id, Case.mission_code)).correlate_except(Handover)
    return sa.and_(Case.status.not_in(CLOSED_STATUSES), ~handed_over)


def _accepted_from(case_id: Any, mission_code: Any) -> tuple[sa.ColumnElement[bool], ...]:
    return Handover.case_id == case_id, Handover.from_mission == mission_code, Handover.state == ACCEPTED


def version_of(ctx: RequestContext, case_id: int) -> int:
    """The case's version now, for a form filled by code (the demo's story)."""
    with mission_session(ctx) as session:
        return get_case(session, case_id).version


def case_id_for(ctx: RequestContext, beneficiary_id: str) -> int:
    """The id of the beneficiary's case in the request's mission; :class:`NotFound` if none."""
    with mission_session(ctx) as session:
        case_id = session.scalar(sa.select(Case.id).where(Case.beneficiary_id == beneficiary_id))
    if case_id is None:
        raise NotFound
    return case_id


def assign(target: object, schema: FormSchema, values: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    """Set every field of the form: one left blank clears the stored value (lists come as [])."""
    for name in schema.fields:
        if name != "version" and name not in skip:
            setattr(target, name, values.get(name))


def add_to_case(session: Session, ctx: RequestContext, case: Case, row: Any, action: str, field_group: str) -> int:
    """Add ``row`` to ``case`` in the request's mission, audit it, and return its id."""
    row.mission_code, row.case_id = ctx.mission.code, case.id
    session.add(row)
    session.flush()
    audit.record(session, ctx, action, case.id, [field_group])
    return row.id
