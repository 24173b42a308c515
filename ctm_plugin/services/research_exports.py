"""Use cases of research exports (issue 14): a researcher requests, HQ approves or declines, the requester
downloads once.

The request is a row of the mission the researcher asks from and covers missions of the researcher's scope for
requests (``ctx.missions_with``). HQ sees the requests of every mission of its scope for approvals whose
missions all lie in that scope, read mission by mission, and decides only on such a request (any other is not
found), never on its own (even holding both permissions). The approval runs the export once without keeping
it, so that HQ and the requester see what would be generalised or suppressed, and an export that cannot reach
k short of suppressing everything is said so and cannot be approved. The download makes the file from the
cases as they are then (a consent withdrawn since is honoured), claims the request with a conditional update
(``approved`` to ``downloaded``), so that of two downloads one only succeeds, and keeps no copy: the report
alone stays. Each mission whose cases an export reads records it in its own audit trail.

An export holds only cases with the ``Research`` consent in force (given, not withdrawn), whose person is a
possible or actual victim, opened in the request's years; its rows are :mod:`ctm_plugin.research.ctdc`'s, one per
person (:func:`one_per_person`: cases joined by a hand-over or by HQ's confirmed re-trafficking match are one
person's), so that k rows are k people. The researcher reads the approval's report without its counts, then the
file's with its counts below k banded (:func:`for_requester`); HQ, who approves, reads them exact. An export is
made beside every approved one that overlaps it (missions and years), which HQ sees listed with the request (a
downloaded one as its file released its people), and is refused when the two differ by 1 to k - 1 people
(:class:`TooCloseToEarlier`); it keeps each quasi-identifier no finer than they did. The requester is known by
the host's user id, which a renaming does not change.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import io
import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.research import APPROVED, DECLINED, DOWNLOADED, REQUESTED, ReleasedCase, ResearchExport
from ctm_plugin.domain.retrafficking import CONFIRMED, Linked, RetraffickingMatch
from ctm_plugin.domain.scope import hq_reader
from ctm_plugin.i18n import N_
from ctm_plugin.research import ctdc, small_cell_k
from ctm_plugin.research.kanonymity import QUASI_IDENTIFIERS, CannotAnonymise, Report, anonymise
from ctm_plugin.schemas.research import APPROVE, ExportDecisionSchema, ExportRequestSchema
from ctm_plugin.security import audit, crypto
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


TOO_CLOSE = N_(
    "This export and an approved export of the same missions over overlapping years would differ by fewer than "
    "k people: side by side, the two files would single those people out. Nothing was produced; ask for the "
    "same missions and years as the earlier export, or for ones that differ by more."
)


class TooCloseToEarlier(Invalid):
    """The export set beside an approved one that overlaps it isolates fewer than k people (names ``decision``)."""

    def __init__(self) -> None:
        super().__init__({"decision": [TOO_CLOSE]})


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


class RequestAgain(Conflict):
    """A request from before ctm0026 knows its requester by a username only, which another user may hold since a
    renaming: it is never downloaded."""

    message = N_(
        "This request was made before requesters were known by their account rather than their username: it cannot "
        "be downloaded. Request a new export."
    )


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


def case_facts(session: Session, year_from: int, year_to: int) -> Iterator[tuple[int, ctdc.CaseFacts]]:
    """The facts of the mission's cases an export may hold (the session's mission), by case id: the ``Research``
    consent in force (:func:`.assistance.in_force`, for every case at once), a possible or actual victim, opened
    in the years. Only :data:`ctdc.FACT_FIELDS` are read."""
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
        yield (
            r.id,
            ctdc.CaseFacts(
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
            ),
        )


@dataclass(frozen=True)
class Export:
    columns: tuple[str, ...]
    rows: list[list[str]]
    report: Report
    kept: list[int]
    """Positions of the facts given to :func:`build` that are rows, in order."""


def build(
    layout: str, facts: Sequence[ctdc.CaseFacts], k: int | None = None, floor: Sequence[int] | None = None
) -> Export:
    """The export's rows from the facts of its people (one case each, :func:`one_per_person`): k-anonymous on the
    quasi-identifiers, an HTCDS code fewer than k of its people hold left out (:func:`ctdc.rare_codes`);
    :class:`CannotAnonymise` when only suppressing everything would do. Every cell is neutralised for
    spreadsheets; a row's head (its class) and tail (its codes) are made once for all the rows that share them,
    since cases cluster. ``floor``: each quasi-identifier's level at least (:func:`_floor`)."""
    k = small_cell_k() if k is None else k
    quasi = [ctdc.quasi_identifiers(layout, f) for f in facts]
    done = anonymise(quasi, QUASI_IDENTIFIERS, k, floor=floor)
    rare = ctdc.rare_codes(layout, (facts[i] for i in done.kept), k)
    heads: dict[tuple[Any, ...], list[str]] = {}
    tails: dict[tuple[Any, ...], list[str]] = {}
    rows = []
    for i, values in zip(done.kept, done.values, strict=True):
        case, key = facts[i], ctdc.tail_key(facts[i])
        if values not in heads:
            heads[values] = [neutral(cell) for cell in ctdc.head(layout, values)]
        if key not in tails:
            tails[key] = [neutral(cell) for cell in ctdc.tail(layout, case, rare)]
        rows.append(heads[values] + tails[key])
    return Export(ctdc.COLUMNS[layout], rows, done.report, done.kept)


def as_csv(export: Export) -> str:
    """The export as CSV (its cells neutralised already, by :func:`build`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(export.columns)
    writer.writerows(export.rows)
    return out.getvalue()


def report_data(report: Report, same_person: int = 0) -> dict[str, Any]:
    """The report as stored, exact: what HQ sees (:func:`for_requester` bands it for the researcher).
    ``same_person``: the cases left out as another case of a person the export holds."""
    return {
        "k": report.k,
        "rows_in": report.rows_in,
        "rows_out": report.rows_out,
        "rows_suppressed": report.rows_suppressed,
        "same_person": same_person,
        "classes": report.classes,
        "smallest_class": report.smallest_class,
        "levels": [{"name": lv.name, "level": lv.level, "level_name": lv.level_name} for lv in report.levels],
    }


def for_requester(report: dict[str, Any] | None, status: str) -> dict[str, Any] | None:
    """The stored report as the researcher reads it. Before the download (the approval's report), only what the
    file will generalise: its counts are HQ's, since the file's own, made later, would differ from them by the
    consents withdrawn or the cases added in between, a few people. After it (the file's report): a count
    between 1 and k - 1 of what the file does not show (the rows suppressed, the cases left out as the same
    person's) as ``<k``, and the people read, which with the rows exported would give the suppressed count away,
    as a range then. The rows, the groups and the smallest one are in the file itself: exact."""
    if report is None:
        return None
    if status != DOWNLOADED:
        return {"k": report["k"], "levels": report["levels"]}
    k = report["k"]

    def banded(n: int) -> int | str:
        return f"<{k}" if 0 < n < k else n

    shown = {**report, "rows_suppressed": banded(report["rows_suppressed"])}
    shown["same_person"] = banded(report.get("same_person", 0))
    if 0 < report["rows_suppressed"] < k:
        shown["rows_in"] = f"{report['rows_out'] + 1}–{report['rows_out'] + k - 1}"
    return shown


# -- one row per person -------------------------------------------------------------------------------------------

Ref = tuple[str, int]
"""A case by its mission and id."""


@dataclass(frozen=True)
class ReadCase:
    ref: Ref
    received: bool
    """Opened by accepting a hand-over: the person identified in another mission first."""
    facts: ctdc.CaseFacts


def one_per_person(cases: Iterable[ReadCase], linked: Linked) -> tuple[list[ReadCase], int]:
    """One case of each person (``linked``: the cases joined by hand-overs and by HQ's confirmed re-trafficking
    matches are one person's) and how many were left out. The one kept is the person's first identification
    among ``cases``: the earliest opened, a case received by hand-over after the one that sent it on the same
    day (a received case is no new identification), then by mission and id. So k rows are k people."""
    first: dict[Ref, ReadCase] = {}
    n = 0
    for case in cases:
        n += 1
        person = linked.root(case.ref)
        if person not in first or _order(case) < _order(first[person]):
            first[person] = case
    kept = sorted(first.values(), key=lambda c: c.ref)
    return kept, n - len(kept)


def _order(case: ReadCase) -> tuple[Any, ...]:
    return (case.facts.opened_on, case.received, case.ref)


def _confirmed(ctx: RequestContext, permission: str) -> Iterator[tuple[Ref, Ref]]:
    """Every one of HQ's confirmed re-trafficking matches, as pairs of cases (no more is read of them), through a
    reader of HQ's rows that writes nothing: those between an export's missions and others too, since a person
    found in a mission the export does not cover (A ~ X, X ~ B) still joins two of its cases."""
    query = sa.select(
        RetraffickingMatch.earlier_mission,
        RetraffickingMatch.earlier_case_id,
        RetraffickingMatch.later_mission,
        RetraffickingMatch.later_case_id,
    ).where(RetraffickingMatch.status == CONFIRMED)
    with hq_reader(ctx, permission) as hq:
        for earlier_mission, earlier_id, later_mission, later_id in hq.execute(query):
            yield (earlier_mission, earlier_id), (later_mission, later_id)


# -- exports side by side -----------------------------------------------------------------------------------------

RELEASED = (APPROVED, DOWNLOADED)


def overlaps(a: ResearchExport, b: ResearchExport) -> bool:
    """Whether two exports share a mission and a year: set side by side, their difference is a few people."""
    return bool(set(a.missions) & set(b.missions)) and a.year_from <= b.year_to and b.year_from <= a.year_to


def _same(a: ResearchExport, b: ResearchExport) -> bool:
    return (a.mission_code, a.id) == (b.mission_code, b.id)


@dataclass(frozen=True)
class Earlier:
    export: ResearchExport
    released: list[set[str]] | None
    """The people of its file as downloaded, each as the indexes of their cases (:class:`ReleasedCase`); ``None``
    for one not downloaded yet, or downloaded before ctm0032: made again from the cases as they are now."""


def _released(ctx: RequestContext, request: ResearchExport, scope: Collection[str]) -> list[Earlier]:
    """The approved or downloaded exports of any requester that overlap ``request``, read in each mission of
    ``scope`` (where requests are filed), whose missions all lie in it (the others cannot be read again), each with
    the people its file released."""
    found = []
    for code in sorted(scope):
        with unit_of_work(ctx.in_mission(code)) as session:
            for other in session.scalars(sa.select(ResearchExport).where(ResearchExport.status.in_(RELEASED))):
                if not _same(other, request) and overlaps(other, request) and set(other.missions) <= set(scope):
                    people: dict[int, set[str]] = {}
                    for person, index in session.execute(
                        sa.select(ReleasedCase.person, ReleasedCase.case_index).where(
                            ReleasedCase.export_id == other.id
                        )
                    ):
                        people.setdefault(person, set()).add(index)
                    found.append(Earlier(other, list(people.values()) or None))
            session.expunge_all()
    return found


_HANDED_OVER = sa.select(
    Handover.from_mission, Handover.case_id, Handover.to_mission, Handover.receiving_case_id
).where(Handover.receiving_case_id.is_not(None))
"""The accepted hand-overs a mission's session sees (sent or received): the sending and the receiving case."""

CASE_INDEX = "research_export_case"
"""The purpose of the keyed indexes of a released export's cases (:class:`ReleasedCase`)."""


def _case_key(ref: Ref) -> str:
    return f"{ref[0]}:{ref[1]}"


@dataclass(frozen=True)
class Made:
    export: Export
    left_out: int
    """The cases left out as another case of a person the export holds."""
    people: list[list[Ref]]
    """The cases read of each person the file holds (its row's and the others of the same person)."""


def _floor(earlier: Iterable[ResearchExport]) -> list[int]:
    """Each quasi-identifier's level at least: the coarsest any of ``earlier`` (released exports the new one
    overlaps) was generalised to, as its report says (the file's after the download, the approval's before)."""
    least = dict.fromkeys((h.name for h in QUASI_IDENTIFIERS), 0)
    for export in earlier:
        for level in (export.report or {}).get("levels", ()):
            if level["name"] in least:
                least[level["name"]] = max(least[level["name"]], level["level"])
    return list(least.values())


def _apart(mine: list[set[str]], theirs: list[set[str]]) -> tuple[int, int]:
    """How many people of each of two files the other does not hold, each person as a set of case indexes (a
    person of one is in the other when one of their cases is)."""
    all_mine, all_theirs = set().union(*mine), set().union(*theirs)
    return sum(1 for p in mine if not p & all_theirs), sum(1 for p in theirs if not p & all_mine)


def _read(ctx: RequestContext, request: ResearchExport, permission: str) -> Made:
    """Read the request's missions, each through the user's context there (holding ``permission``), each
    audited there, with the hand-overs and HQ's confirmed matches that make two cases one person; build the
    export of one case per person (and say how many cases were left out), or raise :class:`CannotReachK`; or
    :class:`TooCloseToEarlier` when its people and those of an approved export that overlaps it differ by 1 to
    k - 1 people, whom the two files side by side would single out: the people the earlier file released when
    it was downloaded (:class:`ReleasedCase`), else the export made again now. Each quasi-identifier is kept no
    finer than any of those earlier exports kept it (:func:`_floor`): never refused for it, only coarser."""
    scope = {m.code for m in ctx.missions_with(permission)}
    if not set(request.missions) <= scope:
        raise NotFound
    earlier = _released(ctx, request, scope)
    exports = [request, *(e.export for e in earlier)]
    missions = sorted({code for e in exports for code in e.missions})
    year_from, year_to = min(e.year_from for e in exports), max(e.year_to for e in exports)
    cases: list[ReadCase] = []
    linked = Linked()
    for code in missions:
        mctx = ctx.in_mission(code)
        with unit_of_work(mctx) as session:
            received = set()
            for sender, sent, receiver, opened in session.execute(_HANDED_OVER):
                assert opened is not None  # the query's condition
                linked.join((sender, sent), (receiver, opened))
                if receiver == code:
                    received.add(opened)
            for case_id, facts in case_facts(session, year_from, year_to):
                cases.append(ReadCase((code, case_id), case_id in received, facts))
            audit.record(session, mctx, "research.export.read", None, [FIELD_GROUP])
    for a, b in _confirmed(ctx, permission):
        linked.join(a, b)
    of_person: dict[Ref, list[Ref]] = {}
    for case in cases:
        of_person.setdefault(linked.root(case.ref), []).append(case.ref)

    def made(export: ResearchExport, floor: Sequence[int] | None = None) -> Made:
        held = [
            c
            for c in cases
            if c.ref[0] in export.missions and export.year_from <= c.facts.opened_on.year <= export.year_to
        ]
        people, left_out = one_per_person(held, linked)
        built = build(export.layout, [c.facts for c in people], floor=floor)
        return Made(built, left_out, [of_person[linked.root(people[i].ref)] for i in built.kept])

    try:
        mine = made(request, _floor(e.export for e in earlier))
    except CannotAnonymise as cannot:
        raise CannotReachK(cannot.k) from None
    index = crypto.blind_indexer(CASE_INDEX)  # under every index key: a rotation may have come in between

    def indexed(people: list[list[Ref]]) -> list[set[str]]:
        return [{i for ref in person for i in index(_case_key(ref))} for person in people]

    mine_indexed = indexed(mine.people)
    for other in earlier:
        theirs = other.released
        if theirs is None:
            try:
                theirs = indexed(made(other.export).people)
            except CannotAnonymise:
                continue  # no rows of it could be made now: nothing to set beside
        if any(0 < n < mine.export.report.k for n in _apart(mine_indexed, theirs)):
            raise TooCloseToEarlier
    return mine


def _keep_released(session: Session, request: ResearchExport, made: Made) -> None:
    """The people of the file downloaded, as the indexes of their cases under HQ's current index key."""
    for person, refs in enumerate(made.people):
        for ref in refs:
            index = crypto.blind_index(_case_key(ref), CASE_INDEX)
            session.add(
                ReleasedCase(mission_code=request.mission_code, export_id=request.id, person=person, case_index=index)
            )


# -- the researcher's side --------------------------------------------------------------------------------------


def request_scope(ctx: RequestContext) -> tuple[MissionRef, ...]:
    require(ctx, RESEARCH_REQUEST)
    return ctx.missions_with(RESEARCH_REQUEST)


def request_export(ctx: RequestContext, data: dict[str, Any]) -> int:
    """A researcher's request; bad input saves nothing (:class:`Invalid` naming the field)."""
    allowed = tuple(m.code for m in request_scope(ctx))
    values = load(ExportRequestSchema(allowed_missions=allowed), data)
    with unit_of_work(ctx) as session:
        export = ResearchExport(
            mission_code=ctx.mission.code,
            requested_by=actor(ctx),
            requested_by_id=ctx.user.id if ctx.user else None,
            status=REQUESTED,
            **values,
        )
        session.add(export)
        session.flush()
        audit.record(session, ctx, "research.export.request", None, [FIELD_GROUP])
        return export.id


def _requested_by(ctx: RequestContext) -> sa.ColumnElement[bool]:
    """The requests of ``ctx``'s user: by their host user id; one from before ctm0026 (no id) by username, listed
    so that they see it, never downloaded (:class:`RequestAgain`)."""
    by_name = sa.and_(ResearchExport.requested_by_id.is_(None), ResearchExport.requested_by == actor(ctx))
    if ctx.user is None:
        return by_name
    return sa.or_(ResearchExport.requested_by_id == ctx.user.id, by_name)


def is_requester(ctx: RequestContext, request: ResearchExport) -> bool:
    """Whether ``ctx``'s user asked for ``request`` (as :func:`_requested_by`): a renamed user still did."""
    if request.requested_by_id is not None:
        return ctx.user is not None and ctx.user.id == request.requested_by_id
    return request.requested_by == actor(ctx)


@dataclass(frozen=True)
class MyExport:
    export: ResearchExport
    report: dict[str, Any] | None
    """The report as the requester reads it (:func:`for_requester`)."""


def my_exports(ctx: RequestContext) -> list[MyExport]:
    """The requester's own requests in this mission, newest first, each with its report banded for them."""
    require(ctx, RESEARCH_REQUEST)
    with unit_of_work(ctx) as session:
        rows = list(
            session.scalars(
                sa.select(ResearchExport)
                .where(_requested_by(ctx))
                .order_by(ResearchExport.requested_at.desc(), ResearchExport.id.desc())
            )
        )
        session.expunge_all()
        return [MyExport(row, for_requester(row.report, row.status)) for row in rows]


def download(ctx: RequestContext, export_id: int) -> tuple[str, str]:
    """The approved export, once, as (file name, CSV text). The request moves to ``downloaded`` in the same
    transaction as the reading, under its version: of two downloads at once, the second to commit is refused
    (:class:`AlreadyDownloaded`), as is any later one. An export that no longer reaches k (consents withdrawn
    since the approval) says so, produces nothing, and stays approved; so does one from before ctm0026
    (:class:`RequestAgain`)."""
    require(ctx, RESEARCH_REQUEST)
    with _once(AlreadyDownloaded), unit_of_work(ctx) as session:
        request = session.get(ResearchExport, export_id)
        if request is None or not is_requester(ctx, request):
            raise NotFound
        if request.status == DOWNLOADED:
            raise AlreadyDownloaded
        if request.status != APPROVED:
            raise NotApproved
        if request.requested_by_id is None:
            raise RequestAgain
        request.status, request.downloaded_at = DOWNLOADED, utcnow()
        session.flush()  # the claim: a concurrent download waits here, then finds the version moved on
        made = _read(ctx, request, RESEARCH_REQUEST)
        request.report = report_data(made.export.report, made.left_out)
        _keep_released(session, request, made)
        audit.record(session, ctx, "research.export.download", None, [FIELD_GROUP])
        name = f"{request.layout.lower()}-export-{request.mission_code}-{request.id}.csv"
        return name, as_csv(made.export)


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
    own: bool = False
    """The approver's own request: another approver decides on it."""
    overlapping: tuple[ResearchExport, ...] = ()
    """The approved or downloaded exports (of any requester) sharing a mission and a year with a pending one:
    HQ weighs what the two files tell side by side."""


def hq_requests(ctx: RequestContext) -> list[HqExport]:
    """The requests of every mission of HQ's scope for approvals whose missions all lie in that scope (HQ
    decides on no other), pending first, oldest first; a pending one with the released exports it overlaps."""
    require(ctx, RESEARCH_APPROVE)
    scope = ctx.missions_with(RESEARCH_APPROVE)
    codes = {mission.code for mission in scope}
    found: list[HqExport] = []
    for mission in scope:
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            for export in session.scalars(sa.select(ResearchExport)):
                if set(export.missions) <= codes:
                    found.append(HqExport(mission, export, is_requester(ctx, export)))
            audit.record(session, mctx, "research.exports.view", None, [FIELD_GROUP])
            session.flush()  # the audit event written before the rows leave the session for the page
            session.expunge_all()
    released = [h.export for h in found if h.export.status in RELEASED]
    found = [
        dataclasses.replace(h, overlapping=tuple(e for e in released if overlaps(e, h.export)))
        if h.export.status == REQUESTED
        else h
        for h in found
    ]
    return sorted(found, key=lambda h: (h.export.status != REQUESTED, h.export.requested_at, h.mission.code))


def decide(ctx: RequestContext, mission_code: str, export_id: int, data: dict[str, Any]) -> str:
    """HQ's approval or refusal (with a reason) of a request whose missions all lie in its scope (any other is
    :class:`NotFound`, as on its list); never of its own request. An approval first runs the export without
    keeping it: one that cannot reach k, or that an approved export overlapping it would single people out
    beside, is refused (:class:`CannotReachK`, :class:`TooCloseToEarlier`: nothing saved), else its report is
    kept for the requester to see. Returns the new status."""
    require(ctx, RESEARCH_APPROVE)
    scope = {m.code for m in ctx.missions_with(RESEARCH_APPROVE)}
    if mission_code not in scope:
        raise NotFound
    values = load(ExportDecisionSchema(), data)
    mctx = ctx.in_mission(mission_code)
    with _once(AlreadyDecided), unit_of_work(mctx) as session:
        request = session.get(ResearchExport, export_id)
        if request is None or not set(request.missions) <= scope:
            raise NotFound
        if is_requester(ctx, request):
            raise OwnRequest
        if request.status != REQUESTED:
            raise AlreadyDecided
        status = APPROVED if values["decision"] == APPROVE else DECLINED
        if status == APPROVED:
            made = _read(ctx, request, RESEARCH_APPROVE)
            request.report = report_data(made.export.report, made.left_out)
        else:
            request.report = None
        request.status, request.decided_by, request.decided_at = status, actor(ctx), utcnow()
        request.decision_reason = values.get("reason")
        audit.record(session, mctx, f"research.export.{status}", None, [FIELD_GROUP])
        return status
