"""Intelligence for analysts (``ctm.intelligence.view``, the intelligence analyst's only): the perpetrators, places,
routes and recruitment methods that link cases, the network of the most connected, and a case's referral package
for law enforcement.

The scope is the missions where the user holds the permission (``ctx.missions_with``): a mission's analyst sees
their mission, an analyst of several missions the links across them. Each mission is read through its own
session (``ctx.in_mission``), never through an unscoped query, and each read is in that mission's audit trail;
the cases are joined here, in this process (domain/intelligence.py). The perpetrators' aliases are opened for these
pages only and never logged.

The referral package goes out only while the case's consent to sharing with law enforcement (``LawEnforcement``)
is in force; without it, it is refused with the reason, and nothing is produced. Producing it is audited on the
case. Sending it to a partner is not here (partners come with their own issue): it is printed or downloaded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain import intelligence as links
from ctm_plugin.domain.case import Case, VictimContext
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.sealed import Unreadable
from ctm_plugin.i18n import N_
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import CASE_VIEW, INTELLIGENCE_VIEW
from mimosa_host.plugin_api import MissionRef, RequestContext

from .assistance import consent_in_force
from .base import get_case, require, unit_of_work

FIELD_GROUP = "intelligence"
LAW_ENFORCEMENT = "LawEnforcement"
"""The consent purpose under which a case's facts may go to law enforcement (codelists/process.py)."""
VIEWS = {"links": "intelligence.view", "network": "intelligence.network.view"}


class NoConsent(Exception):
    """The case's consent to sharing with law enforcement is not in force: no package."""

    message = N_(
        "No referral package: the person's consent to sharing with law enforcement is not in force for this case. "
        "Record it on the Consent tab first, if the person gives it."
    )


@dataclass(frozen=True)
class Intelligence:
    missions: tuple[MissionRef, ...]
    """The user's scope, read mission by mission."""
    case_count: int
    shared: list[links.Entity]
    """The entities two or more cases share, the most connected first."""
    case_tabs: frozenset[str]
    """The missions where the user may open a case's tab (``ctm.case.view``)."""


def scope(ctx: RequestContext) -> tuple[MissionRef, ...]:
    """The missions whose cases the user links; :class:`NotFound` without the permission here."""
    require(ctx, INTELLIGENCE_VIEW)
    return ctx.missions_with(INTELLIGENCE_VIEW)


def read(ctx: RequestContext, view: str = "links") -> Intelligence:
    """Every mission of the user's scope read in its own session and audited there (``view``: which page), the
    cases then linked here."""
    missions = scope(ctx)
    facts: list[links.CaseFacts] = []
    case_tabs = set()
    for mission in missions:
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            facts.extend(mission_facts(session, mission.code))
            audit.record(session, mctx, VIEWS[view], None, [FIELD_GROUP])
        if mctx.can(CASE_VIEW):
            case_tabs.add(mission.code)
    return Intelligence(missions, len(facts), links.linking(links.entities(facts)), frozenset(case_tabs))


def mission_facts(session: Session, mission_code: str, only: int | None = None) -> list[links.CaseFacts]:
    """What links the mission's cases (or only one case's), in four statements however many cases (the session is the
    mission's)."""

    def of(column: sa.orm.InstrumentedAttribute[int]) -> sa.ColumnElement[bool]:
        return sa.true() if only is None else column == only

    cases = {
        row.id: links.CaseRef(mission_code, row.id, row.case_number, row.beneficiary_id)
        for row in session.execute(sa.select(Case.id, Case.case_number, Case.beneficiary_id).where(of(Case.id)))
    }
    perpetrators: dict[int, list[links.PerpetratorFacts]] = defaultdict(list)
    for perpetrator in session.scalars(sa.select(Perpetrator).where(of(Perpetrator.case_id)).order_by(Perpetrator.id)):
        perpetrators[perpetrator.case_id].append(
            links.PerpetratorFacts(
                _opened(perpetrator.alias),
                tuple(perpetrator.roles or ()),
                perpetrator.nationality,
            )
        )
    places: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    recruited: dict[int, str] = {}
    exploited: dict[int, list[str]] = defaultdict(list)
    for case_id, kind, country, locality in session.execute(
        sa.select(TraffickingEvent.case_id, TraffickingEvent.type, TraffickingEvent.country, TraffickingEvent.locality)
        .where(TraffickingEvent.country.is_not(None), of(TraffickingEvent.case_id))
        .order_by(TraffickingEvent.case_id, TraffickingEvent.sequence)
    ):
        country = str(country)  # never None: the statement asks for a country
        places[case_id].append((country, locality))
        if kind == "Recruitment":
            recruited.setdefault(case_id, country)
        elif kind == "Exploitation" and country not in exploited[case_id]:
            exploited[case_id].append(country)
    methods: dict[int, list[str]] = {
        case_id: recruited_through
        for case_id, recruited_through in session.execute(
            sa.select(VictimContext.case_id, VictimContext.recruitment_methods).where(of(VictimContext.case_id))
        )
    }
    return [
        links.CaseFacts(
            case=ref,
            perpetrators=tuple(perpetrators.get(case_id, ())),
            places=tuple(places.get(case_id, ())),
            routes=tuple((recruited[case_id], c) for c in exploited.get(case_id, ()) if case_id in recruited),
            recruitment_methods=tuple(methods.get(case_id) or ()),
        )
        for case_id, ref in cases.items()
    ]


# -- the referral package ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageEvent:
    sequence: int
    type: str
    country: str | None
    locality: str | None
    start_date: date | None
    start_precision: str
    end_date: date | None
    end_precision: str
    transport: str | None
    border_crossing: str | None


@dataclass(frozen=True)
class PackagePerpetrator:
    alias: str | None
    roles: tuple[str, ...]
    sex: str | None
    nationality: str | None
    relationship_to_victim: str | None
    events: tuple[int, ...]
    """The sequence numbers of the events they took part in."""


@dataclass(frozen=True)
class Package:
    """What goes to law enforcement: the trafficking facts as codes and dates, the perpetrators, places and routes;
    no narrative and nothing of the person's identity (law enforcement asks the caseworker for more)."""

    mission: str
    case_id: int
    case_number: str
    beneficiary_id: str
    consent_given_on: date
    trafficking_status: str | None
    exploitation_types: tuple[str, ...]
    recruitment_methods: tuple[str, ...]
    control_methods: tuple[str, ...]
    recruiter_relationship: str | None
    events: tuple[PackageEvent, ...]
    perpetrators: tuple[PackagePerpetrator, ...]
    routes: tuple[tuple[str, str], ...]


def referral_package(ctx: RequestContext, case_id: int, action: str = "intelligence.package") -> Package:
    """The case's package, audited on the case (``action``: printed or downloaded); :class:`NoConsent` unless the
    case's consent to sharing with law enforcement is in force; :class:`NotFound` for no such case here."""
    require(ctx, INTELLIGENCE_VIEW)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        consent = consent_in_force(session, case.id, LAW_ENFORCEMENT)
        if consent is None:
            raise NoConsent
        victim = session.get(VictimContext, case.id)
        events = session.scalars(
            sa.select(TraffickingEvent).where(TraffickingEvent.case_id == case.id).order_by(TraffickingEvent.sequence)
        ).all()
        [facts] = mission_facts(session, ctx.mission.code, case.id)
        package = Package(
            mission=ctx.mission.code,
            case_id=case.id,
            case_number=case.case_number,
            beneficiary_id=case.beneficiary_id,
            consent_given_on=consent.given_on,
            trafficking_status=victim.trafficking_status if victim else None,
            exploitation_types=tuple(victim.exploitation_types or ()) if victim else (),
            recruitment_methods=tuple(victim.recruitment_methods or ()) if victim else (),
            control_methods=tuple(victim.control_methods or ()) if victim else (),
            recruiter_relationship=victim.recruiter_relationship if victim else None,
            events=tuple(
                PackageEvent(
                    e.sequence,
                    e.type,
                    e.country,
                    e.locality,
                    e.start_date,
                    e.start_precision,
                    e.end_date,
                    e.end_precision,
                    e.transport,
                    e.border_crossing,
                )
                for e in events
            ),
            perpetrators=tuple(
                PackagePerpetrator(
                    _opened(p.alias),
                    tuple(p.roles or ()),
                    p.sex,
                    p.nationality,
                    p.relationship_to_victim,
                    tuple(sorted(e.sequence for e in p.events)),
                )
                for p in session.scalars(
                    sa.select(Perpetrator).where(Perpetrator.case_id == case.id).order_by(Perpetrator.id)
                )
            ),
            routes=facts.routes,
        )
        audit.record(session, ctx, action, case.id, [FIELD_GROUP, "process", "perpetrators"])
    return package


def _opened(alias: object) -> str | None:
    return alias if isinstance(alias, str) and not isinstance(alias, Unreadable) else None
