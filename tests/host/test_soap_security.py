"""WS-Security on the SOAP services: what zeep sends is accepted; every refusal is the same
``UNAUTHORIZED`` fault and changes nothing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import requests
import sqlalchemy as sa
from lxml import etree
from zeep.wsse.username import UsernameToken

from mimosa_host.db import transaction
from mimosa_host.demo import api_credentials
from mimosa_host.models import Beneficiary, utcnow
from mimosa_host.soap import envelope, wssecurity, xml
from mimosa_host.soap.models import ApiNonce, ClientRequest
from mimosa_host.soap.wssecurity import WSU

SERVICE = "BeneficiaryService"
HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:mimosa:host:v1/SaveBeneficiary"'}
PERSON = {
    "MissionCode": "THA",
    "Name": {"FamilyName": "Roe", "GivenName": "Jane"},
    "Sex": "F",
    "Documents": {"Document": []},
    "Languages": {"Language": []},
    "Vulnerabilities": {"Code": []},
}
USERNAME, PASSWORD = api_credentials("THA")


def rows(rt) -> tuple[int, int]:  # noqa: ANN001
    with rt.factory() as s:
        return tuple(s.scalar(sa.select(sa.func.count()).select_from(m)) for m in (Beneficiary, ClientRequest))


def save(client, reference: str = "ref-1"):  # noqa: ANN001, ANN201
    return client.service.SaveBeneficiary(Beneficiary=PERSON, ClientReference=reference)


def test_zeeps_username_token_with_a_timestamp_is_accepted(soap_client, soap_token) -> None:  # noqa: ANN001
    for zulu, reference in ((False, "offset"), (True, "zulu")):
        token = soap_token(USERNAME, PASSWORD)
        token.zulu_timestamp = zulu
        assert save(soap_client(SERVICE, wsse=token), reference).RecordVersion == 1


REFUSALS = {
    "no header": lambda t: None,
    "unknown user": lambda t: t("ctm-nobody", PASSWORD),
    "wrong password": lambda t: t(USERNAME, "wrong password"),
    "created 10 min ago": lambda t: t(USERNAME, PASSWORD, offset=timedelta(minutes=-10)),
    "created in 10 min": lambda t: t(USERNAME, PASSWORD, offset=timedelta(minutes=10)),
    "no timestamp": lambda t: t(USERNAME, PASSWORD, timestamp=False),
    "password text": lambda t: UsernameToken(USERNAME, PASSWORD),
}


def test_every_refusal_is_the_same_fault_and_changes_nothing(soap_client, soap_token, soap_fault, live_host) -> None:  # noqa: ANN001
    before = rows(live_host.rt)
    for name, wsse in REFUSALS.items():
        client = soap_client(SERVICE, wsse=wsse(soap_token))
        assert soap_fault(save, client) == ("soap:Client", "UNAUTHORIZED", []), name
    assert rows(live_host.rt) == before


def _post(live_host, message: bytes) -> requests.Response:  # noqa: ANN001
    return requests.post(live_host.soap_url(SERVICE), data=message, headers=HEADERS, timeout=10)


def test_a_replayed_or_expired_message_is_refused(soap_client, live_host, soap_fault) -> None:  # noqa: ANN001
    client = soap_client(SERVICE)
    message = client.message("SaveBeneficiary", Beneficiary=PERSON, ClientReference="replay")
    assert _post(live_host, message).status_code == 200
    after_first = rows(live_host.rt)
    replay = _post(live_host, message)
    assert replay.status_code == 500  # SOAP 1.1: a fault answers with HTTP 500
    assert soap_fault(replay.content) == ("soap:Client", "UNAUTHORIZED", [])

    envelope = etree.fromstring(client.message("SaveBeneficiary", Beneficiary=PERSON, ClientReference="expired"))
    envelope.find(f".//{{{WSU}}}Timestamp/{{{WSU}}}Expires").text = (utcnow() - timedelta(seconds=1)).isoformat()
    assert soap_fault(_post(live_host, etree.tostring(envelope)).content)[1] == "UNAUTHORIZED"
    assert rows(live_host.rt) == after_first


def test_nonces_older_than_twice_the_window_are_forgotten(soap_client, live_host) -> None:  # noqa: ANN001
    with transaction(live_host.rt.factory) as s:
        s.add(ApiNonce(username=USERNAME, nonce="b2xkLW5vbmNl", seen_at=utcnow() - timedelta(minutes=11)))
    save(soap_client(SERVICE))
    with live_host.rt.factory() as s:
        nonces = s.scalars(sa.select(ApiNonce.nonce)).all()
    assert len(nonces) == 1 and nonces != ["b2xkLW5vbmNl"]


def test_a_message_whose_operation_failed_cannot_be_replayed(soap_client, live_host, soap_fault) -> None:  # noqa: ANN001
    client = soap_client(SERVICE)
    stale = {**PERSON, "RecordVersion": 3}  # a RecordVersion without a BeneficiaryId: refused by the operation
    message = client.message("SaveBeneficiary", Beneficiary=stale, ClientReference="refused")
    assert soap_fault(_post(live_host, message).content)[1:] == ("VALIDATION", ["RecordVersion"])
    assert soap_fault(_post(live_host, message).content)[1:] == ("UNAUTHORIZED", [])


def _waiting_on_a_lock(rt) -> bool:  # noqa: ANN001
    with rt.engine.connect() as conn:
        return bool(conn.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def test_a_replay_racing_the_first_message_is_refused_once_the_first_commits(
    soap_client, live_host, soap_fault
) -> None:  # noqa: ANN001
    """The first message's nonce is in its transaction, not yet committed, when the replay arrives: the
    replay waits for that transaction and is refused, and saves nothing (the first message, here only its
    nonce, saves nothing either). On SQLite writers take turns, so the replay simply comes after it."""
    message = soap_client(SERVICE).message("SaveBeneficiary", Beneficiary=PERSON, ClientReference="race")
    header, _body = envelope.split(xml.parse(message))
    before = rows(live_host.rt)
    replies: list[requests.Response] = []
    with transaction(live_host.rt.factory) as first:
        wssecurity.authenticate(first, header, utcnow())  # the first message's nonce, in flight
        replay = threading.Thread(target=lambda: replies.append(_post(live_host, message)))
        replay.start()
        if live_host.rt.engine.dialect.name == "postgresql":  # the replay waits on the first one's nonce row
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock(live_host.rt) and time.monotonic() < deadline:
                pass
            assert _waiting_on_a_lock(live_host.rt)
    replay.join(timeout=30)
    assert soap_fault(replies[0].content) == ("soap:Client", "UNAUTHORIZED", [])
    assert rows(live_host.rt) == before


def test_one_message_sent_twice_at_once_is_answered_once(soap_client, live_host, soap_fault) -> None:  # noqa: ANN001
    message = soap_client(SERVICE).message("SaveBeneficiary", Beneficiary=PERSON, ClientReference="twice")
    before = rows(live_host.rt)
    start, replies = threading.Barrier(2, timeout=30), []

    def send() -> None:
        start.wait()
        replies.append(_post(live_host, message))

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=30)
    assert sorted(reply.status_code for reply in replies) == [200, 500]
    assert soap_fault(next(r for r in replies if r.status_code == 500).content)[1] == "UNAUTHORIZED"
    assert rows(live_host.rt) == (before[0] + 1, before[1] + 1)
