"""The contract host's records and rules, in memory, behind one lock (HOST_CONTRACT.md §2).

Written from the contract alone: API users bound to missions, idempotency by ClientReference per
API user, RecordVersion, the status rules and a change feed whose tokens are positions in it.
Operations raise :class:`Refusal` with the contract's fault code; ``server`` turns it into a fault.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

STATUSES = ("REQUESTED", "BOOKED", "CONFIRMED", "DEPARTED", "ARRIVED", "CANCELLED", "NO_SHOW")
NEXT = {
    "REQUESTED": {"BOOKED", "CANCELLED"},
    "BOOKED": {"CONFIRMED", "CANCELLED"},
    "CONFIRMED": {"DEPARTED", "CANCELLED", "NO_SHOW"},
    "DEPARTED": {"ARRIVED"},
}


class Refusal(Exception):
    """A business fault: ``code`` as the contract names it, the offending ``fields``."""

    def __init__(self, code: str, message: str, fields: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = tuple(fields)


@dataclass
class Document:
    type: str
    number: str
    issuing_country: str
    expires: date | None = None


@dataclass
class Beneficiary:
    beneficiary_id: str
    mission_code: str
    family_name: str
    given_name: str
    sex: str
    middle_name: str | None = None
    birth_date: date | None = None
    birth_date_estimated: bool = False
    nationality: str | None = None
    documents: list[Document] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    vulnerabilities: list[str] = field(default_factory=list)
    project_code: str | None = None
    record_version: int = 1
    last_modified: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Leg:
    sequence: int
    carrier: str
    flight_number: str
    from_location: str
    to_location: str
    departure: datetime
    arrival: datetime


@dataclass
class Movement:
    movement_id: str
    mission_code: str
    project_code: str
    movement_type: str
    beneficiary_ids: list[str]
    origin: tuple[str, str]
    destination: tuple[str, str]
    earliest_departure: date
    escort: str
    fit_to_travel: bool
    status: str = "REQUESTED"
    legs: list[Leg] = field(default_factory=list)
    remarks: str | None = None
    client_reference: str | None = None


@dataclass(frozen=True)
class Change:
    movement_id: str
    client_reference: str | None
    status: str
    changed_at: datetime
    legs: tuple[Leg, ...]
    mission_code: str


class Store:
    """Every record of the contract host; each method holds the lock for its whole run and hands out copies."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.api_users: dict[str, tuple[str, frozenset[str]]] = {}
        self.beneficiaries: dict[str, Beneficiary] = {}
        self.movements: dict[str, Movement] = {}
        self.changes: list[Change] = []
        self._accepted: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._serial = 0

    # -- seeding and the host's own hand (tests) -------------------------------------------------

    def add_api_user(self, username: str, password: str, missions: Iterable[str]) -> None:
        with self.lock:
            self.api_users[username] = (password, frozenset(missions))

    def put_beneficiary(self, record: Beneficiary) -> None:
        with self.lock:
            self.beneficiaries[record.beneficiary_id] = copy.deepcopy(record)

    def edit_beneficiary(self, beneficiary_id: str, **changes: Any) -> Beneficiary:
        """An edit made in the host's own pages: a new RecordVersion and LastModified."""
        with self.lock:
            record = self.beneficiaries[beneficiary_id]
            for name, value in changes.items():
                setattr(record, name, value)
            record.record_version += 1
            record.last_modified = datetime.now(UTC)
            return copy.deepcopy(record)

    def advance(self, movement_id: str, status: str, legs: list[Leg] | None = None) -> None:
        """The travel desk's hand: one transition by the status rules (legs added when it books)."""
        with self.lock:
            movement = self.movements[movement_id]
            if status not in NEXT.get(movement.status, set()):
                raise Refusal("INVALID_STATE", f"{movement.status} cannot become {status}")
            if legs is not None:
                movement.legs = list(legs)
            self._transition(movement, status)

    # -- reads for tests -----------------------------------------------------------------------

    def beneficiary(self, beneficiary_id: str) -> Beneficiary | None:
        with self.lock:
            record = self.beneficiaries.get(beneficiary_id)
            return None if record is None else copy.deepcopy(record)

    def movement(self, movement_id: str) -> Movement | None:
        with self.lock:
            found = self.movements.get(movement_id)
            return None if found is None else copy.deepcopy(found)

    def movements_for(self, beneficiary_id: str) -> list[Movement]:
        with self.lock:
            return [copy.deepcopy(m) for m in self.movements.values() if beneficiary_id in m.beneficiary_ids]

    # -- authentication ------------------------------------------------------------------------

    def password_of(self, username: str) -> str | None:
        with self.lock:
            user = self.api_users.get(username)
            return None if user is None else user[0]

    def missions_of(self, username: str) -> frozenset[str]:
        with self.lock:
            return self.api_users[username][1]

    # -- BeneficiaryService --------------------------------------------------------------------

    def get_beneficiary(self, user: str, beneficiary_id: str) -> Beneficiary:
        with self.lock:
            record = self.beneficiaries.get(beneficiary_id)
            if record is None:
                raise Refusal("NOT_FOUND", "no such beneficiary", ["BeneficiaryId"])
            self._check_mission(user, record.mission_code)
            return copy.deepcopy(record)

    def find_beneficiaries(self, user: str, query: dict[str, Any], page: int, size: int) -> tuple[int, list]:
        with self.lock:
            missions = self.missions_of(user)
            if query.get("mission_code"):
                self._check_mission(user, query["mission_code"])
                missions = frozenset({query["mission_code"]})
            hits = [b for b in self.beneficiaries.values() if b.mission_code in missions and _matches(b, query)]
            hits.sort(key=lambda b: (b.last_modified, b.beneficiary_id))
            return len(hits), [copy.deepcopy(b) for b in hits[(page - 1) * size : page * size]]

    def save_beneficiary(self, user: str, record: Beneficiary, reference: str) -> tuple[str, int]:
        with self.lock:
            key = (user, "SaveBeneficiary", reference)
            comparable = _comparable(record)
            if key in self._accepted:
                return self._repeat(key, comparable)
            self._check_mission(user, record.mission_code)
            now = datetime.now(UTC)
            if not record.beneficiary_id:
                self._serial += 1
                record.beneficiary_id, record.record_version = f"BEN-{9000000 + self._serial:07d}", 1
            else:
                current = self.beneficiaries.get(record.beneficiary_id)
                if current is None:
                    raise Refusal("NOT_FOUND", "no such beneficiary", ["BeneficiaryId"])
                self._check_mission(user, current.mission_code)
                if current.mission_code != record.mission_code:
                    raise Refusal("VALIDATION", "a beneficiary cannot change missions", ["MissionCode"])
                if record.record_version != current.record_version:
                    raise Refusal("CONFLICT", "the record changed since that version", ["RecordVersion"])
                record.record_version = current.record_version + 1
            record.last_modified = now
            self.beneficiaries[record.beneficiary_id] = record
            result = (record.beneficiary_id, record.record_version)
            self._accepted[key] = (comparable, result)
            return result

    # -- MovementService -----------------------------------------------------------------------

    def book_movement(self, user: str, movement: Movement, reference: str) -> tuple[str, str]:
        with self.lock:
            key = (user, "BookMovement", reference)
            comparable = _comparable(movement)
            if key in self._accepted:
                return self._repeat(key, comparable)
            self._check_mission(user, movement.mission_code)
            for person in movement.beneficiary_ids:
                record = self.beneficiaries.get(person)
                if record is None:
                    raise Refusal("NOT_FOUND", "no such beneficiary", ["BeneficiaryId"])
                if record.mission_code != movement.mission_code:
                    raise Refusal("VALIDATION", "a beneficiary of another mission", ["BeneficiaryId"])
            self._serial += 1
            movement.movement_id, movement.client_reference = f"MOV-{8000000 + self._serial:07d}", reference
            self.movements[movement.movement_id] = movement
            self._transition(movement, "REQUESTED")
            result = (movement.movement_id, movement.status)
            self._accepted[key] = (comparable, result)
            return result

    def get_movement(self, user: str, movement_id: str) -> Movement:
        with self.lock:
            movement = self.movements.get(movement_id)
            if movement is None:
                raise Refusal("NOT_FOUND", "no such movement", ["MovementId"])
            self._check_mission(user, movement.mission_code)
            return copy.deepcopy(movement)

    def find_movement_by_reference(self, user: str, reference: str) -> Movement:
        with self.lock:
            accepted = self._accepted.get((user, "BookMovement", reference))
            if accepted is None:
                raise Refusal("NOT_FOUND", "no movement with that reference", ["ClientReference"])
            return self.get_movement(user, accepted[1][0])

    def cancel_movement(self, user: str, movement_id: str) -> str:
        with self.lock:
            movement = self.get_movement(user, movement_id)
            self.advance(movement.movement_id, "CANCELLED")
            return "CANCELLED"

    def movement_changes(self, user: str, since: int, limit: int) -> tuple[int, list[Change]]:
        """The caller's missions' changes after position ``since``, and the position to ask from next."""
        with self.lock:
            if since > len(self.changes):
                raise Refusal("VALIDATION", "not a token this host gave", ["SinceToken"])
            missions, found, position = self.missions_of(user), [], since
            while position < len(self.changes) and len(found) < limit:
                if self.changes[position].mission_code in missions:
                    found.append(self.changes[position])
                position += 1
            return position, found

    # -- rules ---------------------------------------------------------------------------------

    def _check_mission(self, user: str, mission_code: str) -> None:
        if mission_code not in self.missions_of(user):
            raise Refusal("FORBIDDEN_MISSION", "this API user may not touch that mission", ["MissionCode"])

    def _repeat(self, key: tuple[str, str, str], comparable: Any) -> Any:
        before, result = self._accepted[key]
        if before != comparable:
            raise Refusal("DUPLICATE_REFERENCE", "that reference came with another payload", ["ClientReference"])
        return result

    def _transition(self, movement: Movement, status: str) -> None:
        movement.status = status
        self.changes.append(
            Change(
                movement.movement_id,
                movement.client_reference,
                status,
                datetime.now(UTC),
                tuple(copy.deepcopy(leg) for leg in movement.legs),
                movement.mission_code,
            )
        )


def _matches(record: Beneficiary, query: dict[str, Any]) -> bool:
    def prefix(value: str, wanted: str | None) -> bool:
        return wanted is None or value.casefold().startswith(wanted.casefold())

    return (
        prefix(record.family_name, query.get("family_name"))
        and prefix(record.given_name, query.get("given_name"))
        and query.get("birth_date") in (None, record.birth_date)
        and query.get("nationality") in (None, record.nationality)
        and (
            query.get("document_number") is None or any(d.number == query["document_number"] for d in record.documents)
        )
        and (query.get("modified_since") is None or record.last_modified > query["modified_since"])
    )


def _comparable(record: Any) -> Any:
    """What makes two requests "the same payload": the record as sent, before the host fills it in."""
    return dataclasses.asdict(record) | {"last_modified": None}
