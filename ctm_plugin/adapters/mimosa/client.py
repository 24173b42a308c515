"""``HostClient``: one mission's calls to the host's services, answered as plain data.

Records (``Beneficiary``, ``Movement``) come back as lxml elements in ``HOST_NS``, checked
against the vendored schema, for the mapping engine; everything else as small dataclasses.
A client is cheap: make one per mission and use; the zeep clients under it are shared.
Every method raises ``errors.HostFault``, ``HostUnavailable`` or ``HostProtocolError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from lxml import etree
from zeep import xsd

from .call import Connection
from .errors import HostFault, HostProtocolError
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
    "SavedBeneficiary",
]


def _q(name: str) -> str:
    return f"{{{HOST_NS}}}{name}"


def _child(element: etree._Element, name: str) -> etree._Element:
    """A child the schema requires: every answer was validated against it, so it is there."""
    found = element.find(_q(name))
    if found is None:
        raise HostProtocolError(f"no {name} in the answer")
    return found


def _text(element: etree._Element, name: str) -> str:
    """The text of a child the schema requires (see :func:`_child`)."""
    return _child(element, name).text or ""


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

    def get_beneficiary(self, beneficiary_id: str) -> etree._Element:
        return _child(self._call("BeneficiaryService", "GetBeneficiary", BeneficiaryId=beneficiary_id), "Beneficiary")

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
        return BeneficiaryPage(
            int(_text(response, "TotalCount")),
            int(_text(response, "Page")),
            response.findall(_q("Beneficiary")),
        )

    def save_beneficiary(self, element: etree._Element, client_reference: str) -> SavedBeneficiary:
        """Create (no ``BeneficiaryId``) or update (with it and ``RecordVersion``) a beneficiary."""
        response = self._call(
            "BeneficiaryService",
            "SaveBeneficiary",
            _record(element, "Beneficiary"),
            Beneficiary=xsd.SkipValue,
            ClientReference=client_reference,
        )
        return SavedBeneficiary(_text(response, "BeneficiaryId"), int(_text(response, "RecordVersion")))

    # -- MovementService

    def book_movement(self, request_element: etree._Element, client_reference: str) -> BookedMovement:
        response = self._call(
            "MovementService",
            "BookMovement",
            _record(request_element, "MovementRequest"),
            MovementRequest=xsd.SkipValue,
            ClientReference=client_reference,
        )
        return BookedMovement(_text(response, "MovementId"), _text(response, "Status"))

    def get_movement(self, movement_id: str) -> etree._Element:
        return _child(self._call("MovementService", "GetMovement", MovementId=movement_id), "Movement")

    def find_movement_by_reference(self, client_reference: str) -> etree._Element | None:
        """The movement booked with ``client_reference``, or ``None`` if the host has none."""
        try:
            response = self._call("MovementService", "FindMovementByReference", ClientReference=client_reference)
        except HostFault as fault:
            if fault.code == "NOT_FOUND":
                return None
            raise
        return response.find(_q("Movement"))

    def cancel_movement(self, movement_id: str, reason: str) -> str:
        """The movement's status after the cancellation."""
        response = self._call("MovementService", "CancelMovement", MovementId=movement_id, Reason=reason)
        return _text(response, "Status")

    def get_movement_changes(self, since_token: str | None = None, max_changes: int = 1000) -> ChangeBatch:
        response = self._call("MovementService", "GetMovementChanges", SinceToken=since_token, MaxChanges=max_changes)
        changes = [_change(element) for element in response.iterfind(_q("MovementChange"))]
        return ChangeBatch(_text(response, "NextToken"), changes)

    def _call(
        self, service: str, operation: str, payload: etree._Element | None = None, **params: object
    ) -> etree._Element:
        return invoke(self.connection, service, operation, payload, **params)


def _record(element: etree._Element, name: str) -> etree._Element:
    if element.tag != _q(name):
        raise ValueError(f"expected a {_q(name)} element")
    return element


def _change(element: etree._Element) -> MovementChange:
    return MovementChange(
        movement_id=_text(element, "MovementId"),
        client_reference=element.findtext(_q("ClientReference")),
        status=_text(element, "Status"),
        changed_at=_utc(_text(element, "ChangedAt")),
        legs=[_leg(leg) for leg in element.iterfind(f"{_q('Legs')}/{_q('Leg')}")],
    )


def _leg(element: etree._Element) -> dict:
    return {
        "sequence": int(_text(element, "Sequence")),
        "carrier": element.findtext(_q("Carrier")),
        "flight_number": element.findtext(_q("FlightNumber")),
        "from": element.findtext(_q("From")),
        "to": element.findtext(_q("To")),
        "departure": _utc(_text(element, "Departure")).isoformat(),
        "arrival": _utc(_text(element, "Arrival")).isoformat(),
    }


def _utc(text: str) -> datetime:
    """An xs:dateTime the schema accepted; one without a time zone is not a moment."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise HostProtocolError("a time without a usable time zone")
    return moment.astimezone(UTC)
