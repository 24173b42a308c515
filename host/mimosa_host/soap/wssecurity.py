"""WS-Security: UsernameToken with PasswordDigest, and a Timestamp, on every request.

The header the host accepts (OASIS 2004 namespaces; children in any order)::

    <wsse:Security>
      <wsse:UsernameToken>
        <wsse:Username>ctm-tha</wsse:Username>
        <wsse:Password Type="…username-token-profile-1.0#PasswordDigest">digest</wsse:Password>
        <wsse:Nonce EncodingType="…soap-message-security-1.0#Base64Binary">nonce</wsse:Nonce>
        <wsu:Created>2026-11-28T09:00:00+00:00</wsu:Created>
      </wsse:UsernameToken>
      <wsu:Timestamp>
        <wsu:Created>2026-11-28T09:00:00Z</wsu:Created>
        <wsu:Expires>2026-11-28T09:05:00Z</wsu:Expires>   (optional)
      </wsu:Timestamp>
    </wsse:Security>

digest = base64(SHA-1(nonce bytes + Created as sent + password)); the nonce is 8 to 64 bytes.
Both Created values carry a zone and lie within 5 minutes of the host's clock; Expires, if
sent, has not passed. A nonce is remembered (per user) for twice that window, which covers
every Created the host would still accept; a repeat is refused. Whatever fails, the caller
gets the same ``soap:Client`` fault, code ``UNAUTHORIZED``, with HTTP 500 as every SOAP 1.1
fault (not 401: clients handle one kind of failed answer).

The nonce is recorded first in the call's one transaction (:mod:`.app`), and committed even when
the operation fails: a replay is refused then too. Its unique row makes a replay racing the first
message wait for that transaction's end, then fail.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session

from .call import Caller
from .envelope import Fault
from .models import ApiNonce, ApiUser, ApiUserMission

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"  # noqa: S105 - a type URI
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
WINDOW = timedelta(minutes=5)
NONCE_BYTES = range(8, 65)


class _Refused(Exception):
    """Why a header is refused; kept to the host, the caller only hears UNAUTHORIZED."""


def _unauthorized() -> Fault:
    return Fault("UNAUTHORIZED", "Authentication failed")


@dataclass(frozen=True)
class _Token:
    username: str
    digest: str
    nonce: bytes
    created: str


def authenticate(session: Session, header: etree._Element | None, now: datetime) -> Caller:
    """The caller named by a valid header; its nonce is added to the session (flushed)."""
    try:
        token = _read(header, now)
    except _Refused:
        raise _unauthorized() from None
    user = session.get(ApiUser, token.username)
    # An unknown user, or one whose sealed password does not open (logged), costs the same digest as a known one.
    password = user.password if user is not None else None
    expected = base64.b64encode(hashlib.sha1(token.nonce + token.created.encode() + (password or "").encode()).digest())  # noqa: S324 - the profile's digest
    if not hmac.compare_digest(expected, token.digest.encode()) or user is None or password is None:
        raise _unauthorized()
    # Forgotten nonces go, but for those another call in flight is deleting (PostgreSQL: SKIP LOCKED): the call's
    # transaction lasts as long as its operation, and concurrent calls must not queue behind one another's delete.
    stale = sa.select(ApiNonce.id).where(ApiNonce.seen_at < now - 2 * WINDOW).with_for_update(skip_locked=True)
    session.execute(sa.delete(ApiNonce).where(ApiNonce.id.in_(stale)))
    session.add(ApiNonce(username=user.username, nonce=base64.b64encode(token.nonce).decode(), seen_at=now))
    try:
        session.flush()
    except sa.exc.IntegrityError:
        raise _unauthorized() from None
    missions = session.scalars(sa.select(ApiUserMission.mission_code).where(ApiUserMission.username == user.username))
    return Caller(user.username, frozenset(missions))


def _read(header: etree._Element | None, now: datetime) -> _Token:
    security = _one(header, f"{{{WSSE}}}Security")
    token = _one(security, f"{{{WSSE}}}UsernameToken")
    password = _one(token, f"{{{WSSE}}}Password")
    if password.get("Type") != PASSWORD_DIGEST:
        raise _Refused("not a PasswordDigest")
    nonce = _one(token, f"{{{WSSE}}}Nonce")
    if nonce.get("EncodingType") not in (None, BASE64_BINARY):
        raise _Refused("nonce encoding")
    try:
        nonce_bytes = base64.b64decode((nonce.text or "").strip(), validate=True)
    except binascii.Error:
        raise _Refused("nonce not base64") from None
    if len(nonce_bytes) not in NONCE_BYTES:
        raise _Refused("nonce length")
    created = _text(_one(token, f"{{{WSU}}}Created"))
    _fresh(created, now)
    timestamp = _one(security, f"{{{WSU}}}Timestamp")
    _fresh(_text(_one(timestamp, f"{{{WSU}}}Created")), now)
    for expires in _all(timestamp, f"{{{WSU}}}Expires", at_most=1):
        if _instant(_text(expires)) <= now:
            raise _Refused("expired")
    return _Token(_text(_one(token, f"{{{WSSE}}}Username")), _text(password), nonce_bytes, created)


def _all(parent: etree._Element | None, tag: str, at_most: int) -> list[etree._Element]:
    found = [] if parent is None else parent.findall(tag)
    if len(found) > at_most:
        raise _Refused(f"more than {at_most} {tag}")
    return found


def _one(parent: etree._Element | None, tag: str) -> etree._Element:
    found = _all(parent, tag, at_most=1)
    if not found:
        raise _Refused(f"no {tag}")
    return found[0]


def _text(element: etree._Element) -> str:
    value = (element.text or "").strip()
    if not value:
        raise _Refused(f"empty {element.tag!s}")
    return value


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _Refused("not a date and time") from None
    if parsed.tzinfo is None:
        raise _Refused("no time zone")
    return parsed


def _fresh(value: str, now: datetime) -> None:
    if abs(_instant(value) - now) > WINDOW:
        raise _Refused("outside the window")


def add_api_user(session: Session, username: str, password: str, missions: Iterable[str]) -> ApiUser:
    user = ApiUser(username=username)
    user.password = password  # sealed, bound to the username
    session.add(user)
    session.add_all(ApiUserMission(username=username, mission_code=code) for code in sorted(set(missions)))
    session.flush()
    return user
