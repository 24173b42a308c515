"""Intelligence: what links cases to each other (a perpetrator, a place, a route, a recruitment method), worked out
in this process from each case's facts. Pure: no database, no request.

A perpetrator is the same across cases when their aliases are the same once normalised (letters' case and
accents ignored, spaces collapsed): the aliases are sealed at rest under each mission's key, with no blind index,
so they are compared after they are opened, here, for the intelligence pages only, and never logged. A place is a
country with its locality (normalised alike), a route a country of recruitment to a country of exploitation.

An entity links cases when two or more cases share it; the most connected are those linking the most cases. The
network is bounded (the most connected entities and their cases) so that a mission of thousands of cases draws
a readable picture, quickly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ctm_plugin.codelists.geo import folded

PERPETRATOR = "perpetrator"
PLACE = "place"
ROUTE = "route"
RECRUITMENT = "recruitment"
KINDS = (PERPETRATOR, PLACE, ROUTE, RECRUITMENT)
ROUTE_ARROW = "→"
NETWORK_ENTITIES = 12
"""How many of the most connected perpetrators and places the network draws, with their cases."""
NETWORK_CASES = 40
"""At most this many cases in the network: beyond it, a picture is no longer read."""


def normalised(text: str) -> str:
    """Case folded, accents stripped, whitespace collapsed: "  BÀ  Lan " and "ba lan" are one alias."""
    return " ".join(folded(text).split())


@dataclass(frozen=True, order=True)
class CaseRef:
    mission: str
    case_id: int
    case_number: str
    beneficiary_id: str


@dataclass(frozen=True)
class PerpetratorFacts:
    alias: str | None
    roles: tuple[str, ...]
    nationality: str | None


@dataclass(frozen=True)
class CaseFacts:
    """What the linking reads of one case: codes, and the perpetrators' aliases opened in this process."""

    case: CaseRef
    perpetrators: tuple[PerpetratorFacts, ...] = ()
    places: tuple[tuple[str, str | None], ...] = ()
    """(country, locality) of each trafficking event with a country."""
    routes: tuple[tuple[str, str], ...] = ()
    """(country of recruitment, country of exploitation)."""
    recruitment_methods: tuple[str, ...] = ()


@dataclass
class Entity:
    """Something cases share: its kind, its key (normalised), how it reads, what is known of it, its cases."""

    kind: str
    key: str
    label: str
    cases: set[CaseRef] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    nationalities: set[str] = field(default_factory=set)

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def missions(self) -> list[str]:
        return sorted({c.mission for c in self.cases})

    def sorted_cases(self) -> list[CaseRef]:
        return sorted(self.cases, key=lambda c: (c.mission, c.case_number))


def place_key(country: str, locality: str | None) -> str:
    return f"{country}:{normalised(locality)}" if locality and locality.strip() else country


def route_key(recruited: str, exploited: str) -> str:
    return f"{recruited}{ROUTE_ARROW}{exploited}"


def entities(facts: Iterable[CaseFacts]) -> dict[str, Entity]:
    """Every perpetrator, place, route and recruitment method of the cases, with the cases of each, by ref."""
    found: dict[str, Entity] = {}

    def add(kind: str, key: str, label: str, case: CaseRef) -> Entity:
        entity = found.setdefault(f"{kind}:{key}", Entity(kind, key, label))
        entity.cases.add(case)
        return entity

    for case in facts:
        for perpetrator in case.perpetrators:
            if not perpetrator.alias or not normalised(perpetrator.alias):
                continue  # a perpetrator known by no alias links nothing
            entity = add(PERPETRATOR, normalised(perpetrator.alias), "", case.case)
            entity.aliases.add(" ".join(perpetrator.alias.split()))
            entity.roles.update(perpetrator.roles)
            if perpetrator.nationality:
                entity.nationalities.add(perpetrator.nationality)
        for country, locality in case.places:
            label = f"{locality.strip()}, {country}" if locality and locality.strip() else country
            add(PLACE, place_key(country, locality), label, case.case)
        for recruited, exploited in case.routes:
            add(ROUTE, route_key(recruited, exploited), route_key(recruited, exploited), case.case)
        for method in case.recruitment_methods:
            add(RECRUITMENT, method, method, case.case)
    for entity in found.values():
        if entity.aliases:  # one spelling, whichever mission was read first: the first in a stable order
            entity.label = min(entity.aliases, key=lambda alias: (alias.casefold(), alias))
    return found


def linking(found: dict[str, Entity]) -> list[Entity]:
    """The entities two or more cases share, the most connected first (then by kind and key: a stable order)."""
    shared = [e for e in found.values() if len(e.cases) >= 2]
    return sorted(shared, key=lambda e: (-len(e.cases), KINDS.index(e.kind), e.key))


def linked_cases(shared: Iterable[Entity]) -> dict[CaseRef, list[Entity]]:
    """Each linked case with the entities it shares with other cases."""
    by_case: dict[CaseRef, list[Entity]] = defaultdict(list)
    for entity in shared:
        for case in entity.cases:
            by_case[case].append(entity)
    return dict(by_case)


@dataclass(frozen=True)
class Network:
    """A bounded graph: entities (perpetrators and places) and cases, and the links between them."""

    entities: tuple[Entity, ...]
    cases: tuple[CaseRef, ...]
    links: tuple[tuple[str, CaseRef], ...]
    """(entity ref, case) pairs."""
    left_out: int
    """Linking perpetrators and places not drawn (beyond the bound)."""


def network(shared: list[Entity], most: int = NETWORK_ENTITIES, max_cases: int = NETWORK_CASES) -> Network:
    """The most connected perpetrators and places (``shared`` is in that order) and their cases, within bounds:
    an entity is drawn only if all its cases fit, so no link drawn is missing a case."""
    candidates = [e for e in shared if e.kind in (PERPETRATOR, PLACE)]
    drawn: list[Entity] = []
    cases: set[CaseRef] = set()
    for entity in candidates:
        if len(drawn) == most:
            break
        if len(cases | entity.cases) > max_cases:
            continue
        drawn.append(entity)
        cases |= entity.cases
    # cases ordered by their first entity (fewer crossings), then by mission and number
    first = {case: min(i for i, e in enumerate(drawn) if case in e.cases) for case in cases}
    ordered = tuple(sorted(cases, key=lambda c: (first[c], c.mission, c.case_number)))
    links = tuple((e.ref, c) for e in drawn for c in e.sorted_cases())
    return Network(tuple(drawn), ordered, links, len(candidates) - len(drawn))
