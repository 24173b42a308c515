"""Use cases of research exports (issue 14): a researcher requests, HQ approves or declines, the requester
downloads once.

The request is a row of the mission the researcher asks from and covers missions of the researcher's scope for
requests (``ctx.missions_with``). HQ sees the pending requests of every mission of its scope for approvals, read
mission by mission, and decides only on a request whose missions all lie in that scope, never on its own (even
holding both permissions). The approval runs the export once without keeping it, so that HQ and the requester
see what would be generalised or suppressed, and an export that cannot reach k short of suppressing everything
is said so and cannot be approved. The download makes the file from the cases as they are then (a consent
withdrawn since is honoured), claims the request with a conditional update (``approved`` to ``downloaded``), so
that of two downloads one only succeeds, and keeps no copy: the report alone stays. Each mission whose cases an
export reads records it in its own audit trail.

An export holds only cases with the ``Research`` consent in force (given, not withdrawn), whose person is a
possible or actual victim, opened in the request's years; its rows are :mod:`ctm_plugin.research.ctdc`'s.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.research import APPROVED, DECLINED, DOWNLOADED, REQUESTED, ResearchExport
from ctm_plugin.i18n import N_
from ctm_plugin.research import ctdc, small_cell_k
from ctm_plugin.research.kanonymity import QUASI_IDENTIFIERS, CannotAnonymise, Report, anonymise
from ctm_plugin.schemas.research import APPROVE, ExportDecisionSchema, ExportRequestSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import RESEARCH_APPROVE, RESEARCH_REQUEST
from mimosa_host.plugin_api import MissionRef, RequestContext

from .assistance import in_force
from .base import Conflict, Invalid, NotFound, load, require, unit_of_work
from .spreadsheet import neutral

FIELD_GROUP = "research"
RESEARCH_CONSENT = "Research"
VICTIM_STATUSES = ("PossibleVictimOfTrafficking", "ActualVictimOfTrafficking")
CANNOT = N_(
    "k-anonymity cannot be reached for this export without suppressing everything: too few cases, "
    "or too rare. Nothing was produced; ask for more years or more missions."
)


class CannotReachK(Invalid):
    """The export's k-anonymity needs everything suppressed: nothing is produced (names ``decision``)."""

    def __init__(self, k: int) -> None:
        super().__init__({"decision": [CANNOT]})
        self.k = k


class OwnRequest(Conflict):
    message = N_("You requested this export: another HQ approver decides on it. Nothing was saved.")


class AlreadyDecided(Conflict):
    message = N_("This request was decided meanwhile: nothing was saved. Reload the page to see the decision.")


class AlreadyDownloaded(Conflict):
    message = N_(
        "This export was downloaded already: an export is downloaded once. Request a new export if you need it again."
    )


class NotApproved(Conflict):
    message = N_("This export is not approved: it cannot be downloaded.")


# -- reading the cases ----------------------------------------------------------------------------------------


def _first_exploitation_countries(session: Session) -> dict[int, str | None]:
    """Each case's first exploitation country (by the events' order), read in one pass over the events: a
    subquery per case, or a window joined back, costs SQLite far more."""
    first: dict[int, str | None] = {}
    query = (
        sa.select(TraffickingEvent.case_id, TraffickingEvent.country)
        .where(TraffickingEvent.type == "Exploitation", TraffickingEvent.country.is_not(None))
        .order_by(TraffickingEvent.case_id.desc(), TraffickingEvent.sequence.desc(), TraffickingEvent.id.desc())
    )
    for case_id, country in session.execute(query):
        first[case_id] = country  # the last written is the first event
    return first


def _as_text(column: Any) -> Any:
    """A column as its text: a JSON list (a few distinct lists among many rows, each decoded once: :func:`_codes`)
    or a date (ISO 8601 on both backends, parsed by :func:`_day` faster than the dialect's processing)."""
    return sa.cast(column, sa.Text).label(column.key)


@functools.lru_cache(maxsize=4096)
def _codes(text: str | None) -> tuple[str, ...]:
    """A JSON list's codes; SQL NULL, JSON ``null`` (an ORM ``None``) and ``[]`` are none."""
    return tuple(json.loads(text) or ()) if text else ()


_day = date.fromisoformat


def case_facts(session: Session, year_from: int, year_to: int) -> Iterator[ctdc.CaseFacts]:
    """The facts of the mission's cases an export may hold (the session's mission): the ``Research`` consent in
    force (:func:`.assistance.in_force`, for every case at once), a possible or actual victim, opened in the
    years. Only :data:`ctdc.FACT_FIELDS` are read."""
    consented = sa.exists().where(Consent.case_id == Case.id, in_force(RESEARCH_CONSENT))
    first = _first_exploitation_countries(session)
    query = (
        sa.select(
            Case.id,
            _as_text(Case.opened_on),
            _as_text(PersonProfile.birth_date),
            PersonProfile.gender,
            _as_text(PersonProfile.citizenships),
            VictimContext.trafficking_status,
            _as_text(VictimContext.recruitment_methods),
            _as_text(VictimContext.control_methods),
            _as_text(VictimContext.exploitation_types),
            VictimContext.labour_industry,
            _as_text(VictimContext.sexual_exploitation_types),
            VictimContext.recruiter_relationship,
        )
        .join(VictimContext, VictimContext.case_id == Case.id)
        .outerjoin(PersonProfile, PersonProfile.case_id == Case.id)
        .where(
            consented,
            VictimContext.trafficking_status.in_(VICTIM_STATUSES),
            Case.opened_on >= date(year_from, 1, 1),
            Case.opened_on < date(year_to + 1, 1, 1),
        )
        .execution_options(yield_per=5000)
    )
    for r in session.execute(query):
        yield ctdc.CaseFacts(
            opened_on=_day(r.opened_on),
            birth_date=_day(r.birth_date) if r.birth_date else None,
            gender=r.gender,
            citizenships=_codes(r.citizenships),
            exploitation_country=first.get(r.id),
            trafficking_status=r.trafficking_status,
            recruitment_methods=_codes(r.recruitment_methods),
            control_methods=_codes(r.control_methods),
            exploitation_types=_codes(r.exploitation_types),
            labour_industry=r.labour_industry,
            sexual_exploitation_types=_codes(r.sexual_exploitation_types),
            recruiter_relationship=r.recruiter_relationship,
        )


@dataclass(frozen=True)
class Export:
    columns: tuple[str, ...]
    rows: list[list[str]]
    report: Report


def build(layout: str, facts: Sequence[ctdc.CaseFacts], k: int | None = None) -> Export:
    """The export's rows from the cases' facts: k-anonymous on the quasi-identifiers; :class:`CannotAnonymise`
    when only suppressing everything would do. Every cell is neutralised for spreadsheets; a row's head (its
    class) and tail (its codes) are made once for all the rows that share them, since cases cluster."""
    k = small_cell_k() if k is None else k
    quasi = [ctdc.quasi_identifiers(layout, f) for f in facts]
    done = anonymise(quasi, QUASI_IDENTIFIERS, k)
    heads: dict[tuple[Any, ...], list[str]] = {}
    tails: dict[tuple[Any, ...], list[str]] = {}
    rows = []
    for i, values in zip(done.kept, done.values, strict=True):
        case, key = facts[i], ctdc.tail_key(facts[i])
        if values not in heads:
            heads[values] = [neutral(cell) for cell in ctdc.head(layout, values)]
        if key not in tails:
            tails[key] = [neutral(cell) for cell in ctdc.tail(layout, case)]
        rows.append(heads[values] + tails[key])
    return Export(ctdc.COLUMNS[layout], rows, done.report)


def as_csv(export: Export) -> str:
    """The export as CSV (its cells neutralised already, by :func:`build`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(export.columns)
    writer.writerows(export.rows)
    return out.getvalue()


def report_data(report: Report) -> dict[str, Any]:
    return {
        "k": report.k,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "rows_suppressed": report.rows_suppressed,
        "classes": report.classes,
        "smallest_class": report.smallest_class,
        "levels": [{"name": lv.name, "level": lv.level, "level_name": lv.level_name} for lv in report.levels],
    }


def _read(ctx: RequestContext, request: ResearchExport, permission: str) -> Export:
    """Read the request's missions, each through the user's context there (holding ``permission``), each
    audited there; build the export or raise :class:`CannotReachK`."""
    scope = {m.code for m in ctx.missions_with(permission)}
    if not set(request.missions) <= scope:
        raise NotFound
    facts: list[ctdc.CaseFacts] = []
    for code in request.missions:
        mctx = ctx.in_mission(code)
        with unit_of_work(mctx) as session:
            facts.extend(case_facts(session, request.year_from, request.year_to))
            audit.record(session, mctx, "research.export.read", None, [FIELD_GROUP])
    try:
        return build(request.layout, facts)
    except CannotAnonymise as cannot:
        raise CannotReachK(cannot.k) from None


# -- the researcher's side --------------------------------------------------------------------------------------


def request_scope(ctx: RequestContext) -> tuple[MissionRef, ...]:
    require(ctx, RESEARCH_REQUEST)
    return ctx.missions_with(RESEARCH_REQUEST)


def request_export(ctx: RequestContext, data: dict[str, Any]) -> int:
    """A researcher's request; bad input saves nothing (:class:`Invalid` naming the field)."""
    allowed = tuple(m.code for m in request_scope(ctx))
    values = load(ExportRequestSchema(allowed_missions=allowed), data)
    with unit_of_work(ctx) as session:
        export = ResearchExport(mission_code=ctx.mission.code, requested_by=actor(ctx), status=REQUESTED, **values)
        session.add(export)
        session.flush()
        audit.record(session, ctx, "research.export.request", None, [FIELD_GROUP])
        return export.id


def my_exports(ctx: RequestContext) -> list[ResearchExport]:
    """The requester's own requests in this mission, newest first."""
    require(ctx, RESEARCH_REQUEST)
    with unit_of_work(ctx) as session:
        rows = list(
            session.scalars(
                sa.select(ResearchExport)
                .where(ResearchExport.requested_by == actor(ctx))
                .order_by(ResearchExport.requested_at.desc(), ResearchExport.id.desc())
            )
        )
        session.expunge_all()
        return rows


def download(ctx: RequestContext, export_id: int) -> tuple[str, str]:
    """The approved export, once, as (file name, CSV text). The request moves to ``downloaded`` in the same
    transaction as the reading, under its version: of two downloads at once, the second to commit is refused
    (:class:`AlreadyDownloaded`), as is any later one. An export that no longer reaches k (consents withdrawn
    since the approval) says so, produces nothing, and stays approved."""
    require(ctx, RESEARCH_REQUEST)
    with _once(AlreadyDownloaded), unit_of_work(ctx) as session:
        request = session.get(ResearchExport, export_id)
        if request is None or request.requested_by != actor(ctx):
            raise NotFound
        if request.status == DOWNLOADED:
            raise AlreadyDownloaded
        if request.status != APPROVED:
            raise NotApproved
        request.status, request.downloaded_at = DOWNLOADED, utcnow()
        session.flush()  # the claim: a concurrent download waits here, then finds the version moved on
        export = _read(ctx, request, RESEARCH_REQUEST)
        request.report = report_data(export.report)
        audit.record(session, ctx, "research.export.download", None, [FIELD_GROUP])
        name = f"{request.layout.lower()}-export-{request.mission_code}-{request.id}.csv"
        return name, as_csv(export)


@contextmanager
def _once(lost: type[Conflict]) -> Iterator[None]:
    """A concurrent change of the same request committed first: refused as ``lost``. On SQLite the second writer
    finds the database changed under its read (``database is locked``): the same race, the same refusal."""
    try:
        yield
    except Conflict as conflict:
        if type(conflict) is Conflict:  # unit_of_work's StaleDataError
            raise lost from None
        raise
    except sa.exc.OperationalError as exc:
        if isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig):
            raise lost from None
        raise


# -- HQ's side --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HqExport:
    mission: MissionRef
    export: ResearchExport


def hq_requests(ctx: RequestContext) -> list[HqExport]:
    """The requests of every mission of HQ's scope for approvals, pending first, oldest first."""
    require(ctx, RESEARCH_APPROVE)
    found: list[HqExport] = []
    for mission in ctx.missions_with(RESEARCH_APPROVE):
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            for export in session.scalars(sa.select(ResearchExport)):
                found.append(HqExport(mission, export))
            audit.record(session, mctx, "research.exports.view", None, [FIELD_GROUP])
            session.flush()  # the audit event written before the rows leave the session for the page
            session.expunge_all()
    return sorted(found, key=lambda h: (h.export.status != REQUESTED, h.export.requested_at, h.mission.code))


def decide(ctx: RequestContext, mission_code: str, export_id: int, data: dict[str, Any]) -> str:
    """HQ's approval or refusal (with a reason) of a request of its scope; never of its own request. An approval
    first runs the export without keeping it: one that cannot reach k is refused (:class:`CannotReachK`,
    nothing saved), else its report is kept for the requester to see. Returns the new status."""
    require(ctx, RESEARCH_APPROVE)
    if mission_code not in {m.code for m in ctx.missions_with(RESEARCH_APPROVE)}:
        raise NotFound
    values = load(ExportDecisionSchema(), data)
    mctx = ctx.in_mission(mission_code)
    with _once(AlreadyDecided), unit_of_work(mctx) as session:
        request = session.get(ResearchExport, export_id)
        if request is None:
            raise NotFound
        if request.requested_by == actor(ctx):
            raise OwnRequest
        if request.status != REQUESTED:
            raise AlreadyDecided
        status = APPROVED if values["decision"] == APPROVE else DECLINED
        request.report = report_data(_read(ctx, request, RESEARCH_APPROVE).report) if status == APPROVED else None
        request.status, request.decided_by, request.decided_at = status, actor(ctx), utcnow()
        request.decision_reason = values.get("reason")
        audit.record(session, mctx, f"research.export.{status}", None, [FIELD_GROUP])
        return status
