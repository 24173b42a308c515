"""``HostClient``: one mission's calls to the host's services, answered as plain data.

Each answer is read for what its operation needs, no more: a value it needs that is missing or
unreadable is a ``HostProtocolError``; an optional element left out, or one the CTM does not
know, is no reason to refuse it. Every answer is checked to be about what was asked (the
beneficiary, its mission, the movement): otherwise ``HostMismatch``, and nothing of it is used.
``Beneficiary`` records come back as lxml elements in ``HOST_NS`` for the mapping engine;
everything else as small dataclasses. A client is cheap: make one per mission and use; the
zeep clients under it are shared. Every method raises ``errors.HostFault``,
``HostUnavailable`` or ``HostProtocolError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from lxml import etree
from zeep import xsd

from ctm_plugin.security import xml

from .call import Connection
from .errors import HostFault, HostMismatch, HostProtocolError
from .reply import HOST_NS
from .services import invoke

__all__ = [
    "HOST_NS",
    "BeneficiaryPage",
    "BookedMovement",
    "ChangeBatch",
    "Connection",
    "HostClient",
    "MovementChange",
    "MovementRecord",
    "SavedBeneficiary",
]


def _q(name: str) -> str:
    return f"{{{HOST_NS}}}{name}"


@dataclass(frozen=True)
class BeneficiaryPage:
    total: int
    page: int
    items: list[etree._Element]


@dataclass(frozen=True)
class SavedBeneficiary:
    beneficiary_id: str
    record_version: int


@dataclass(frozen=True)
class BookedMovement:
    movement_id: str
    status: str


MOVEMENT_STATUSES = frozenset({"REQUESTED", "BOOKED", "CONFIRMED", "DEPARTED", "ARRIVED", "CANCELLED", "NO_SHOW"})


@dataclass(frozen=True)
class MovementRecord:
    """What the CTM reads of a host ``Movement``: enough to recognise it and know where it stands."""

    movement_id: str
    status: str
    mission_code: str | None
    beneficiary_ids: tuple[str, ...]


@dataclass(frozen=True)
class MovementChange:
    movement_id: str
    client_reference: str | None
    status: str
    changed_at: datetime
    """Aware, in UTC."""
    legs: list[dict]
    """JSON-ready: ``sequence``, ``carrier``, ``flight_number``, ``from``, ``to``, and
    ``departure`` / ``arrival`` as ISO 8601 UTC strings."""


@dataclass(frozen=True)
class ChangeBatch:
    next_token: str
    changes: list[MovementChange]


class HostClient:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # -- BeneficiaryService

    def get_beneficiary(self, beneficiary_id: str, mission_code: str | None = None) -> etree._Element:
        """The host's record of ``beneficiary_id`` (of ``mission_code`` when given), never another's."""
        record = _child(self._call("BeneficiaryService", "GetBeneficiary", BeneficiaryId=beneficiary_id), "Beneficiary")
        _same("beneficiary", beneficiary_id, _text(record, "BeneficiaryId"))
        if mission_code is not None:
            _same("mission", mission_code, _text(record, "MissionCode"))
        return record

    def find_beneficiaries(
        self,
        *,
        mission_code: str | None = None,
        family_name: str | None = None,
        given_name: str | None = None,
        birth_date: date | None = None,
        nationality: str | None = None,
        document_number: str | None = None,
        modified_since: datetime | None = None,
        page: int = 1,
        page_size: int = 100,
    ) -> BeneficiaryPage:
        """One page of matches; asked for a mission, an answer holding another mission's record is refused."""
        if modified_since is not None and modified_since.tzinfo is None:
            raise ValueError("modified_since must be an aware datetime")
        response = self._call(
            "BeneficiaryService",
            "FindBeneficiaries",
            MissionCode=mission_code,
            FamilyName=family_name,
            GivenName=given_name,
            BirthDate=birth_date,
            Nationality=nationality,
            DocumentNumber=document_number,
            ModifiedSince=modified_since,
            Page=page,
            PageSize=page_size,
        )
        items = response.findall(_q("Beneficiary"))
        for item in items:
            _text(item, "BeneficiaryId")
            if mission_code is not None:
                _same("mission", mission_code, _text(item, "MissionCode"))
        return BeneficiaryPage(_int(response, "TotalCount"), _int(response, "Page"), items)

    def save_beneficiary(self, element: etree._Element | str, client_reference: str) -> SavedBeneficiary:
        """Create (no ``BeneficiaryId``) or update (with it and ``RecordVersion``) a beneficiary."""
        response = self._call(
            "BeneficiaryService",
            "SaveBeneficiary",
            _record(element, "Beneficiary"),
            Beneficiary=xsd.SkipValue,
            ClientReference=client_reference,
        )
        saved = SavedBeneficiary(_text(response, "BeneficiaryId"), _int(response, "RecordVersion"))
        if (updated := _record(element, "Beneficiary").findtext(_q("BeneficiaryId"))) is not None:
            _same("beneficiary", updated, saved.beneficiary_id)
        return saved

    # -- MovementService

    def book_movement(self, request_element: etree._Element | str, client_reference: str) -> BookedMovement:
        response = self._call(
            "MovementService",
            "BookMovement",
            _record(request_element, "MovementRequest"),
            MovementRequest=xsd.SkipValue,
            ClientReference=client_reference,
        )
        return BookedMovement(_text(response, "MovementId"), _status(response))

    def get_movement(self, movement_id: str) -> MovementRecord:
        movement = _movement(_child(self._call("MovementService", "GetMovement", MovementId=movement_id), "Movement"))
        _same("movement", movement_id, movement.movement_id)
        return movement

    def find_movement_by_reference(
        self, client_reference: str, request_element: etree._Element | str | None = None
    ) -> MovementRecord | None:
        """The movement booked with ``client_reference``, or ``None`` if the host has none.

        Given the ``MovementRequest`` that was sent under that reference, the movement must be
        of its mission and for its beneficiaries (where the answer names them).
        """
        try:
            response = self._call("MovementService", "FindMovementByReference", ClientReference=client_reference)
        except HostFault as fault:
            if fault.code == "NOT_FOUND":
                return None
            raise
        movement = _movement(_child(response, "Movement"))
        if request_element is not None:
            request = _record(request_element, "MovementRequest")
            if movement.mission_code is not None:
                _same("mission", _text(request, "MissionCode"), movement.mission_code)
            asked = sorted(_movement_beneficiaries(request))
            if movement.beneficiary_ids and sorted(movement.beneficiary_ids) != asked:
                raise HostMismatch("beneficiary", " ".join(asked), " ".join(sorted(movement.beneficiary_ids)))
        return movement

    def cancel_movement(self, movement_id: str, reason: str) -> str:
        """The movement's status after the cancellation."""
        return _status(self._call("MovementService", "CancelMovement", MovementId=movement_id, Reason=reason))

    def get_movement_changes(self, since_token: str | None = None, max_changes: int = 1000) -> ChangeBatch:
        response = self._call("MovementService", "GetMovementChanges", SinceToken=since_token, MaxChanges=max_changes)
        changes = [_change(element) for element in response.iterfind(_q("MovementChange"))]
        return ChangeBatch(_text(response, "NextToken"), changes)

    def _call(
        self, service: str, operation: str, payload: etree._Element | None = None, **params: object
    ) -> etree._Element:
        return invoke(self.connection, service, operation, payload, **params)


def _record(element: etree._Element | str, name: str) -> etree._Element:
    """The request's record: an element, or its text as the outbox keeps it (``records.request_text``)."""
    if isinstance(element, str):
        element = xml.parse(element.encode())
    if element.tag != _q(name):
        raise ValueError(f"expected a {_q(name)} element")
    return element


# -- reading an answer for what the operation needs -------------------------------------------


def _child(element: etree._Element, name: str) -> etree._Element:
    child = element.find(_q(name))
    if child is None:
        raise HostProtocolError(f"no {name} in the answer")
    return child


def _optional(element: etree._Element, name: str) -> str | None:
    text = element.findtext(_q(name))
    return text.strip() or None if text is not None else None


def _text(element: etree._Element, name: str) -> str:
    text = _optional(element, name)
    if text is None:
        raise HostProtocolError(f"no {name} in the answer")
    return text


def _int(element: etree._Element, name: str) -> int:
    try:
        return int(_text(element, name))
    except ValueError:
        raise HostProtocolError(f"{name} is not a number") from None


def _status(element: etree._Element) -> str:
    status = _text(element, "Status")
    if status not in MOVEMENT_STATUSES:
        raise HostProtocolError("a movement status the contract does not define")
    return status


def _same(what: str, asked: str, got: str) -> None:
    if asked != got:
        raise HostMismatch(what, asked, got)


def _movement(element: etree._Element) -> MovementRecord:
    return MovementRecord(
        movement_id=_text(element, "MovementId"),
        status=_status(element),
        mission_code=_optional(element, "MissionCode"),
        beneficiary_ids=_movement_beneficiaries(element),
    )


def _movement_beneficiaries(element: etree._Element) -> tuple[str, ...]:
    return tuple((b.text or "").strip() for b in element.iterfind(f"{_q('Beneficiaries')}/{_q('BeneficiaryId')}"))


def _change(element: etree._Element) -> MovementChange:
    return MovementChange(
        movement_id=_text(element, "MovementId"),
        client_reference=_optional(element, "ClientReference"),
        status=_status(element),
        changed_at=_utc(_text(element, "ChangedAt")),
        legs=[_leg(leg, n) for n, leg in enumerate(element.iterfind(f"{_q('Legs')}/{_q('Leg')}"), 1)],
    )


def _leg(element: etree._Element, position: int) -> dict:
    """A leg as the return tab shows it; what a lax host left out stays empty."""
    sequence = _optional(element, "Sequence")
    departure, arrival = _optional(element, "Departure"), _optional(element, "Arrival")
    return {
        "sequence": int(sequence) if sequence and sequence.isdigit() else position,
        "carrier": _optional(element, "Carrier"),
        "flight_number": _optional(element, "FlightNumber"),
        "from": _optional(element, "From"),
        "to": _optional(element, "To"),
        "departure": _utc(departure).isoformat() if departure else None,
        "arrival": _utc(arrival).isoformat() if arrival else None,
    }


def _utc(text: str) -> datetime:
    """An xs:dateTime; one without a time zone is not a moment."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise HostProtocolError("a time without a usable time zone")
    return moment.astimezone(UTC)
