"""Mission-scoped sessions: every ORM query sees only the request's mission, every write stays in it.

The one exception is deliberate and narrow: a row between two missions (a hand-over, its history)
is read and written by either of its two missions, and by no other.

HQ's rows (the emergency fund: :class:`HqScoped`, no mission) are in no mission's scope: a mission
session writes none of them and reads none (a mission's re-trafficking flags, the few columns of HQ's matches
it may know, are a view of their own: ``domain.retrafficking.FLAGS``). An HQ session (:func:`hq_session`)
reads and writes them and nothing else; an HQ use case reads a mission's rows through that mission's own
session. A mission reads the few facts of HQ's rows it needs (the fund's currency, its largest request)
through :func:`hq_reader`, which reads HQ's rows and writes nothing.

Bulk ``update()``/``delete()`` statements would bypass the flush check, so they are refused;
raw SQL on the CTM's tables has no place in a mission session either.

On PostgreSQL the database enforces the same scope (row-level security, migration ctm0017): every
transaction of these sessions sets ``ctm.mission`` (a mission session) or ``ctm.hq`` (an HQ session or
reader) for itself alone (:func:`_database_scope`). SQLite has no such thing: there the ORM's scope is
the only one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from mimosa_host.plugin_api import RequestContext

from .models import BetweenMissions, HqScoped, MissionScoped


class MissionScopeViolation(RuntimeError):
    """A write would put a row into another mission: a programming error, never user input."""


_SET_SCOPE = sa.text(
    "SELECT current_setting('ctm.mission', true), current_setting('ctm.hq', true),"
    " set_config('ctm.mission', :mission, true), set_config('ctm.hq', :hq, true)"
)
_RESTORE_SCOPE = sa.text("SELECT set_config('ctm.mission', :mission, true), set_config('ctm.hq', :hq, true)")


def _database_scope(session: Session, mission: str, hq: bool) -> None:
    """On PostgreSQL, what row-level security lets ``session``'s transactions see: ``mission``'s rows (``""``:
    none) and, with ``hq``, HQ's.

    Set with ``set_config(..., true)`` as each transaction begins, so the setting ends with it and a pooled
    connection carries nothing to its next user. A session that joins a transaction already open on the
    connection (a use case's inside a story, a mission's audit inside HQ's transaction) gives the
    enclosing one its scope back when it ends.
    """
    values = {"mission": mission, "hq": "on" if hq else "off"}

    @event.listens_for(session, "after_begin")
    def _set(_session: Session, _transaction: object, connection: sa.Connection) -> None:
        if connection.dialect.name != "postgresql":
            return
        before = connection.execute(_SET_SCOPE, values).one()
        if connection.in_nested_transaction():
            session.info["enclosing_scope"] = (connection, {"mission": before[0] or "", "hq": before[1] or "off"})

    @event.listens_for(session, "after_transaction_end")
    def _give_back(_session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None and (enclosing := session.info.pop("enclosing_scope", None)):
            connection, previous = enclosing
            if connection.in_transaction() and not connection.invalidated:
                connection.execute(_RESTORE_SCOPE, previous)


def mission_session(ctx: RequestContext) -> Session:
    """A session on the host's database that can only read and write ``ctx.mission``'s rows."""
    session = ctx.session_factory()
    code = ctx.mission.code
    session.info["mission_code"] = code
    session.info["settings"] = ctx.settings  # the host's document, the one copy (services/host.py)
    _database_scope(session, code, hq=False)

    # Built once for the session's statements (a page runs a score of them), each time the same criteria.
    scoped = (
        with_loader_criteria(MissionScoped, lambda cls: cls.mission_code == code, include_aliases=True),
        with_loader_criteria(
            BetweenMissions,
            lambda cls: sa.or_(cls.from_mission == code, cls.to_mission == code),
            include_aliases=True,
        ),
        with_loader_criteria(HqScoped, lambda _cls: sa.false(), include_aliases=True),
    )

    @event.listens_for(session, "do_orm_execute")
    def _only_this_mission(state: ORMExecuteState) -> None:
        if state.is_update or state.is_delete:
            raise MissionScopeViolation("bulk UPDATE or DELETE in a mission session")
        if state.is_select and not state.is_column_load and not state.is_relationship_load:
            state.statement = state.statement.options(*scoped)

    @event.listens_for(session, "before_flush")
    def _stay_in_this_mission(session: Session, _flush_context: object, _instances: object) -> None:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, MissionScoped) and obj.mission_code != code:
                raise MissionScopeViolation(f"{type(obj).__name__} of another mission in a {code} session")
            if isinstance(obj, BetweenMissions) and code not in (obj.from_mission, obj.to_mission):
                raise MissionScopeViolation(f"{type(obj).__name__} between two other missions in a {code} session")
            if isinstance(obj, HqScoped):
                raise MissionScopeViolation(f"{type(obj).__name__} of HQ in a {code} session")

    return session


def hq_session(ctx: RequestContext, permission: str) -> Session:
    """A session that can only read and write HQ's rows (no mission's), for a user holding ``permission``.

    The caller checks the permission first (a page answers 404); this refuses again, as a programming
    error, if it was not checked.
    """
    if not ctx.can(permission):
        raise MissionScopeViolation(f"an HQ session without {permission}")
    session = ctx.session_factory()
    _database_scope(session, "", hq=True)

    @event.listens_for(session, "do_orm_execute")
    def _only_hq(state: ORMExecuteState) -> None:
        if state.is_update or state.is_delete:
            raise MissionScopeViolation("bulk UPDATE or DELETE in an HQ session")
        if state.is_select and not state.is_column_load and not state.is_relationship_load:
            state.statement = state.statement.options(
                with_loader_criteria(MissionScoped, lambda cls: sa.false(), include_aliases=True),
                with_loader_criteria(BetweenMissions, lambda cls: sa.false(), include_aliases=True),
            )

    @event.listens_for(session, "before_flush")
    def _only_hq_rows(session: Session, _flush_context: object, _instances: object) -> None:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if not isinstance(obj, HqScoped):
                raise MissionScopeViolation(f"{type(obj).__name__} of a mission in an HQ session")

    return session


def hq_reader(ctx: RequestContext, permission: str) -> Session:
    """A read-only session on HQ's rows (no mission's), for a user holding ``permission``: how a mission
    reads what it must know of HQ's rows (the fund's currency and largest request), and nothing more.

    It reads no mission's rows and writes nothing (no flush, no statement other than a SELECT); without
    ``permission`` it is refused, as a programming error (the caller checks the permission first).
    """
    if not ctx.can(permission):
        raise MissionScopeViolation(f"an HQ reader without {permission}")
    session = ctx.session_factory()
    _database_scope(session, "", hq=True)

    @event.listens_for(session, "do_orm_execute")
    def _read_hq_only(state: ORMExecuteState) -> None:
        if not state.is_select:
            raise MissionScopeViolation("a write through an HQ reader")
        if not state.is_column_load and not state.is_relationship_load:
            state.statement = state.statement.options(
                with_loader_criteria(MissionScoped, lambda cls: sa.false(), include_aliases=True),
                with_loader_criteria(BetweenMissions, lambda cls: sa.false(), include_aliases=True),
            )

    @event.listens_for(session, "before_flush")
    def _write_nothing(session: Session, _flush_context: object, _instances: object) -> None:
        if session.new or session.dirty or session.deleted:
            raise MissionScopeViolation("a write through an HQ reader")

    return session
