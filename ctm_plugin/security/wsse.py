"""WS-Security UsernameToken with PasswordDigest, nonce and timestamp: how a partner's machine authenticates
each message to the partner service (adapters/partner_service.py). No X.509.

The header accepted (OASIS 2004 namespaces; children in any order), as the host's own services take it::

    <wsse:Security>
      <wsse:UsernameToken>
        <wsse:Username>ngo-tha-1</wsse:Username>
        <wsse:Password Type="…#PasswordDigest">digest</wsse:Password>
        <wsse:Nonce EncodingType="…#Base64Binary">nonce</wsse:Nonce>
        <wsu:Created>2026-12-06T09:00:00Z</wsu:Created>
      </wsse:UsernameToken>
      <wsu:Timestamp><wsu:Created>…</wsu:Created><wsu:Expires>…</wsu:Expires> (optional)</wsu:Timestamp>
    </wsse:Security>

PasswordDigest = Base64(SHA-1(nonce bytes + Created as sent + password)); the nonce is 8 to 64 bytes; both
Created values carry a zone and lie within :data:`WINDOW` of the clock. The digest is checked against every
secret the partner's credential holds (two during a rotation), each in constant time. Remembering the nonce
(a replay is refused) is the service's, in the mission's own table. Why a header is refused stays here
(:class:`Refused`'s text, for the security log); the partner hears only that authentication failed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"  # noqa: S105 - a type URI
BASE64_BINARY = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
WINDOW = timedelta(minutes=5)
NONCE_BYTES = range(8, 65)


class Refused(Exception):
    """Why a header is refused, in a few words without any of its values."""


@dataclass(frozen=True)
class UsernameToken:
    username: str
    digest: str
    nonce: bytes
    created: str

    @property
    def nonce_text(self) -> str:
        return base64.b64encode(self.nonce).decode()


def digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()  # noqa: S324 - the profile's digest


def matches(token: UsernameToken, secrets: Iterable[str]) -> bool:
    """Whether the token's digest is that of one of ``secrets``; every secret is tried, each in constant time."""
    found = False
    for secret in secrets:
        found |= hmac.compare_digest(digest(token.nonce, token.created, secret).encode(), token.digest.encode())
    return found


def read(header: etree._Element | None, now: datetime) -> UsernameToken:
    """The UsernameToken of a SOAP header, fresh at ``now``; :class:`Refused` otherwise."""
    security = _one(header, f"{{{WSSE}}}Security")
    token = _one(security, f"{{{WSSE}}}UsernameToken")
    password = _one(token, f"{{{WSSE}}}Password")
    if password.get("Type") != PASSWORD_DIGEST:
        raise Refused("not a PasswordDigest")
    nonce = _one(token, f"{{{WSSE}}}Nonce")
    if nonce.get("EncodingType") not in (None, BASE64_BINARY):
        raise Refused("nonce encoding")
    try:
        nonce_bytes = base64.b64decode((nonce.text or "").strip(), validate=True)
    except binascii.Error:
        raise Refused("nonce not base64") from None
    if len(nonce_bytes) not in NONCE_BYTES:
        raise Refused("nonce length")
    created = _text(_one(token, f"{{{WSU}}}Created"))
    _fresh(created, now)
    timestamp = _one(security, f"{{{WSU}}}Timestamp")
    _fresh(_text(_one(timestamp, f"{{{WSU}}}Created")), now)
    for expires in _all(timestamp, f"{{{WSU}}}Expires", at_most=1):
        if _instant(_text(expires)) <= now:
            raise Refused("expired")
    username = _text(_one(token, f"{{{WSSE}}}Username"))
    if len(username) > 80:
        raise Refused("username too long")
    return UsernameToken(username, _text(password), nonce_bytes, created)


def _all(parent: etree._Element | None, tag: str, at_most: int) -> list[etree._Element]:
    found = [] if parent is None else parent.findall(tag)
    if len(found) > at_most:
        raise Refused(f"more than {at_most} {etree.QName(tag).localname}")
    return found


def _one(parent: etree._Element | None, tag: str) -> etree._Element:
    found = _all(parent, tag, at_most=1)
    if not found:
        raise Refused(f"no {etree.QName(tag).localname}")
    return found[0]


def _text(element: etree._Element) -> str:
    value = (element.text or "").strip()
    if not value:
        raise Refused(f"empty {etree.QName(element).localname}")
    return value


def _instant(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Refused("not a date and time") from None
    if parsed.tzinfo is None:
        raise Refused("no time zone")
    return parsed


def _fresh(value: str, now: datetime) -> None:
    if abs(_instant(value) - now) > WINDOW:
        raise Refused("outside the window")
