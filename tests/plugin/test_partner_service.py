"""The partner service over real HTTP on loopback, with zeep as the partner's client (the WSDL partners get):
referrals and follow-ups stored only within the agreement, idempotent by the partner's reference, every refusal a
fault naming its reason with nothing stored, replays and hostile XML refused, the rate limit per partner."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import requests
import sqlalchemy as sa
import zeep
from hostile_xml import corpus
from lxml import etree
from soap_faults import host_fault

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.partner_service import InboundReferral, PartnerFollowUp, PartnerNonce
from ctm_plugin.services import partner_service, partners
from ctm_plugin.services.partners import Agreement, PartnerCredential, Purpose

NS = partner_service.NS
FAULT = f"{{{NS}}}PartnerFault"
SECRET = "ngo-secret-2026-a"
FIELDS = frozenset({"given_name", "age", "needs", "location"})
TODAY = date.today()


def agreement(version: int = 1, *, purposes: dict[str, Purpose] | None = None, until: date | None = None) -> Agreement:
    return Agreement(
        version=version,
        purposes=purposes
        or {
            "referral_assistance": Purpose(FIELDS, "assistance"),
            "follow_up_report": Purpose(frozenset({"note", "status"}), "assistance"),
        },
        valid_from=TODAY - timedelta(days=30),
        valid_until=TODAY + timedelta(days=30) if until is None else until,
    )


def partner(
    username: str = "ngo-tha",
    *,
    mission: str = "THA",
    partner_id: int = 7,
    secrets_: tuple[str, ...] = (SECRET,),
    status: str = partners.ACTIVE,
    agreements: tuple[Agreement, ...] = (agreement(3),),
) -> None:
    partners.register(PartnerCredential(partner_id, mission, username, secrets_, status), *agreements)


@pytest.fixture
def service(partner_client) -> Iterator:  # noqa: ANN001 - tests/conftest.py's
    """``service(username, secret)`` → a zeep service of the partner service; THA's partner ``ngo-tha`` (id 7)
    exists with agreement version 3 in force."""
    partner()
    return partner_client


def fault(call, *args, **kwargs) -> tuple[str, str, list[str]]:  # noqa: ANN001, ANN002, ANN003
    with pytest.raises(zeep.exceptions.Fault) as raised:
        call(*args, **kwargs)
    return host_fault(raised.value, FAULT)


def fields(**values: str) -> dict:
    return {"Field": [{"Name": name, "Value": value} for name, value in values.items()]}


def rows(rt, model) -> list:  # noqa: ANN001
    with rt.factory() as s:
        return list(s.scalars(sa.select(model).order_by(model.id)))


def exchanges(rt) -> list[str]:  # noqa: ANN001
    with rt.factory() as s:
        return list(
            s.scalars(
                sa.select(AuditEvent.username).where(AuditEvent.action == "partner.exchange").order_by(AuditEvent.id)
            )
        )


def test_a_referral_is_received_pending_sealed_and_audited_and_its_status_read_back(service, live_host) -> None:  # noqa: ANN001
    ngo = service()
    answer = ngo.SubmitReferral(
        PartnerReference="REF-1", Purpose="referral_assistance", Fields=fields(given_name="Mali", needs="shelter")
    )
    assert (answer.PartnerReference, answer.Status, answer.AgreementVersion) == ("REF-1", "pending", 3)
    [stored] = rows(live_host.rt, InboundReferral)
    assert (stored.mission_code, stored.partner_id, stored.status) == ("THA", 7, "pending")
    assert stored.payload == {"given_name": "Mali", "needs": "shelter"}
    assert "Mali" not in stored.payload_sealed  # sealed at rest
    status = ngo.GetReferralStatus(PartnerReference="REF-1")
    assert (status.Status, status.ReceivedAt) == ("pending", answer.ReceivedAt)
    assert exchanges(live_host.rt) == ["partner:ngo-tha", "partner:ngo-tha"]


def test_the_same_reference_and_payload_answers_as_before_and_another_payload_is_refused(service, live_host) -> None:  # noqa: ANN001
    ngo = service()
    first = ngo.SubmitReferral(PartnerReference="REF-2", Purpose="referral_assistance", Fields=fields(age="17"))
    again = ngo.SubmitReferral(PartnerReference="REF-2", Purpose="referral_assistance", Fields=fields(age="17"))
    assert again.ReceivedAt == first.ReceivedAt
    assert fault(
        ngo.SubmitReferral, PartnerReference="REF-2", Purpose="referral_assistance", Fields=fields(age="18")
    ) == ("soap:Client", "REFERENCE_REUSED", ["PartnerReference"])
    assert len(rows(live_host.rt, InboundReferral)) == 1


def test_fields_outside_the_allow_list_are_refused_by_name_and_nothing_is_stored_nor_logged(  # noqa: ANN001
    service, live_host, caplog
) -> None:
    ngo = service()
    with caplog.at_level(logging.WARNING, logger="ctm_plugin.partner_service.security"):
        refused = fault(
            ngo.SubmitReferral,
            PartnerReference="REF-3",
            Purpose="referral_assistance",
            Fields=fields(given_name="Mali", passport_number="X1234567", religion="none"),
        )
    assert refused == ("soap:Client", "FIELD_NOT_AGREED", ["passport_number", "religion"])
    assert rows(live_host.rt, InboundReferral) == [] and exchanges(live_host.rt) == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "ctm_plugin.partner_service.security"]
    assert "FIELD_NOT_AGREED" in line and "ngo-tha" in line and "THA" in line
    assert "X1234567" not in caplog.text and "Mali" not in caplog.text


def test_a_purpose_the_agreement_lacks_or_a_day_outside_it_is_refused(service, live_host) -> None:  # noqa: ANN001
    ngo = service()
    assert fault(
        ngo.SubmitReferral, PartnerReference="REF-4", Purpose="referral_law_enforcement", Fields=fields(age="30")
    ) == ("soap:Client", "PURPOSE_NOT_AGREED", ["Purpose"])
    partner(agreements=(agreement(4, until=TODAY - timedelta(days=1)),))  # the only agreement ended yesterday
    assert fault(ngo.SubmitReferral, PartnerReference="REF-4", Purpose="referral_assistance", Fields=fields(age="30"))[
        :2
    ] == ("soap:Client", "NO_AGREEMENT")
    assert rows(live_host.rt, InboundReferral) == []


def test_a_suspended_partner_is_refused_at_once_and_an_unknown_or_wrong_secret_fails_alike(service, live_host) -> None:  # noqa: ANN001
    partner(status=partners.SUSPENDED)
    assert fault(service().GetReferralStatus, PartnerReference="REF-1")[:2] == ("soap:Client", "SUSPENDED")
    unauthorized = ("soap:Client", "UNAUTHORIZED", [])
    assert fault(service("nobody").GetReferralStatus, PartnerReference="REF-1") == unauthorized
    assert fault(service(secret="not-the-secret").GetReferralStatus, PartnerReference="REF-1") == unauthorized
    partner("ngo-mda", mission="MDA", partner_id=8)  # MDA has the CTM off: its partners are no one's
    assert fault(service("ngo-mda").GetReferralStatus, PartnerReference="REF-1") == unauthorized


def test_during_a_rotation_both_secrets_are_valid(service) -> None:  # noqa: ANN001
    partner(secrets_=(SECRET, "ngo-secret-2026-b"))
    service().SubmitReferral(PartnerReference="REF-5", Purpose="referral_assistance", Fields=fields(age="20"))
    assert service(secret="ngo-secret-2026-b").GetReferralStatus(PartnerReference="REF-5").Status == "pending"


def test_a_replayed_message_is_refused_even_once_the_first_was_answered(service, live_host) -> None:  # noqa: ANN001
    ngo = service()
    message = ngo.client.create_message(
        ngo, "SubmitReferral", PartnerReference="REF-6", Purpose="referral_assistance", Fields=fields(age="20")
    )
    body = etree.tostring(message)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/SubmitReferral"'}
    first = requests.post(ngo.url, data=body, headers=headers, timeout=10)
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    replay = requests.post(ngo.url, data=body, headers=headers, timeout=10)
    assert host_fault(replay.content, FAULT)[:2] == ("soap:Client", "REPLAYED")
    assert len(rows(live_host.rt, InboundReferral)) == 1


def test_a_follow_up_is_stored_under_its_referral_within_the_follow_up_purpose(service, live_host) -> None:  # noqa: ANN001
    ngo = service()
    ngo.SubmitReferral(PartnerReference="REF-7", Purpose="referral_assistance", Fields=fields(age="20"))
    answer = ngo.SubmitFollowUp(ReferralReference="REF-7", FollowUpReference="FU-1", Fields=fields(note="housed"))
    assert (answer.FollowUpReference, answer.AgreementVersion) == ("FU-1", 3)
    again = ngo.SubmitFollowUp(ReferralReference="REF-7", FollowUpReference="FU-1", Fields=fields(note="housed"))
    assert again.ReceivedAt == answer.ReceivedAt
    [follow_up] = rows(live_host.rt, PartnerFollowUp)
    assert follow_up.payload == {"note": "housed"} and "housed" not in follow_up.payload_sealed
    assert fault(ngo.SubmitFollowUp, ReferralReference="REF-7", FollowUpReference="FU-2", Fields=fields(age="3")) == (
        "soap:Client",
        "FIELD_NOT_AGREED",
        ["age"],
    )
    assert fault(ngo.SubmitFollowUp, ReferralReference="NONE", FollowUpReference="FU-3", Fields=fields(note="x")) == (
        "soap:Client",
        "NOT_FOUND",
        ["ReferralReference"],
    )
    assert len(rows(live_host.rt, PartnerFollowUp)) == 1


def test_the_rate_limit_refuses_a_partner_past_its_requests_per_minute(service, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(partner_service.RATE_LIMIT_ENV, "3")
    ngo = service()
    ngo.SubmitReferral(PartnerReference="REF-8", Purpose="referral_assistance", Fields=fields(age="20"))
    for _ in range(2):
        ngo.GetReferralStatus(PartnerReference="REF-8")
    assert fault(ngo.GetReferralStatus, PartnerReference="REF-8")[:2] == ("soap:Client", "RATE_LIMITED")
    partner("ngo-tha-2", partner_id=9)  # another partner of the mission keeps its own count
    assert fault(service("ngo-tha-2").GetReferralStatus, PartnerReference="REF-8")[1] == "NOT_FOUND"


def test_hostile_xml_is_refused_before_anything_is_stored(service, live_host, listener, tmp_path) -> None:  # noqa: ANN001
    canary = tmp_path / "canary.txt"
    secret = f"CANARY-{secrets.token_hex(8)}"
    canary.write_text(secret)
    ngo = service()

    def valid() -> bytes:
        return etree.tostring(
            ngo.client.create_message(
                ngo, "SubmitReferral", PartnerReference="hostile", Purpose="referral_assistance", Fields=fields(age="1")
            )
        )

    for name, (payload, extra) in corpus(valid, str(canary), listener.getsockname()[1]).items():
        response = requests.post(ngo.url, data=payload, headers={"Content-Type": "text/xml", **extra}, timeout=10)
        assert response.status_code in (400, 413, 500), name
        assert host_fault(response.content, FAULT)[:2] in (("soap:Client", "VALIDATION"), ("soap:Client", "TOO_LARGE"))
        assert secret.encode() not in response.content, name
    chunks = iter([b" " * 256 * 1024] * 3)  # no Content-Length: the limit holds on what is read
    chunked = requests.post(ngo.url, data=chunks, headers={"Content-Type": "text/xml"}, timeout=10)
    assert chunked.status_code == 413 and host_fault(chunked.content, FAULT)[1] == "TOO_LARGE"
    assert rows(live_host.rt, InboundReferral) == []
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection ever reached the loopback listener
    ngo.SubmitReferral(PartnerReference="hostile", Purpose="referral_assistance", Fields=fields(age="1"))
    assert len(rows(live_host.rt, InboundReferral)) == 1
    assert len(rows(live_host.rt, PartnerNonce)) > 1  # the refused ones that authenticated spent their nonce
