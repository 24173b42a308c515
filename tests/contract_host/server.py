"""The contract host's SOAP services over real HTTP on loopback (HOST_CONTRACT.md §2).

As strict as the contract on requests (WS-Security digest and timestamp, every required
element, children in order, hostile XML refused) and as lax as it allows on answers: another
envelope prefix, the payload in a default namespace, indentation, optional elements left out,
and no Content-Length (chunked, or delimited by closing the connection).

``ContractHost(store).start()`` serves it; ``host.faults`` switches the test-only faults.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import random
import re
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lxml import etree

from .store import STATUSES, Beneficiary, Document, Movement, Refusal, Store

NS = "urn:mimosa:host:v1"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
MAX_BODY = 2 * 1024 * 1024
ESCORTS = ("NONE", "OPERATIONAL", "MEDICAL", "CHILD")
WINDOW = timedelta(minutes=5)
SERVICES = {
    "BeneficiaryService": ("GetBeneficiary", "FindBeneficiaries", "SaveBeneficiary"),
    "MovementService": (
        "BookMovement",
        "GetMovement",
        "FindMovementByReference",
        "CancelMovement",
        "GetMovementChanges",
    ),
}
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False
)


class Faults:
    """Test-only fault switches, each drawn from one seeded ``rng`` so a run repeats itself.

    Counts (``unavailable``, ``drop_reply``, ``unreadable_lookups``, ``duplicate_changes``) apply
    to the next so many requests of their kind; rates (``unavailable_rate``, ``drop_reply_rate``) to each.
    ``latency``: seconds the host waits before answering.
    """

    def __init__(self, seed: int = 0) -> None:
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.unavailable = 0
        self.unavailable_rate = 0.0
        self.drop_reply = 0
        self.drop_reply_rate = 0.0
        self.unreadable_lookups = 0
        self.duplicate_changes = 0
        self.latency = 0.0

    def take(self, count: str, rate: str | None = None) -> bool:
        """Whether the fault strikes this request (a count is used up by it)."""
        with self.lock:
            if getattr(self, count) > 0:
                setattr(self, count, getattr(self, count) - 1)
                return True
            return rate is not None and self.rng.random() < getattr(self, rate)


class Fault(Exception):
    """A SOAP fault to answer: ``soap:Client`` unless ``server``; HTTP 503 for UNAVAILABLE."""

    def __init__(self, code: str, message: str, fields: tuple[str, ...] = (), server: bool = False) -> None:
        super().__init__(message)
        self.code, self.message, self.fields, self.server = code, message, fields, server


class Dropped(Exception):
    """The host processed the request and closes the connection without answering."""


def invalid(*fields: str) -> Fault:
    return Fault("VALIDATION", "the request does not follow the contract", fields)


class ContractHost:
    """The services of one :class:`Store`, served on 127.0.0.1 at an ephemeral port once started."""

    def __init__(self, store: Store, seed: int = 0) -> None:
        self.store = store
        self.faults = Faults(seed)
        self.framing = "chunked"
        """How answers are delimited: ``chunked``, ``close`` (no Content-Length either way), or
        ``mixed``: one way then the other, answer after answer."""
        self._answers = itertools.count()
        self.envelope_prefix = "S"
        self._nonces: dict[str, datetime] = {}
        self._nonce_lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> ContractHost:
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)

    # -- one request ---------------------------------------------------------------------------

    def answer(self, service: str, body: bytes, soap_action: str | None) -> bytes:
        """The answer to one POST to ``service``; raises :class:`Fault` or :class:`Dropped`."""
        if len(body) > MAX_BODY:
            raise Fault("VALIDATION", "the request is larger than 2 MB")
        envelope = self._parse(body)
        operation, payload = self._operation(service, envelope, soap_action)
        user = self._authenticate(envelope)
        if self.faults.take("unavailable", "unavailable_rate"):
            raise Fault("UNAVAILABLE", "the host is busy; try again later", server=True)
        try:
            result = getattr(self, f"_{operation}")(user, payload)
        except Refusal as refusal:
            raise Fault(refusal.code, refusal.message, refusal.fields) from None
        if self.faults.take("drop_reply", "drop_reply_rate"):
            raise Dropped
        if operation == "FindMovementByReference" and self.faults.take("unreadable_lookups"):
            return self._envelope(result)[:-40]  # cut off mid-element: not XML any more
        return self._envelope(result)

    def _parse(self, body: bytes) -> etree._Element:
        try:
            root = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError:
            raise Fault("VALIDATION", "the request is not well-formed XML") from None
        if root.getroottree().docinfo.doctype or root.getroottree().docinfo.internalDTD is not None:
            raise Fault("VALIDATION", "a DOCTYPE or an entity declaration is refused")
        if any(isinstance(node, etree._Entity) for node in root.iter()):
            raise Fault("VALIDATION", "entities are refused")
        return root

    def _operation(self, service: str, envelope: etree._Element, soap_action: str | None) -> tuple[str, etree._Element]:
        soap_body = envelope.find(f"{{{SOAP}}}Body") if envelope.tag == f"{{{SOAP}}}Envelope" else None
        children = [] if soap_body is None else list(soap_body.iterchildren(etree.Element))
        if len(children) != 1:
            raise Fault("VALIDATION", "not a SOAP 1.1 envelope with one body element")
        payload = children[0]
        name = etree.QName(payload)
        if name.namespace != NS or name.localname not in SERVICES[service]:
            raise invalid(name.localname)
        if (soap_action or "").strip('"') != f"{NS}/{name.localname}":
            raise Fault("VALIDATION", "the SOAPAction does not name the operation")
        return name.localname, payload

    def _authenticate(self, envelope: etree._Element) -> str:
        def refuse() -> Fault:
            return Fault("UNAUTHORIZED", "authentication failed")

        security = envelope.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security")
        if security is None:
            raise refuse()
        token = security.find(f"{{{WSSE}}}UsernameToken")
        stamp = security.find(f"{{{WSU}}}Timestamp/{{{WSU}}}Created")
        if token is None or stamp is None:
            raise refuse()
        username = token.findtext(f"{{{WSSE}}}Username") or ""
        password = token.find(f"{{{WSSE}}}Password")
        nonce, created = token.findtext(f"{{{WSSE}}}Nonce"), token.findtext(f"{{{WSU}}}Created")
        secret = self.store.password_of(username)
        if secret is None or password is None or password.get("Type") != DIGEST or not nonce or not created:
            raise refuse()
        now = datetime.now(UTC)
        try:
            moments = [_moment(created), _moment(stamp.text or "")]
            raw_nonce = base64.b64decode(nonce, validate=True)
        except ValueError:
            raise refuse() from None
        if any(abs(now - moment) > WINDOW for moment in moments):
            raise refuse()
        digest = base64.b64encode(hashlib.sha1(raw_nonce + created.encode() + secret.encode()).digest()).decode()
        if digest != (password.text or "").strip():
            raise refuse()
        with self._nonce_lock:
            self._nonces = {n: t for n, t in self._nonces.items() if now - t <= WINDOW}
            if nonce in self._nonces:
                raise refuse()
            self._nonces[nonce] = now
        return username

    # -- the operations: request element → answer element ---------------------------------------

    def _GetBeneficiary(self, user: str, request: etree._Element) -> etree._Element:
        (beneficiary_id,) = _read(request, [("BeneficiaryId", 1, _text)])
        return E("GetBeneficiaryResponse", _beneficiary(self.store.get_beneficiary(user, beneficiary_id)))

    def _FindBeneficiaries(self, user: str, request: etree._Element) -> etree._Element:
        values = _read(
            request,
            [
                ("MissionCode", 0, _text),
                ("FamilyName", 0, _text),
                ("GivenName", 0, _text),
                ("BirthDate", 0, _date),
                ("Nationality", 0, _alpha3),
                ("DocumentNumber", 0, _text),
                ("ModifiedSince", 0, _moment_of),
                ("Page", 1, _bounded(1, None)),
                ("PageSize", 1, _bounded(1, 500)),
            ],
        )
        keys = ("mission_code", "family_name", "given_name", "birth_date", "nationality", "document_number")
        query = dict(zip((*keys, "modified_since"), values[:7], strict=True))
        total, found = self.store.find_beneficiaries(user, query, values[7], values[8])
        return E(
            "FindBeneficiariesResponse",
            E("TotalCount", str(total)),
            E("Page", str(values[7])),
            *map(_beneficiary, found),
        )

    def _SaveBeneficiary(self, user: str, request: etree._Element) -> etree._Element:
        record, reference = _read(request, [("Beneficiary", 1, _read_beneficiary), ("ClientReference", 1, _reference)])
        beneficiary_id, version = self.store.save_beneficiary(user, record, reference)
        return E("SaveBeneficiaryResponse", E("BeneficiaryId", beneficiary_id), E("RecordVersion", str(version)))

    def _BookMovement(self, user: str, request: etree._Element) -> etree._Element:
        movement, reference = _read(
            request, [("MovementRequest", 1, _read_movement), ("ClientReference", 1, _reference)]
        )
        movement_id, status = self.store.book_movement(user, movement, reference)
        return E("BookMovementResponse", E("MovementId", movement_id), E("Status", status))

    def _GetMovement(self, user: str, request: etree._Element) -> etree._Element:
        (movement_id,) = _read(request, [("MovementId", 1, _text)])
        return E("GetMovementResponse", _movement(self.store.get_movement(user, movement_id)))

    def _FindMovementByReference(self, user: str, request: etree._Element) -> etree._Element:
        (reference,) = _read(request, [("ClientReference", 1, _reference)])
        return E("FindMovementByReferenceResponse", _movement(self.store.find_movement_by_reference(user, reference)))

    def _CancelMovement(self, user: str, request: etree._Element) -> etree._Element:
        reasons = ("BENEFICIARY_WITHDREW", "NOT_FIT_TO_TRAVEL", "DOCUMENTS", "SECURITY", "OTHER")
        movement_id, _reason = _read(request, [("MovementId", 1, _text), ("Reason", 1, _code(reasons))])
        return E("CancelMovementResponse", E("Status", self.store.cancel_movement(user, movement_id)))

    def _GetMovementChanges(self, user: str, request: etree._Element) -> etree._Element:
        since, limit = _read(request, [("SinceToken", 0, _bounded(0, None)), ("MaxChanges", 1, _bounded(1, 1000))])
        position, changes = self.store.movement_changes(user, since or 0, limit)
        if self.faults.take("duplicate_changes"):
            changes = [change for change in changes for _twice in (1, 2)][:limit]
        items = [
            E(
                "MovementChange",
                E("MovementId", c.movement_id),
                *([E("ClientReference", c.client_reference)] if c.client_reference else []),
                E("Status", c.status),
                E("ChangedAt", _stamp(c.changed_at)),
                *([_legs(c.legs)] if c.legs else []),  # optional: left out when there are none
            )
            for c in changes
        ]
        return E("GetMovementChangesResponse", E("NextToken", str(position)), *items)

    # -- answers -------------------------------------------------------------------------------

    def _envelope(self, payload: etree._Element) -> bytes:
        p = self.envelope_prefix
        envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={p: SOAP})
        etree.SubElement(envelope, f"{{{SOAP}}}Body").append(payload)
        etree.cleanup_namespaces(envelope)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def fault_envelope(self, fault: Fault) -> bytes:
        p = self.envelope_prefix
        envelope = etree.Element(f"{{{SOAP}}}Envelope", nsmap={p: SOAP})
        body = etree.SubElement(envelope, f"{{{SOAP}}}Body")
        soap_fault = etree.SubElement(body, f"{{{SOAP}}}Fault")
        etree.SubElement(soap_fault, "faultcode").text = f"{p}:{'Server' if fault.server else 'Client'}"
        etree.SubElement(soap_fault, "faultstring").text = fault.message
        detail = etree.SubElement(soap_fault, "detail")
        detail.append(
            E("HostFault", E("Code", fault.code), E("Message", fault.message), *(E("Field", f) for f in fault.fields))
        )
        etree.cleanup_namespaces(envelope)
        return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def E(name: str, *children: Any, **attributes: str) -> etree._Element:  # noqa: N802 - an element maker
    """An element of the host's namespace, which answers carry as the default namespace."""
    element = etree.Element(f"{{{NS}}}{name}", attributes, nsmap={None: NS})
    for child in children:
        if isinstance(child, str):
            element.text = child
        else:
            element.append(child)
    return element


def _beneficiary(b: Beneficiary) -> etree._Element:
    name = [E("FamilyName", b.family_name), E("GivenName", b.given_name)]
    if b.middle_name:  # optional: left out when there is none
        name.append(E("MiddleName", b.middle_name))
    birth = []
    if b.birth_date is not None:  # estimated: only said when true (the attribute is optional)
        birth = [E("BirthDate", b.birth_date.isoformat(), **({"estimated": "true"} if b.birth_date_estimated else {}))]
    documents = [
        E(
            "Document",
            type=d.type,
            number=d.number,
            issuingCountry=d.issuing_country,
            **({"expires": d.expires.isoformat()} if d.expires else {}),
        )
        for d in b.documents
    ]
    return E(
        "Beneficiary",
        E("BeneficiaryId", b.beneficiary_id),
        E("MissionCode", b.mission_code),
        E("Name", *name),
        E("Sex", b.sex),
        *birth,
        *([E("Nationality", b.nationality)] if b.nationality else []),
        E("Documents", *documents),
        E("Languages", *(E("Language", code) for code in b.languages)),
        E("Vulnerabilities", *(E("Code", code) for code in b.vulnerabilities)),
        *([E("ProjectCode", b.project_code)] if b.project_code else []),
        E("RecordVersion", str(b.record_version)),
        E("LastModified", _stamp(b.last_modified)),
    )


def _movement(m: Movement) -> etree._Element:
    return E(
        "Movement",
        E("MovementId", m.movement_id),
        E("MissionCode", m.mission_code),
        E("ProjectCode", m.project_code),
        E("MovementType", m.movement_type),
        E("Beneficiaries", *(E("BeneficiaryId", person) for person in m.beneficiary_ids)),
        E("Origin", country=m.origin[0], location=m.origin[1]),
        E("Destination", country=m.destination[0], location=m.destination[1]),
        E("EarliestDeparture", m.earliest_departure.isoformat()),
        E("Escort", type=m.escort),
        E("FitToTravel", "true" if m.fit_to_travel else "false"),
        *([_legs(m.legs)] if m.legs else []),  # zero legs: the element is left out
        E("Status", m.status),
        E("Remarks", m.remarks or ""),  # free text, here empty
    )


def _legs(legs: Any) -> etree._Element:
    return E(
        "Legs",
        *(
            E(
                "Leg",
                E("Sequence", str(leg.sequence)),
                E("Carrier", leg.carrier),
                E("FlightNumber", leg.flight_number),
                E("From", leg.from_location),
                E("To", leg.to_location),
                E("Departure", _stamp(leg.departure)),
                E("Arrival", _stamp(leg.arrival)),
            )
            for leg in legs
        ),
    )


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# -- reading requests: children in the contract's order, required ones required ----------------

Spec = list[tuple[str, int, Callable[[etree._Element], Any]]]
"""(local name, 1 if required / 0 if optional / 2 if repeated, reader of the element)."""


def _read(parent: etree._Element, spec: Spec) -> list[Any]:
    """The values of ``parent``'s children by ``spec``; a missing, unknown or misplaced child is VALIDATION."""
    children = [child for child in parent.iterchildren(etree.Element)]
    values, index = [], 0
    for name, need, reader in spec:
        found = []
        while index < len(children) and children[index].tag == f"{{{NS}}}{name}":
            found.append(children[index])
            index += 1
            if need != 2:
                break
        if need == 1 and not found:
            raise invalid(name)
        try:
            read = [reader(element) for element in found]
        except (ValueError, TypeError):
            raise invalid(name) from None
        values.append(read if need == 2 else (read[0] if read else None))
    if index < len(children):
        raise invalid(etree.QName(children[index]).localname)
    return values


def _text(element: etree._Element) -> str:
    if len(element) or not (element.text or "").strip():
        raise ValueError("empty")
    return element.text.strip()


def _reference(element: etree._Element) -> str:
    text = element.text or ""
    if not 1 <= len(text) <= 64 or len(element):
        raise ValueError("reference")
    return text


def _date(element: etree._Element) -> date:
    return _xs_date(_text(element))


def _xs_date(text: str) -> date:
    """An xs:date: YYYY-MM-DD, perhaps with a time zone (which a date keeps no use for)."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?", text)
    if match is None:
        raise ValueError("not an xs:date")
    return date.fromisoformat(match.group(1))


def _moment_of(element: etree._Element) -> datetime:
    return _moment(_text(element))


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def _boolean(element: etree._Element) -> bool:
    return {"true": True, "1": True, "false": False, "0": False}[_text(element)]


def _alpha3(element: etree._Element) -> str:
    return _pattern_alpha3(_text(element))


def _pattern_alpha3(text: str | None, lower: bool = False) -> str:
    if (
        text is None
        or len(text) != 3
        or not text.isascii()
        or not text.isalpha()
        or text != (text.lower() if lower else text.upper())
    ):
        raise ValueError("a three-letter code")
    return text


def _bounded(low: int, high: int | None) -> Callable[[etree._Element], int]:
    def read(element: etree._Element) -> int:
        value = int(_text(element))
        if value < low or (high is not None and value > high):
            raise ValueError("out of range")
        return value

    return read


def _choice(codes: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in codes:
            raise ValueError("not a code")
        return value

    return check


def _code(codes: tuple[str, ...]) -> Callable[[etree._Element], str]:
    return lambda element: _choice(codes)(_text(element))


def _attribute(element: etree._Element, name: str, check: Callable[[str], Any]) -> Any:
    """An attribute's value; a missing or bad one names its element (a Field names elements)."""
    value = element.get(name)
    try:
        if value is None:
            raise ValueError("missing")
        return check(value)
    except ValueError:
        raise invalid(etree.QName(element).localname) from None


def _nonblank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


def _empty(element: etree._Element) -> etree._Element:
    """An element whose content is its attributes."""
    if len(element) or (element.text or "").strip():
        raise ValueError("content")
    return element


def _read_name(element: etree._Element) -> list[Any]:
    return _read(element, [("FamilyName", 1, _text), ("GivenName", 1, _text), ("MiddleName", 0, _text)])


def _read_birth(element: etree._Element) -> tuple[date, bool]:
    estimated = element.get("estimated", "false")
    if estimated not in ("true", "false", "1", "0"):
        raise ValueError("estimated")
    return _date(element), estimated in ("true", "1")


def _read_document(element: etree._Element) -> Document:
    types = ("PASSPORT", "NATIONAL_ID", "TRAVEL_DOCUMENT", "LAISSEZ_PASSER", "OTHER")
    _empty(element)
    expires = element.get("expires")
    return Document(
        type=_attribute(element, "type", _choice(types)),
        number=_attribute(element, "number", _nonblank),
        issuing_country=_attribute(element, "issuingCountry", _pattern_alpha3),
        expires=None if expires is None else _attribute(element, "expires", _xs_date),
    )


def _read_beneficiary(element: etree._Element) -> Beneficiary:
    vulnerabilities = ("VOT", "UAM", "SMC", "MED", "OTH")
    (
        beneficiary_id,
        mission,
        name,
        sex,
        birth,
        nationality,
        documents,
        languages,
        codes,
        project,
        version,
        _modified,
    ) = _read(
        element,
        [
            ("BeneficiaryId", 0, _text),
            ("MissionCode", 1, _text),
            ("Name", 1, _read_name),
            ("Sex", 1, _code(("F", "M", "X", "U"))),
            ("BirthDate", 0, _read_birth),
            ("Nationality", 0, _alpha3),
            ("Documents", 1, lambda e: _read(e, [("Document", 2, _read_document)])[0]),
            ("Languages", 1, lambda e: _read(e, [("Language", 2, lambda x: _pattern_alpha3(_text(x), lower=True))])[0]),
            ("Vulnerabilities", 1, lambda e: _read(e, [("Code", 2, _code(vulnerabilities))])[0]),
            ("ProjectCode", 0, _text),
            ("RecordVersion", 0, _bounded(1, None)),
            ("LastModified", 0, _moment_of),  # the host's: ignored in a request
        ],
    )
    if beneficiary_id and version is None:
        raise invalid("RecordVersion")  # an update names the version it changes
    return Beneficiary(
        beneficiary_id=beneficiary_id or "",
        mission_code=mission,
        family_name=name[0],
        given_name=name[1],
        middle_name=name[2],
        sex=sex,
        birth_date=birth[0] if birth else None,
        birth_date_estimated=bool(birth and birth[1]),
        nationality=nationality,
        documents=documents,
        languages=languages,
        vulnerabilities=codes,
        project_code=project,
        record_version=version or 0,
    )


def _place(element: etree._Element) -> tuple[str, str]:
    _empty(element)
    return _attribute(element, "country", _pattern_alpha3), _attribute(element, "location", _pattern_alpha3)


def _read_movement(element: etree._Element) -> Movement:
    values = _read(
        element,
        [
            ("MovementId", 0, _text),
            ("MissionCode", 1, _text),
            ("ProjectCode", 1, _text),
            ("MovementType", 1, _code(("AVRR", "RST", "OTHER"))),
            ("Beneficiaries", 1, lambda e: _read(e, [("BeneficiaryId", 2, _text)])[0]),
            ("Origin", 1, _place),
            ("Destination", 1, _place),
            ("EarliestDeparture", 1, _date),
            ("Escort", 1, lambda e: _attribute(_empty(e), "type", _choice(ESCORTS))),
            ("FitToTravel", 1, _boolean),
            ("Legs", 0, lambda e: e),  # may be empty: the travel desk sets the legs
            ("Status", 0, _code(STATUSES)),
            ("Remarks", 0, lambda e: e.text or ""),
        ],
    )
    if values[0] is not None:
        raise invalid("MovementId")  # absent in a request
    if values[11] is not None:
        raise invalid("Status")  # a new booking starts as REQUESTED
    if not values[4]:
        raise invalid("BeneficiaryId")  # one or more
    return Movement(
        movement_id="",
        mission_code=values[1],
        project_code=values[2],
        movement_type=values[3],
        beneficiary_ids=values[4],
        origin=values[5],
        destination=values[6],
        earliest_departure=values[7],
        escort=values[8],
        fit_to_travel=values[9],
        remarks=values[12],
    )


# -- HTTP ------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timed out, hung up) is no error of the host's; anything else is shown."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(host: ContractHost) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        """The headers and each chunk are written apart: with Nagle's algorithm each answer after the first on a
        keep-alive connection would wait for the client's delayed ACK (40 ms), as no production server does."""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's signature
            """Quiet: a request line may hold a record's id."""

        def do_GET(self) -> None:
            self._send(404, b"not served here\n", "text/plain")

        def do_POST(self) -> None:
            service = self.path.split("?")[0].rstrip("/").rsplit("/soap/", 1)[-1]
            if not self.path.startswith("/soap/") or service not in SERVICES:
                self._send(404, b"no such service\n", "text/plain")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if host.faults.latency:
                threading.Event().wait(host.faults.latency)
            try:
                if length > 8 * MAX_BODY:  # not even read: the connection closes after the fault
                    self.close_connection = True
                    raise Fault("VALIDATION", "the request is larger than 2 MB")
                body = self.rfile.read(length)
                answer, status = host.answer(service, body, self.headers.get("SOAPAction")), 200
            except Fault as fault:
                answer, status = host.fault_envelope(fault), 503 if fault.code == "UNAVAILABLE" else 500
            except Dropped:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self._send(status, answer, "text/xml; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            framing = host.framing
            if framing == "mixed":
                framing = ("chunked", "close")[next(host._answers) % 2]
            if framing == "close":
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            middle = len(body) // 2  # two chunks, so the framing is really used
            for part in (body[:middle], body[middle:]):
                self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")

    return Handler
