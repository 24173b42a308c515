"""Re-trafficking: the plugin-wide matching job, HQ's review of its matches, and the earlier mission's flag.

The job (``Job.plugin_wide``, host 1.3) reads every mission where the CTM is enabled through that mission's own
session (``ctx.in_mission``), compares the people of their cases in this process, and writes HQ's rows only
(:class:`RetraffickingMatch`, through an HQ session). What it opens of a person (the sealed names) stays in the
process: it is never logged and never stored in a match.

Cases joined by a hand-over are one person's two cases by design: never a match. A match found again is not added
again; a dismissed one is not raised again.

The earlier mission sees a flag on its case only once HQ confirmed the match (an open one may be two people
alike: HQ alone sees it) and while the later case's consent to a hand-over to another mission (``HandOver``) is
in force: it is the purpose under which the person agreed that another mission learns of them; no other purpose
covers telling a mission where the person is now.

Each run keeps HQ's rows true to what it reads: an open match whose pair it no longer finds (a case corrected, a
document changed, a case purged) is deleted (no one decided anything on it); a confirmed or dismissed one is
HQ's record and stays, no longer shared with the earlier mission unless the later case is still read with its
consent in force. The job reads each mission under its own audit: one event a mission read, no name in it.
Its context is narrowed to what it needs (:data:`JOB_PERMISSIONS`, :data:`JOB_WRITES`, host 1.4).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import combinations
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.audit import AuditChainHead, AuditEvent
from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.retrafficking import (
    FLAGS,
    OPEN,
    Identity,
    Linked,
    RetraffickingMatch,
    evidence,
    normalised_name,
)
from ctm_plugin.domain.scope import hq_session
from ctm_plugin.domain.sealed import Unreadable
from ctm_plugin.schemas.retrafficking import MatchDecisionSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_VIEW, RETRAFFICKING_REVIEW
from mimosa_host.plugin_api import MissionRef, RequestContext

from .assistance import in_force
from .base import Conflict, NotFound, load, require, unit_of_work

log = logging.getLogger(__name__)

DAY = "Day"
"""The only birth dates the fuzzy rule compares: known to the day. One known to the month or year only is stored
as its first day, says little, and would put thousands of people in one block to compare."""
SHARING_PURPOSE = "HandOver"
"""The consent purpose under which the earlier mission learns of the later case (see the module's docstring)."""
FIELD_GROUP = "retrafficking"


# -- the job -----------------------------------------------------------------------------------------------------


JOB_PERMISSIONS = frozenset({CASE_VIEW, RETRAFFICKING_REVIEW})
"""All the job holds (``Job.permissions``): reading the missions' cases, writing HQ's matches."""
JOB_WRITES = frozenset({RetraffickingMatch.__tablename__})
"""The one table the job writes for no mission (``Job.writes``)."""
JOB_MISSION_WRITES = frozenset({AuditEvent.__tablename__, AuditChainHead.__tablename__})
"""What it writes in a mission (``Job.mission_writes``): its audit of the read, chained (the event's place in the
mission's chain, and the chain's head), nothing else."""


def match(ctx: RequestContext) -> int:
    """The plugin-wide job: every mission's people compared, the new matches written for HQ, the ones no longer
    found cleared; returns how many are new."""
    people: list[Identity] = []
    linked = Linked()
    for mission in ctx.missions_with(CASE_VIEW):
        there = ctx.in_mission(mission.code)
        with unit_of_work(there) as session:
            people.extend(_identities(session, mission.code))
            for handover in session.scalars(sa.select(Handover).where(Handover.receiving_case_id.is_not(None))):
                receiving = handover.receiving_case_id
                assert receiving is not None
                linked.join((handover.from_mission, handover.case_id), (handover.to_mission, receiving))
            audit.record(session, there, "retrafficking.match.read", None, [FIELD_GROUP])
    sharing = {person.ref for person in people if person.shares}
    added = 0
    with hq_session(ctx, RETRAFFICKING_REVIEW) as hq, hq.begin():
        known = {_key_of(row): row for row in hq.scalars(sa.select(RetraffickingMatch))}
        found_again: set[tuple[str, int, str, int]] = set()
        for a, b in _candidates(people):
            if a.ref == b.ref or linked.same(a.ref, b.ref):
                continue
            found = evidence(a, b)
            if found is None:
                continue
            earlier, later = sorted((a, b), key=lambda p: (p.opened_on, p.mission, p.case_id))
            key = (earlier.mission, earlier.case_id, later.mission, later.case_id)
            found_again.add(key)
            row = known.get(key)
            if row is None:
                row = RetraffickingMatch(
                    earlier_mission=earlier.mission,
                    earlier_case_id=earlier.case_id,
                    earlier_case_number=earlier.case_number,
                    earlier_opened_on=earlier.opened_on,
                    later_mission=later.mission,
                    later_case_id=later.case_id,
                    later_case_number=later.case_number,
                    later_opened_on=later.opened_on,
                    evidence=found.kind,
                    score=found.score,
                    explanation=",".join(found.codes),
                    shared_with_earlier=later.shares,
                    status=OPEN,
                )
                hq.add(row)
                known[key] = row
                added += 1
        for key, row in known.items():
            if key not in found_again and row.status == OPEN:
                hq.delete(row)  # the pair is no longer found: nothing of it was decided, nothing of it stays
                continue
            shares = (row.later_mission, row.later_case_id) in sharing
            if row.shared_with_earlier != shares:
                row.shared_with_earlier = shares  # a consent given or withdrawn since, or the case gone: it follows
    # Counts only: never a name, a case or a mission's person.
    log.info("re-trafficking matching: %d people compared, %d new matches", len(people), added)
    return added


def _key_of(row: RetraffickingMatch) -> tuple[str, int, str, int]:
    return (row.earlier_mission, row.earlier_case_id, row.later_mission, row.later_case_id)


def _identities(session: Session, mission_code: str) -> list[Identity]:
    """The mission's cases' people as the job compares them (in this process only)."""
    documents: dict[int, set[str]] = defaultdict(set)
    for case_id, index in session.execute(
        sa.select(ReturnPreparation.case_id, ReturnPreparation.document_number_index).where(
            ReturnPreparation.document_number_index.is_not(None)
        )
    ):
        if index:
            documents[case_id].add(index)
    sharing = set(session.scalars(sa.select(Consent.case_id).where(in_force(SHARING_PURPOSE))))
    found = []
    for case in session.scalars(sa.select(Case).options(sa.orm.selectinload(Case.person))):
        person: PersonProfile | None = case.person
        name = person.name if person is not None else None
        found.append(
            Identity(
                mission=mission_code,
                case_id=case.id,
                case_number=case.case_number,
                opened_on=case.opened_on,
                documents=frozenset(documents.get(case.id, ())),
                name=normalised_name(name) if name and not isinstance(name, Unreadable) else "",
                birth_date=person.birth_date if person is not None and person.birth_date_precision == DAY else None,
                citizenships=frozenset(person.citizenships or ()) if person is not None else frozenset(),
                shares=case.id in sharing,
            )
        )
    return found


def _candidates(people: list[Identity]) -> Iterator[tuple[Identity, Identity]]:
    """The pairs worth comparing, each once: those sharing a document, or a birth date (as it is, or with day
    and month swapped) and a citizenship: the fuzzy rule needs both, and the name is compared only within such a
    block, however it is spelled. Never every pair of every mission: a block is the people of one birth date and
    one citizenship."""
    blocks: dict[tuple[str, object, str], list[Identity]] = defaultdict(list)
    for person in people:
        for document in person.documents:
            blocks[("document", document, "")].append(person)
        if person.birth_date is not None and person.name:
            born = person.birth_date
            dates = {born}
            if born.day <= 12:
                dates.add(date(born.year, born.day, born.month))
            for day in dates:
                for citizenship in person.citizenships:
                    blocks[("born", day, citizenship)].append(person)
    seen: set[tuple[tuple[str, int], tuple[str, int]]] = set()
    for block in blocks.values():
        for a, b in combinations(block, 2):
            pair = (min(a.ref, b.ref), max(a.ref, b.ref))
            if pair not in seen:
                seen.add(pair)
                yield a, b


def forget_case(ctx: RequestContext, case_id: int) -> None:
    """Retention purges ``ctx.mission``'s case (or erases its person around the money): every match naming it
    goes too, open or decided, so that nothing of HQ's links another case to the person purged. In an HQ session
    joining the purge's transaction (one commit, or none)."""
    code = ctx.mission.code
    with hq_session(ctx, RETRAFFICKING_REVIEW) as hq, hq.begin():
        for row in hq.scalars(
            sa.select(RetraffickingMatch).where(
                sa.or_(
                    sa.and_(RetraffickingMatch.earlier_mission == code, RetraffickingMatch.earlier_case_id == case_id),
                    sa.and_(RetraffickingMatch.later_mission == code, RetraffickingMatch.later_case_id == case_id),
                )
            )
        ):
            hq.delete(row)


# -- HQ's review -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenMatch:
    id: int
    earlier: MissionRef
    earlier_case_number: str
    earlier_opened_on: date
    later: MissionRef
    later_case_number: str
    later_opened_on: date
    evidence: str
    score: Any
    codes: list[str]
    shared_with_earlier: bool
    status: str
    found_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    version: int


def hq_missions(ctx: RequestContext) -> dict[str, MissionRef]:
    """HQ's scope for the matches: the missions where the user reviews them; a match shows when both of its
    missions are in it (it names a case of each)."""
    require(ctx, RETRAFFICKING_REVIEW)
    return {mission.code: mission for mission in ctx.missions_with(RETRAFFICKING_REVIEW)}


def _in_scope(missions: Iterable[str]) -> sa.ColumnElement[bool]:
    codes = sorted(missions)
    return sa.and_(RetraffickingMatch.earlier_mission.in_(codes), RetraffickingMatch.later_mission.in_(codes))


def _seen(row: RetraffickingMatch, missions: dict[str, MissionRef]) -> SeenMatch:
    return SeenMatch(
        id=row.id,
        earlier=missions[row.earlier_mission],
        earlier_case_number=row.earlier_case_number,
        earlier_opened_on=row.earlier_opened_on,
        later=missions[row.later_mission],
        later_case_number=row.later_case_number,
        later_opened_on=row.later_opened_on,
        evidence=row.evidence,
        score=row.score,
        codes=row.codes,
        shared_with_earlier=row.shared_with_earlier,
        status=row.status,
        found_at=row.found_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        version=row.version,
    )


def hq_matches(ctx: RequestContext, status: str | None = None) -> list[SeenMatch]:
    """The matches of HQ's scope (of one status, if given), open ones first then newest; the view is audited in
    the mission HQ acts from."""
    missions = hq_missions(ctx)
    with hq_session(ctx, RETRAFFICKING_REVIEW) as hq:
        query = sa.select(RetraffickingMatch).where(_in_scope(missions))
        if status is not None:
            query = query.where(RetraffickingMatch.status == status)
        rows = hq.scalars(query.order_by(RetraffickingMatch.found_at.desc(), RetraffickingMatch.id.desc())).all()
        seen = [_seen(row, missions) for row in rows]
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "retrafficking.view", None, [FIELD_GROUP])
    return sorted(seen, key=lambda m: m.status != OPEN)


def decide(ctx: RequestContext, match_id: int, data: dict[str, Any]) -> None:
    """HQ confirms or dismisses an open match, with its reason; audited in the mission HQ acts from, in the same
    transaction (nothing half-saved). A match decided meanwhile is a :class:`Conflict`."""
    missions = hq_missions(ctx)
    values = load(MatchDecisionSchema(), data)
    try:
        with hq_session(ctx, RETRAFFICKING_REVIEW) as hq, hq.begin():
            row = hq.scalar(sa.select(RetraffickingMatch).where(RetraffickingMatch.id == match_id, _in_scope(missions)))
            if row is None:
                raise NotFound
            if row.version != values["version"] or row.status != OPEN:
                raise Conflict
            record_decision(ctx, row, values["decision"], values["reason"])
    except StaleDataError:
        raise Conflict from None


def record_decision(ctx: RequestContext, row: RetraffickingMatch, decision: str, reason: str) -> None:
    """``row`` (open, read in an HQ session whose transaction is open) decided by ``ctx``'s user, audited in the
    mission HQ acts from, in the same transaction."""
    row.status, row.reason = decision, reason
    row.decided_by, row.decided_at, row.decided_in = actor(ctx), utcnow(), ctx.mission.code
    with unit_of_work(ctx) as session:  # joins HQ's transaction on the request's connection
        audit.record(session, ctx, f"retrafficking.{decision}", None, [FIELD_GROUP])


# -- the earlier mission's flag ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """What the earlier mission learns: that the person was identified again, where, when; no later case."""

    later_mission: str
    later_opened_on: date
    status: str


def flags_for_case(session: Session, ctx: RequestContext, case_id: int) -> list[Flag]:
    """The matches naming this mission's case as the earlier one, confirmed by HQ, whose later case's consent lets
    it be known here, read in the mission's own ``session`` through the flags' view (:data:`FLAGS`: their three
    columns, nothing else of HQ's rows, ctm0031); audited on the case, in that session's transaction, when there
    is one."""
    require(ctx, CASE_VIEW)
    rows = session.execute(
        sa.select(FLAGS.c.later_mission, FLAGS.c.later_opened_on, FLAGS.c.status)
        .where(FLAGS.c.earlier_mission == ctx.mission.code, FLAGS.c.earlier_case_id == case_id)
        .order_by(FLAGS.c.id)
    ).all()
    flags = [Flag(*row) for row in rows]
    if flags:
        audit.record(session, ctx, "retrafficking.flag.view", case_id, [FIELD_GROUP])
    return flags


RUN_EVERY = timedelta(hours=1)
"""How often the job compares everyone: a person identified again is usually screened over days, not minutes."""
