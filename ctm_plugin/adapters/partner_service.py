"""The partner service: what partner organisations' machines send a mission, over SOAP (docs/partners.md).

WSDL-first: ``ctm_plugin/web/partner_service/partners.wsdl`` (+ ``partners.xsd``), namespace
``urn:ctm:partners:v1``, served through the host's machine-route contract (``mimosa_machine_routes``) at
``POST /machine/ctm/partners``: no session, no cookie, no CSRF token; the host refuses a body over
:data:`MAX_BYTES` before anything here reads it.

:func:`authenticate` (acting for the plugin, before any mission is known): the body through the CTM's one
hardened XML parse path (security/xml.py: no DOCTYPE, no entity, UTF-8 only), the WS-Security UsernameToken
(security/wsse.py) read, its username found in whichever mission holds it (services/partners.py
``credential_for``, in a session of no mission: on PostgreSQL through ctm0028's read-only lookup policy) and its
digest checked against every valid secret of the credential; a mission where the CTM is off has no partners.
It writes nothing (the host's plugin-wide context reads only). Then, first in :func:`handle`, in the partner's
mission, its nonce is recorded (a replay is refused, even one of a message that failed),
and the partner's requests of the last minute counted from those nonces: over its limit (:func:`rate_limit`),
the request is refused. The limit is persisted (the nonces are rows), so it holds across processes.

:func:`handle` (acting in that mission, as the partner): the operation, in one transaction:

- ``SubmitReferral``: a pending inbound referral (domain/partner_service.py), its fields sealed; the same
  reference with the same purpose and fields answers as the first time; with others, a fault;
- ``GetReferralStatus``: pending, accepted or declined (with the reason the mission gave);
- ``SubmitFollowUp``: a follow-up report on a referral the partner made, idempotent by its own reference.

A suspended partner, no approved agreement or one whose dates leave out today, a purpose the agreement does not
name, a field outside the purpose's allow-list, a reference reused with another payload, malformed XML or a message
off the schema: refused with a fault whose code and message name the reason (and the fields at fault), nothing
stored but the exchange (below) and a line of the security log, which names the mission, the partner's username, the
operation and the code, never a value sent. Every exchange of an authenticated partner, answered or refused (the
fault's code as its outcome), is recorded (services/partners.py ``record_exchange``: the partner's page and the
mission's audit trail, with the agreement's version).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.partner_service import NONCE_KEPT, InboundReferral, PartnerFollowUp, PartnerNonce
from ctm_plugin.domain.partners import FOLLOW_UP, HAND_OVER, INBOUND, REFERRAL_ASSISTANCE, REFERRAL_LAW_ENFORCEMENT
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.security import wsse, xml
from ctm_plugin.services import partners
from ctm_plugin.services.base import unit_of_work
from mimosa_host.plugin_api import (
    MachinePrincipal,
    MachineRequest,
    MachineResponse,
    MachineRoute,
    RequestContext,
    UserRef,
)

log = logging.getLogger(__name__)
security_log = logging.getLogger("ctm_plugin.partner_service.security")

NS = "urn:ctm:partners:v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FILES = Path(__file__).resolve().parents[1] / "web" / "partner_service"
WSDL = FILES / "partners.wsdl"
XSD = FILES / "partners.xsd"
PATH = "/partners"
MAX_BYTES = 512 * 1024
"""A referral is a few hundred fields at most; the host refuses a larger body before it is read whole."""

RATE_LIMIT_ENV = "CTM_PARTNER_RATE_LIMIT"
DEFAULT_RATE_LIMIT = 60
RATE_PERIOD = timedelta(minutes=1)
PRUNED_AT_ONCE = 200
"""Stale nonces deleted by one request: more than one request adds, so the table stays small."""

REFERRAL_PURPOSES = (REFERRAL_ASSISTANCE, REFERRAL_LAW_ENFORCEMENT, HAND_OVER)
"""The agreement's purposes (domain/partners.py) a referral is sent under; a follow-up, under ``FollowUp``."""
UNKNOWN_OPERATION = "-"
"""An exchange's operation when the request named none the service has."""
RECEIVED = "received"
REPEATED = "repeated"
"""Outcomes of an exchange as recorded: a new submission, or the same one sent again (answered as before)."""


class Fault(Exception):
    """A refusal the partner reads: ``code`` for its machine, ``message`` in English words, the fields at fault.

    The message never quotes what was sent."""

    def __init__(self, code: str, message: str, fields: tuple[str, ...] = (), http_status: int = 500) -> None:
        super().__init__(code, message)
        self.code, self.message, self.fields, self.http_status = code, message, fields, http_status


def _unauthorized() -> Fault:
    return Fault("UNAUTHORIZED", "Authentication failed")


REFUSALS = {
    400: "VALIDATION",
    403: "UNAUTHORIZED",
    413: "TOO_LARGE",
}


def route() -> MachineRoute:
    return MachineRoute(PATH, ("POST",), MAX_BYTES, authenticate, handle, refuse)


def refuse(status: int, reason: str) -> MachineResponse:
    """The host's own refusals (too large, compressed, a mission where the CTM is off, a failure) as faults."""
    code = REFUSALS.get(status, "SERVER_ERROR")
    message = "Authentication failed" if code == "UNAUTHORIZED" else reason
    return _fault_response(Fault(code, message, http_status=status))


# -- the envelope ---------------------------------------------------------------------------


def _envelope(request: MachineRequest) -> tuple[etree._Element | None, etree._Element]:
    """(the Header or None, the one request element of the Body) of a SOAP 1.1 envelope."""
    try:
        root = xml.parse(request.body, max_bytes=MAX_BYTES)
    except xml.HostileXML as refused:
        raise Fault("VALIDATION", _english(refused), http_status=400) from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise Fault("VALIDATION", "Not a SOAP 1.1 envelope", ("Envelope",))
    parts = [child.tag for child in root]
    if parts not in ([f"{{{SOAP_ENV}}}Body"], [f"{{{SOAP_ENV}}}Header", f"{{{SOAP_ENV}}}Body"]):
        raise Fault("VALIDATION", "The envelope must hold an optional Header and a Body", ("Body",))
    body = root[-1]
    if len(body) != 1 or (body.text or "").strip() or (body[0].tail or "").strip():
        raise Fault("VALIDATION", "The Body must hold exactly one request element", ("Body",))
    return (root[0] if len(root) == 2 else None), body[0]


def _english(refused: xml.HostileXML) -> str:
    return refused.msgid % refused.params if refused.params else refused.msgid


def _wrap(body: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<soap:Envelope xmlns:soap="'
        + SOAP_ENV.encode()
        + b'"><soap:Body>'
        + body
        + b"</soap:Body></soap:Envelope>"
    )


def _fault_response(fault: Fault) -> MachineResponse:
    element = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soap": SOAP_ENV})
    side = "Server" if fault.code == "SERVER_ERROR" else "Client"
    etree.SubElement(element, "faultcode").text = f"soap:{side}"
    etree.SubElement(element, "faultstring").text = fault.message
    detail = etree.SubElement(etree.SubElement(element, "detail"), f"{{{NS}}}PartnerFault", nsmap={None: NS})
    etree.SubElement(detail, f"{{{NS}}}Code").text = fault.code
    etree.SubElement(detail, f"{{{NS}}}Message").text = fault.message
    for name in fault.fields:
        etree.SubElement(detail, f"{{{NS}}}Field").text = name
    return MachineResponse(_wrap(etree.tostring(element)), fault.http_status)


def _refused(fault: Fault, mission: str, username: str, operation: str) -> MachineResponse:
    """The security log's line (codes and names only) and the fault."""
    security_log.warning(
        "partner request refused: mission=%s partner=%s operation=%s code=%s fields=%s",
        mission or "-",
        username or "-",
        operation or "-",
        fault.code,
        ",".join(fault.fields) or "-",
    )
    return _fault_response(fault)


# -- authentication ---------------------------------------------------------------------------


def rate_limit() -> int:
    """Requests a partner may make in a minute: ``CTM_PARTNER_RATE_LIMIT`` (a whole number of at least 1), else
    :data:`DEFAULT_RATE_LIMIT`."""
    text = os.environ.get(RATE_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_RATE_LIMIT
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{RATE_LIMIT_ENV} must be a whole number of at least 1, not {text!r}")
    return int(text)


def authenticate(ctx: RequestContext, request: MachineRequest) -> MachinePrincipal | MachineResponse:
    """The partner's mission and username, or the fault refusing the request (see the module's docstring)."""
    now = utcnow()
    try:
        header, element = _envelope(request)
    except Fault as fault:
        return _refused(fault, "", "", "")
    operation = etree.QName(element).localname
    try:
        token = wsse.read(header, now)
    except wsse.Refused as why:
        security_log.warning("partner authentication refused: operation=%s reason=%s", operation, why)
        return _fault_response(_unauthorized())
    with ctx.session_factory() as s, s.begin():  # no mission yet: the username tells which
        credential = partners.credential_for(s, token.username)
    if credential is None or credential.mission_code not in {m.code for m in ctx.plugin_missions}:
        return _refused(_unauthorized(), "", token.username, operation)
    mission = credential.mission_code
    if not wsse.matches(token, credential.secrets):
        return _refused(_unauthorized(), mission, token.username, operation)
    return MachinePrincipal(mission, token.username)


def _as_partner(ctx: RequestContext, username: str) -> RequestContext:
    """``ctx`` acting as the partner (its audit events name ``partner:<username>``)."""
    return dataclasses.replace(ctx, user=UserRef(0, f"partner:{username}", username))


def _remember(ctx: RequestContext, username: str, token: wsse.UsernameToken, now: datetime) -> int:
    """In the partner's mission: the nonce recorded (committed; a replay is refused), the stale ones pruned, and
    the partner's requests in the last minute, this one included."""
    try:
        with mission_session(ctx) as s, s.begin():
            credential = partners.credential_for(s, username)
            if credential is None:
                raise _unauthorized()  # retired since the request was authenticated
            stale = s.scalars(
                sa.select(PartnerNonce).where(PartnerNonce.seen_at < now - NONCE_KEPT).limit(PRUNED_AT_ONCE)
            )
            for row in stale:
                s.delete(row)
            s.add(
                PartnerNonce(
                    mission_code=ctx.mission.code,
                    partner_id=credential.partner_id,
                    username=token.username,
                    nonce=token.nonce_text,
                    seen_at=now,
                )
            )
            s.flush()
            return (
                s.scalar(
                    sa.select(sa.func.count(PartnerNonce.id)).where(
                        PartnerNonce.partner_id == credential.partner_id, PartnerNonce.seen_at > now - RATE_PERIOD
                    )
                )
                or 0
            )
    except sa.exc.IntegrityError:
        raise Fault("REPLAYED", "This message was received before") from None


# -- the operations -------------------------------------------------------------------------------

Operation = Callable[[Session, RequestContext, partners.PartnerCredential, etree._Element, datetime], etree._Element]


def handle(ctx: RequestContext, request: MachineRequest, principal: MachinePrincipal) -> MachineResponse:
    """One operation for the authenticated partner, in its mission (see the module's docstring)."""
    mission, username, operation, reference, now = ctx.mission.code, principal.name, "", None, utcnow()
    as_partner = _as_partner(ctx, username)
    header, element = _envelope(request)  # read by authenticate already: no fault here
    operation = etree.QName(element).localname
    try:
        counted = _remember(as_partner, username, wsse.read(header, now), now)
    except wsse.Refused:  # its Created went stale since authenticate read it
        return _fault_response(_unauthorized())
    except Fault as fault:
        return _refused(fault, mission, username, operation)
    if counted > rate_limit():
        limited = Fault("RATE_LIMITED", "Too many requests: wait a minute", http_status=429)
        _record_refusal(as_partner, username, operation, None, limited)
        return _refused(limited, mission, username, operation)
    try:
        name = etree.QName(element)
        run = OPERATIONS.get(operation) if name.namespace == NS else None
        if run is None:
            raise Fault("VALIDATION", "The service has no such operation", (operation,))
        action = request.headers.get("SOAPAction", "").strip().strip('"')
        if action and action != f"{NS}/{operation}":
            raise Fault("VALIDATION", "The SOAPAction does not match the request element")
        _validate(element)
        reference = _text(element, "FollowUpReference") or _text(element, "PartnerReference")
        return MachineResponse(_wrap(etree.tostring(_run(run, as_partner, username, element))))
    except Fault as fault:
        _record_refusal(as_partner, username, operation, reference, fault)
        return _refused(fault, mission, username, operation)


def _record_refusal(ctx: RequestContext, username: str, operation: str, reference: str | None, fault: Fault) -> None:
    """A refusal of the authenticated partner as an exchange of its mission (the partner's page shows it), under
    the agreement in force if any; the operation by its name only if the service has it, the reference only once
    the request matched the schema."""
    with unit_of_work(ctx) as s:
        credential = partners.credential_for(s, username)
        if credential is None:
            return  # retired since the request was authenticated: the security log has it
        agreement = partners.agreement_in_force(s, credential.partner_id, mission_today(ctx.settings))
        _exchange(
            s,
            ctx,
            credential,
            operation if operation in OPERATIONS else UNKNOWN_OPERATION,
            reference,
            agreement.version if agreement else None,
            fault.code,
        )


def _run(run: Operation, ctx: RequestContext, username: str, element: etree._Element) -> etree._Element:
    """The operation in one transaction; run again once if it lost a race (one reference sent twice at once):
    the second run finds the first's row and answers as for a repeat."""
    for attempt in range(2):
        try:
            with unit_of_work(ctx) as s:
                credential = partners.credential_for(s, username)
                if credential is None:
                    raise _unauthorized()  # retired since the request was authenticated
                if credential.partner_status != partners.ACTIVE:
                    raise Fault("SUSPENDED", "The partner's access is suspended")
                return run(s, ctx, credential, element, utcnow())
        except sa.exc.IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def submit_referral(
    s: Session, ctx: RequestContext, credential: partners.PartnerCredential, element: etree._Element, now: datetime
) -> etree._Element:
    reference, purpose = _text(element, "PartnerReference"), _text(element, "Purpose")
    fields = _fields(element)
    if purpose not in REFERRAL_PURPOSES:
        raise Fault("VALIDATION", "The purpose is not one a referral is made for", ("Purpose",))
    sent = Sent(reference, "PartnerReference", purpose, fields, _hash({"purpose": purpose, "fields": fields}))
    referral, outcome = _receive(s, ctx, credential, InboundReferral, sent, now, purpose=purpose)
    _exchange(s, ctx, credential, "SubmitReferral", reference, referral.agreement_version, outcome)
    return _answer("SubmitReferralResponse", _status(referral))


def get_referral_status(
    s: Session, ctx: RequestContext, credential: partners.PartnerCredential, element: etree._Element, _now: datetime
) -> etree._Element:
    reference = _text(element, "PartnerReference")
    referral = _referral(s, credential, reference, "PartnerReference")
    _exchange(s, ctx, credential, "GetReferralStatus", reference, referral.agreement_version, referral.status)
    return _answer("GetReferralStatusResponse", _status(referral))


def submit_follow_up(
    s: Session, ctx: RequestContext, credential: partners.PartnerCredential, element: etree._Element, now: datetime
) -> etree._Element:
    referral = _referral(s, credential, _text(element, "ReferralReference"), "ReferralReference")
    reference, fields = _text(element, "FollowUpReference"), _fields(element)
    digest = _hash({"referral": referral.partner_reference, "fields": fields})
    sent = Sent(reference, "FollowUpReference", FOLLOW_UP, fields, digest)
    follow_up, outcome = _receive(s, ctx, credential, PartnerFollowUp, sent, now, referral_id=referral.id)
    _exchange(s, ctx, credential, "SubmitFollowUp", reference, follow_up.agreement_version, outcome)
    answer = etree.Element(f"{{{NS}}}SubmitFollowUpResponse", nsmap={None: NS})
    etree.SubElement(answer, f"{{{NS}}}FollowUpReference").text = follow_up.partner_reference
    etree.SubElement(answer, f"{{{NS}}}AgreementVersion").text = str(follow_up.agreement_version)
    etree.SubElement(answer, f"{{{NS}}}ReceivedAt").text = follow_up.received_at.isoformat()
    return answer


OPERATIONS: dict[str, Operation] = {
    "SubmitReferral": submit_referral,
    "GetReferralStatus": get_referral_status,
    "SubmitFollowUp": submit_follow_up,
}


def _agreement(
    s: Session, ctx: RequestContext, credential: partners.PartnerCredential, purpose: str, fields: dict[str, str]
) -> partners.Agreement:
    """The agreement in force today (the mission's) that names ``purpose`` and allows every one of ``fields``."""
    agreement = partners.agreement_in_force(s, credential.partner_id, mission_today(ctx.settings))
    if agreement is None:
        if partners.has_approved_agreement(s, credential.partner_id):
            raise Fault("OUTSIDE_AGREEMENT_DATES", "The sharing agreement with the partner is not in force today")
        raise Fault("NO_AGREEMENT", "No sharing agreement with the partner is in force today")
    allowed = agreement.purposes.get(purpose)
    if allowed is None:
        raise Fault("PURPOSE_NOT_AGREED", "The sharing agreement does not cover this purpose", ("Purpose",))
    outside = tuple(sorted(set(fields) - allowed.fields))
    if outside:
        raise Fault("FIELD_NOT_AGREED", "The sharing agreement does not allow these fields for the purpose", outside)
    return agreement


Stored = TypeVar("Stored", InboundReferral, PartnerFollowUp)


@dataclasses.dataclass(frozen=True)
class Sent:
    """What a partner submits under its own reference: the purpose it is sent for, its fields and their hash."""

    reference: str
    reference_field: str
    """The element the reference came in, named in a fault."""
    purpose: str
    fields: dict[str, str]
    digest: str


def _by_reference(
    s: Session, model: type[Stored], credential: partners.PartnerCredential, reference: str
) -> Stored | None:
    return s.scalar(
        sa.select(model).where(model.partner_id == credential.partner_id, model.partner_reference == reference)
    )


def _receive(
    s: Session,
    ctx: RequestContext,
    credential: partners.PartnerCredential,
    model: type[Stored],
    sent: Sent,
    now: datetime,
    **columns: Any,
) -> tuple[Stored, str]:
    """(the row, ``received``) for a new reference, stored within the agreement; (the row, ``repeated``) for the same
    sent again; a fault for the reference sent before with other content (which would the partner mean?)."""
    before = _by_reference(s, model, credential, sent.reference)
    if before is not None:
        if before.payload_hash != sent.digest:
            reused = "This reference was sent before with other content"
            raise Fault("REFERENCE_REUSED", reused, (sent.reference_field,))
        return before, REPEATED
    agreement = _agreement(s, ctx, credential, sent.purpose, sent.fields)
    row = model(
        mission_code=ctx.mission.code,
        partner_id=credential.partner_id,
        partner_reference=sent.reference,
        payload_hash=sent.digest,
        agreement_version=agreement.version,
        received_at=now,
        **columns,
    )
    row.payload = sent.fields
    s.add(row)
    s.flush()
    return row, RECEIVED


def _referral(s: Session, credential: partners.PartnerCredential, reference: str, field: str) -> InboundReferral:
    referral = _by_reference(s, InboundReferral, credential, reference)
    if referral is None:
        raise Fault("NOT_FOUND", "No referral of the partner has this reference", (field,))
    return referral


def _exchange(
    s: Session,
    ctx: RequestContext,
    credential: partners.PartnerCredential,
    operation: str,
    reference: str | None,
    agreement_version: int | None,
    outcome: str,
) -> None:
    partners.record_exchange(s, ctx, credential.partner_id, INBOUND, operation, reference, agreement_version, outcome)


def _status(referral: InboundReferral) -> etree._Element:
    status = etree.Element(f"{{{NS}}}Referral")
    etree.SubElement(status, f"{{{NS}}}PartnerReference").text = referral.partner_reference
    etree.SubElement(status, f"{{{NS}}}Status").text = referral.status
    if referral.decline_reason:
        etree.SubElement(status, f"{{{NS}}}DeclineReason").text = referral.decline_reason
    etree.SubElement(status, f"{{{NS}}}AgreementVersion").text = str(referral.agreement_version)
    etree.SubElement(status, f"{{{NS}}}ReceivedAt").text = referral.received_at.isoformat()
    return status


def _answer(name: str, child: etree._Element) -> etree._Element:
    answer = etree.Element(f"{{{NS}}}{name}", nsmap={None: NS})
    answer.append(child)
    return answer


def _text(element: etree._Element, name: str) -> str:
    return (element.findtext(f"{{{NS}}}{name}") or "").strip()


def _fields(element: etree._Element) -> dict[str, str]:
    """The Fields as name → value; a name given twice is refused (which value would be meant?)."""
    fields: dict[str, str] = {}
    for field in element.iterfind(f"{{{NS}}}Fields/{{{NS}}}Field"):
        name = _text(field, "Name")
        if name in fields:
            raise Fault("VALIDATION", "A field is given twice", (name,))
        fields[name] = field.findtext(f"{{{NS}}}Value") or ""
    return fields


def _hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# -- the schema -------------------------------------------------------------------------------

_schema: etree.XMLSchema | None = None
_schema_lock = threading.Lock()
"""One compiled validator for the process; lxml's is not to be shared between threads at once."""
_ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z]+)'")


def _validate(element: etree._Element) -> None:
    """The request element against the XSD; ``xsi:`` attributes refused first (the schema alone decides)."""
    for node in element.iter():
        if any(etree.QName(name).namespace == XSI for name in node.attrib):
            raise Fault("VALIDATION", "xsi attributes are not allowed", (etree.QName(node).localname,))
    global _schema  # noqa: PLW0603 - the process's one compiled validator
    with _schema_lock:
        if _schema is None:
            _schema = etree.XMLSchema(xml.parse_file(XSD))
        if _schema.validate(element):
            return
        fields = dict.fromkeys(m.group(1) for e in _schema.error_log if (m := _ELEMENT.search(e.message)))
    raise Fault("VALIDATION", "The request does not match the schema", tuple(fields))
