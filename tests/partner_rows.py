"""Partners of the partner service's tests (tests/plugin, tests/property), made as the mission administrator
makes them (services/partners.py: the partner added, a credential issued) with an agreement HQ approved."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from ctm_plugin.adapters import partner_service
from ctm_plugin.domain.partner_service import InboundReferral
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.security import wsse
from ctm_plugin.services import partners
from mimosa_host.context import build_context
from mimosa_host.models import Mission, User
from mimosa_host.plugin_api import MachinePrincipal, MachineRequest, RequestContext
from mimosa_host.runtime import Runtime

NAME, BIRTH, NEEDS, WHERE = "person.given_name", "person.birth_date", "referral.needs", "person.current_location"
NOTE, STATUS = "follow_up.note", "follow_up.status"
SHELTER = {"name": "Safe Harbour Shelter", "kind": "Shelter", "contact": "intake@safe-harbour.example"}


def terms(**changes: object) -> dict[str, object]:
    """The drafting form of the tests' agreement: in force from yesterday for a year, a referral for assistance of
    four fields, a follow-up of two; ``changes`` over it."""
    today = date.today()
    form: dict[str, object] = {
        "valid_from": (today - timedelta(days=1)).isoformat(),
        "valid_until": (today + timedelta(days=365)).isoformat(),
        "purposes": ["ReferralAssistance", "FollowUp"],
        "fields_ReferralAssistance": [NAME, BIRTH, NEEDS, WHERE],
        "consent_ReferralAssistance": "Referral",
        "fields_FollowUp": [NOTE, STATUS],
        "consent_FollowUp": "Services",
    }
    return {**form, **changes}


@dataclass(frozen=True)
class Ngo:
    id: int
    username: str
    secret: str


def as_user(rt: Runtime, username: str, mission: str = "THA") -> RequestContext:
    with rt.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == username))
        return build_context(s, rt.host, rt.factory, s.get(Mission, mission), user, "en", plugin="ctm")[0]


def approve(rt: Runtime, partner_id: int, mission: str = "THA", **changes: object) -> int:
    """A new version of the partner's agreement (:func:`terms` with ``changes``) drafted, then approved by HQ."""
    admin = as_user(rt, "admin", mission)
    partners.draft_agreement(admin, partner_id, terms(**changes))
    draft = partners.partner_file(admin, partner_id).draft
    assert draft is not None
    return partners.approve_agreement(as_user(rt, "hq"), mission, draft.id)


def partner(rt: Runtime, mission: str = "THA", *, agreed: bool = True) -> Ngo:
    """A partner of ``mission`` added by its administrator, with a credential and (``agreed``) its agreement."""
    admin = as_user(rt, "admin", mission)
    partner_id = partners.add_partner(admin, SHELTER)
    username, secret = partners.issue_credential(admin, partner_id)
    if agreed:
        approve(rt, partner_id, mission)
    return Ngo(partner_id, username, secret)


def signed(body: str, username: str, secret: str) -> bytes:
    """A SOAP envelope of ``body`` (the Body's content) with a fresh UsernameToken digest and timestamp, as a
    partner's client sends it (zeep's, in the service's tests)."""
    nonce, created = os.urandom(16), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    password = f'<wsse:Password Type="{wsse.PASSWORD_DIGEST}">{wsse.digest(nonce, created, secret)}</wsse:Password>'
    nonce_text = f'<wsse:Nonce EncodingType="{wsse.BASE64_BINARY}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
    return f"""<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="{partner_service.NS}"
 xmlns:wsse="{wsse.WSSE}" xmlns:wsu="{wsse.WSU}"><soap:Header><wsse:Security><wsse:UsernameToken>
<wsse:Username>{username}</wsse:Username>{password}{nonce_text}<wsu:Created>{created}</wsu:Created>
</wsse:UsernameToken><wsu:Timestamp><wsu:Created>{created}</wsu:Created></wsu:Timestamp></wsse:Security></soap:Header>
<soap:Body>{body}</soap:Body></soap:Envelope>""".encode()


def refer(rt: Runtime, ngo: Ngo, reference: str, fields: dict[str, str], mission: str = "THA") -> int:
    """The id of the referral for assistance ``ngo`` submits through the partner service with ``fields``, signed as
    its client sends it."""
    sent = "".join(
        f"<p:Field><p:Name>{name}</p:Name><p:Value>{value}</p:Value></p:Field>" for name, value in fields.items()
    )
    body = (
        f"<p:SubmitReferral><p:PartnerReference>{reference}</p:PartnerReference><p:Purpose>ReferralAssistance"
        f"</p:Purpose><p:Fields>{sent}</p:Fields></p:SubmitReferral>"
    )
    with rt.factory() as s:
        ctx = build_context(s, rt.host, rt.factory, s.get(Mission, mission), None, "en", plugin="ctm")[0]
    request = MachineRequest("POST", partner_service.PATH, {}, signed(body, ngo.username, ngo.secret))
    answer = partner_service.handle(ctx, request, MachinePrincipal(mission, ngo.username))
    assert answer.status == 200, answer.body
    with mission_session(ctx) as s:  # the mission's own rows, as the application's database role reads them too
        return s.scalars(sa.select(InboundReferral.id).where(InboundReferral.partner_reference == reference)).one()
