"""The partner service over real HTTP on loopback, with zeep as the partner's client (the WSDL partners get), for
partners made as the mission administrator makes them (services/partners.py: a credential issued, an agreement
drafted and approved by HQ): referrals and follow-ups stored only within the agreement, idempotent by the
partner's reference, every refusal a fault naming its reason with nothing stored but the exchange on the
partner's page, replays and hostile XML refused, the rate limit per partner."""

from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta

import pytest
import requests
import sqlalchemy as sa
import zeep
from hostile_xml import corpus
from lxml import etree
from partner_rows import BIRTH, NAME, NEEDS, NOTE, Ngo, approve, as_user, partner
from soap_faults import host_fault

from ctm_plugin.adapters import partner_service
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.partner_service import InboundReferral, PartnerFollowUp, PartnerNonce
from ctm_plugin.domain.partners import Credential, Partner, PartnerExchange
from ctm_plugin.services import partners

NS = partner_service.NS
FAULT = f"{{{NS}}}PartnerFault"
TODAY = date.today()


@pytest.fixture
def ngo(live_host) -> Ngo:  # noqa: ANN001
    """THA's partner, its agreement (version 1) in force."""
    return partner(live_host.rt)


@pytest.fixture
def service(partner_client, ngo: Ngo):  # noqa: ANN001, ANN201 - tests/conftest.py's
    """``service(username, secret)`` → a zeep service of the partner service, as :func:`ngo` by default."""

    def make(username: str = ngo.username, secret: str = ngo.secret):  # noqa: ANN202
        return partner_client(username, secret)

    return make


def fault(call, *args, **kwargs) -> tuple[str, str, list[str]]:  # noqa: ANN001, ANN002, ANN003
    with pytest.raises(zeep.exceptions.Fault) as raised:
        call(*args, **kwargs)
    return host_fault(raised.value, FAULT)


def fields(values: dict[str, str]) -> dict:
    return {"Field": [{"Name": name, "Value": value} for name, value in values.items()]}


def rows(rt, model) -> list:  # noqa: ANN001
    with rt.factory() as s:
        return list(s.scalars(sa.select(model).order_by(model.id)))


def exchanges(rt) -> list[tuple]:  # noqa: ANN001
    """The exchanges the partner's page lists: (operation, reference, agreement's version, outcome)."""
    return [(e.operation, e.reference, e.agreement_version, e.outcome) for e in rows(rt, PartnerExchange)]


def audited(rt) -> list[str]:  # noqa: ANN001
    with rt.factory() as s:
        return list(
            s.scalars(
                sa.select(AuditEvent.username).where(AuditEvent.action == "partner.exchange").order_by(AuditEvent.id)
            )
        )


def test_a_referral_is_received_pending_sealed_and_audited_and_its_status_read_back(  # noqa: ANN001
    service, ngo, live_host
) -> None:
    client = service()
    answer = client.SubmitReferral(
        PartnerReference="REF-1", Purpose="ReferralAssistance", Fields=fields({NAME: "Mali", NEEDS: "shelter"})
    )
    assert (answer.PartnerReference, answer.Status, answer.AgreementVersion) == ("REF-1", "pending", 1)
    [stored] = rows(live_host.rt, InboundReferral)
    assert (stored.mission_code, stored.partner_id, stored.status) == ("THA", ngo.id, "pending")
    assert stored.payload == {NAME: "Mali", NEEDS: "shelter"}
    assert "Mali" not in stored.payload_sealed  # sealed at rest
    status = client.GetReferralStatus(PartnerReference="REF-1")
    assert (status.Status, status.ReceivedAt) == ("pending", answer.ReceivedAt)
    assert exchanges(live_host.rt) == [
        ("SubmitReferral", "REF-1", 1, "received"),
        ("GetReferralStatus", "REF-1", 1, "pending"),
    ]
    assert audited(live_host.rt) == [f"partner:{ngo.username}"] * 2


def test_the_partners_page_lists_what_it_exchanged_and_under_which_version(service, ngo, live_host) -> None:  # noqa: ANN001
    service().SubmitReferral(PartnerReference="REF-P", Purpose="ReferralAssistance", Fields=fields({NEEDS: "food"}))
    shown = partners.partner_file(as_user(live_host.rt, "admin"), ngo.id).exchanges
    assert [(e.direction, e.operation, e.reference, e.agreement_version) for e in shown] == [
        ("in", "SubmitReferral", "REF-P", 1)
    ]


def test_the_same_reference_and_payload_answers_as_before_and_another_payload_is_refused(service, live_host) -> None:  # noqa: ANN001
    client = service()
    first = client.SubmitReferral(
        PartnerReference="REF-2", Purpose="ReferralAssistance", Fields=fields({BIRTH: "2009"})
    )
    again = client.SubmitReferral(
        PartnerReference="REF-2", Purpose="ReferralAssistance", Fields=fields({BIRTH: "2009"})
    )
    assert again.ReceivedAt == first.ReceivedAt
    assert fault(
        client.SubmitReferral, PartnerReference="REF-2", Purpose="ReferralAssistance", Fields=fields({BIRTH: "2008"})
    ) == ("soap:Client", "REFERENCE_REUSED", ["PartnerReference"])
    assert len(rows(live_host.rt, InboundReferral)) == 1
    assert [e[3] for e in exchanges(live_host.rt)] == ["received", "repeated", "REFERENCE_REUSED"]


def test_fields_outside_the_allow_list_are_refused_by_name_and_only_the_refusal_is_kept_never_a_value(  # noqa: ANN001
    service, ngo, live_host, caplog
) -> None:
    client = service()
    with caplog.at_level(logging.WARNING, logger="ctm_plugin.partner_service.security"):
        refused = fault(
            client.SubmitReferral,
            PartnerReference="REF-3",
            Purpose="ReferralAssistance",
            Fields=fields({NAME: "Mali", "person.family_name": "Somchai", "passport_number": "X1234567"}),
        )
    assert refused == ("soap:Client", "FIELD_NOT_AGREED", ["passport_number", "person.family_name"])
    assert rows(live_host.rt, InboundReferral) == []
    assert exchanges(live_host.rt) == [("SubmitReferral", "REF-3", 1, "FIELD_NOT_AGREED")]
    [line] = [r.getMessage() for r in caplog.records if r.name == "ctm_plugin.partner_service.security"]
    assert "FIELD_NOT_AGREED" in line and ngo.username in line and "THA" in line
    assert "X1234567" not in caplog.text and "Mali" not in caplog.text and "Somchai" not in caplog.text


def test_a_purpose_the_agreement_lacks_a_day_outside_its_dates_or_no_agreement_is_refused(  # noqa: ANN001
    service, ngo, partner_client, live_host
) -> None:
    client = service()
    assert fault(
        client.SubmitReferral, PartnerReference="REF-4", Purpose="ReferralLawEnforcement", Fields=fields({NEEDS: "x"})
    ) == ("soap:Client", "PURPOSE_NOT_AGREED", ["Purpose"])
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert approve(live_host.rt, ngo.id, valid_from=tomorrow) == 2  # supersedes version 1 from tomorrow on
    assert fault(
        client.SubmitReferral, PartnerReference="REF-4", Purpose="ReferralAssistance", Fields=fields({NEEDS: "x"})
    )[:2] == ("soap:Client", "OUTSIDE_AGREEMENT_DATES")
    newcomer = partner(live_host.rt, agreed=False)
    assert fault(
        partner_client(newcomer.username, newcomer.secret).SubmitReferral,
        PartnerReference="REF-4",
        Purpose="ReferralAssistance",
        Fields=fields({NEEDS: "x"}),
    )[:2] == ("soap:Client", "NO_AGREEMENT")
    assert rows(live_host.rt, InboundReferral) == []
    assert [(e[2], e[3]) for e in exchanges(live_host.rt)] == [
        (1, "PURPOSE_NOT_AGREED"),
        (None, "OUTSIDE_AGREEMENT_DATES"),
        (None, "NO_AGREEMENT"),
    ]


def test_a_suspended_partner_is_refused_at_once_and_an_unknown_or_wrong_secret_fails_alike(  # noqa: ANN001
    service, ngo, live_host
) -> None:
    with live_host.rt.factory() as s:
        version = s.get_one(Partner, ngo.id).version
    partners.set_status(as_user(live_host.rt, "admin"), ngo.id, {"action": "suspend", "version": str(version)})
    assert fault(service().GetReferralStatus, PartnerReference="REF-1")[:2] == ("soap:Client", "SUSPENDED")
    unauthorized = ("soap:Client", "UNAUTHORIZED", [])
    assert fault(service("ctm-tha-nobody").GetReferralStatus, PartnerReference="REF-1") == unauthorized
    assert fault(service(secret="not-the-secret").GetReferralStatus, PartnerReference="REF-1") == unauthorized
    assert exchanges(live_host.rt) == [("GetReferralStatus", "REF-1", 1, "SUSPENDED")]  # the others: no one's


def test_a_partner_of_a_mission_where_the_ctm_is_off_is_no_ones(service, live_host) -> None:  # noqa: ANN001
    with live_host.rt.factory() as s, s.begin():  # MDA has no CTM user to add it: the rows as they would be
        row = Partner(mission_code="MDA", name="Elsewhere", kind="NGO", contact="x", status="active")
        row.created_by, row.created_at = "admin", utcnow()
        s.add(row)
        s.flush()
        s.add(
            Credential(
                mission_code="MDA",
                partner_id=row.id,
                username="ctm-mda-elsewhere",
                secret="mda-secret",
                valid_from=utcnow() - timedelta(minutes=1),
                created_by="admin",
            )
        )
    with live_host.rt.factory() as s, s.begin():
        assert partners.credential_for(s, "ctm-mda-elsewhere") is not None  # it exists, in MDA
    assert fault(service("ctm-mda-elsewhere", "mda-secret").GetReferralStatus, PartnerReference="R") == (
        "soap:Client",
        "UNAUTHORIZED",
        [],
    )


def test_during_a_rotation_both_credentials_are_valid(service, ngo, live_host) -> None:  # noqa: ANN001
    new_username, new_secret = partners.issue_credential(as_user(live_host.rt, "admin"), ngo.id)
    service().SubmitReferral(PartnerReference="REF-5", Purpose="ReferralAssistance", Fields=fields({NEEDS: "x"}))
    assert service(new_username, new_secret).GetReferralStatus(PartnerReference="REF-5").Status == "pending"


def test_a_replayed_message_is_refused_even_once_the_first_was_answered(service, live_host) -> None:  # noqa: ANN001
    client = service()
    message = client.client.create_message(
        client, "SubmitReferral", PartnerReference="REF-6", Purpose="ReferralAssistance", Fields=fields({NEEDS: "x"})
    )
    body = etree.tostring(message)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NS}/SubmitReferral"'}
    first = requests.post(client.url, data=body, headers=headers, timeout=10)
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    replay = requests.post(client.url, data=body, headers=headers, timeout=10)
    assert host_fault(replay.content, FAULT)[:2] == ("soap:Client", "REPLAYED")
    assert len(rows(live_host.rt, InboundReferral)) == 1


def test_a_follow_up_is_stored_under_its_referral_within_the_follow_up_purpose(service, live_host) -> None:  # noqa: ANN001
    client = service()
    client.SubmitReferral(PartnerReference="REF-7", Purpose="ReferralAssistance", Fields=fields({NEEDS: "x"}))
    answer = client.SubmitFollowUp(ReferralReference="REF-7", FollowUpReference="FU-1", Fields=fields({NOTE: "housed"}))
    assert (answer.FollowUpReference, answer.AgreementVersion) == ("FU-1", 1)
    again = client.SubmitFollowUp(ReferralReference="REF-7", FollowUpReference="FU-1", Fields=fields({NOTE: "housed"}))
    assert again.ReceivedAt == answer.ReceivedAt
    [follow_up] = rows(live_host.rt, PartnerFollowUp)
    assert follow_up.payload == {NOTE: "housed"} and "housed" not in follow_up.payload_sealed
    assert fault(
        client.SubmitFollowUp, ReferralReference="REF-7", FollowUpReference="FU-2", Fields=fields({BIRTH: "2009"})
    ) == ("soap:Client", "FIELD_NOT_AGREED", [BIRTH])
    assert fault(
        client.SubmitFollowUp, ReferralReference="NONE", FollowUpReference="FU-3", Fields=fields({NOTE: "x"})
    ) == ("soap:Client", "NOT_FOUND", ["ReferralReference"])
    assert len(rows(live_host.rt, PartnerFollowUp)) == 1


def test_the_rate_limit_refuses_a_partner_past_its_requests_per_minute(service, live_host, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(partner_service.RATE_LIMIT_ENV, "3")
    client = service()
    client.SubmitReferral(PartnerReference="REF-8", Purpose="ReferralAssistance", Fields=fields({NEEDS: "x"}))
    for _ in range(2):
        client.GetReferralStatus(PartnerReference="REF-8")
    assert fault(client.GetReferralStatus, PartnerReference="REF-8")[:2] == ("soap:Client", "RATE_LIMITED")
    assert exchanges(live_host.rt)[-1] == ("GetReferralStatus", None, 1, "RATE_LIMITED")
    other = partner(live_host.rt)  # another partner of the mission keeps its own count
    assert fault(service(other.username, other.secret).GetReferralStatus, PartnerReference="REF-8")[1] == "NOT_FOUND"


def test_hostile_xml_is_refused_before_anything_is_stored(service, live_host, listener, tmp_path) -> None:  # noqa: ANN001
    canary = tmp_path / "canary.txt"
    secret = f"CANARY-{secrets.token_hex(8)}"
    canary.write_text(secret)
    client = service()

    def valid() -> bytes:
        return etree.tostring(
            client.client.create_message(
                client,
                "SubmitReferral",
                PartnerReference="hostile",
                Purpose="ReferralAssistance",
                Fields=fields({NEEDS: "x"}),
            )
        )

    for name, (payload, extra) in corpus(valid, str(canary), listener.getsockname()[1]).items():
        response = requests.post(client.url, data=payload, headers={"Content-Type": "text/xml", **extra}, timeout=10)
        assert response.status_code in (400, 413, 500), name
        assert host_fault(response.content, FAULT)[:2] in (("soap:Client", "VALIDATION"), ("soap:Client", "TOO_LARGE"))
        assert secret.encode() not in response.content, name
    chunks = iter([b" " * 256 * 1024] * 3)  # no Content-Length: the limit holds on what is read
    chunked = requests.post(client.url, data=chunks, headers={"Content-Type": "text/xml"}, timeout=10)
    assert chunked.status_code == 413 and host_fault(chunked.content, FAULT)[1] == "TOO_LARGE"
    assert rows(live_host.rt, InboundReferral) == []
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection ever reached the loopback listener
    client.SubmitReferral(PartnerReference="hostile", Purpose="ReferralAssistance", Fields=fields({NEEDS: "x"}))
    assert len(rows(live_host.rt, InboundReferral)) == 1
    assert len(rows(live_host.rt, PartnerNonce)) > 1  # the refused ones that authenticated spent their nonce


def _screened(live_host, login_to, reference: str) -> tuple:  # noqa: ANN001
    """The caseworker's browser on the inbox, and the page of the referral ``reference``."""
    caseworker = login_to(live_host.app, "caseworker")
    [referral] = [r for r in rows(live_host.rt, InboundReferral) if r.partner_reference == reference]
    page = caseworker.get(f"/m/THA/plugins/ctm/referrals/{referral.id}")
    assert page.status_code == 200 and "Safe Harbour Shelter" in page.get_data(as_text=True)
    return caseworker, f"/m/THA/plugins/ctm/referrals/{referral.id}"


def test_a_shelters_referral_accepted_into_a_case_in_the_page_reads_back_accepted(  # noqa: ANN001
    service, live_host, login_to
) -> None:
    client = service()
    client.SubmitReferral(
        PartnerReference="REF-A", Purpose="ReferralAssistance", Fields=fields({NAME: "Mali", BIRTH: "2009-04-01"})
    )
    caseworker, page = _screened(live_host, login_to, "REF-A")
    today = TODAY.isoformat()
    accepted = caseworker.post(
        f"{page}/accept", {"opened_on": today, "consent_given_on": today, "consent_method": "Written"}
    )
    assert accepted.status_code == 303
    status = client.GetReferralStatus(PartnerReference="REF-A")
    assert (status.Status, status.DeclineReason) == ("accepted", None)
    [stored] = rows(live_host.rt, InboundReferral)
    assert stored.case_id is not None and stored.decided_at is not None
    assert exchanges(live_host.rt)[1:] == [
        ("DecideReferral", "REF-A", 1, "accepted"),
        ("GetReferralStatus", "REF-A", 1, "accepted"),
    ]


def test_a_referral_declined_in_the_page_reads_back_declined_with_its_reason(service, live_host, login_to) -> None:  # noqa: ANN001
    client = service()
    client.SubmitReferral(PartnerReference="REF-D", Purpose="ReferralAssistance", Fields=fields({NEEDS: "shelter"}))
    caseworker, page = _screened(live_host, login_to, "REF-D")
    refused = caseworker.post(f"{page}/decline", {"reason": ""})
    assert refused.status_code == 422 and client.GetReferralStatus(PartnerReference="REF-D").Status == "pending"
    assert caseworker.post(f"{page}/decline", {"reason": "No place for a family this month."}).status_code == 303
    status = client.GetReferralStatus(PartnerReference="REF-D")
    assert (status.Status, status.DeclineReason) == ("declined", "No place for a family this month.")
