from datetime import datetime

import pytest

from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.adapters.mimosa.errors import HostMismatch, HostProtocolError
from ctm_plugin.adapters.mimosa.testing import answer, envelope, loopback
from ctm_plugin.security import xml

NOWHERE = Connection("http://127.0.0.1:1/", "ctm-tha", "s3cret-pass")


def changes(changed_at: str) -> bytes:
    return envelope(
        "<h:GetMovementChangesResponse><h:NextToken>7</h:NextToken><h:MovementChange>"
        "<h:MovementId>MOV-0000001</h:MovementId><h:Status>BOOKED</h:Status>"
        f"<h:ChangedAt>{changed_at}</h:ChangedAt></h:MovementChange></h:GetMovementChangesResponse>"
    )


def test_the_password_is_not_in_the_connections_repr() -> None:
    assert "s3cret-pass" not in repr(NOWHERE)


def test_only_the_expected_record_element_is_sent() -> None:
    record = xml.parse(b'<Beneficiary xmlns="urn:mimosa:host:v1"/>')
    with pytest.raises(ValueError, match="MovementRequest"):
        HostClient(NOWHERE).book_movement(record, "ref-1")


def test_a_naive_modified_since_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="aware"):
        HostClient(NOWHERE).find_beneficiaries(modified_since=datetime(2026, 1, 1))


def test_change_times_come_back_in_utc() -> None:
    with loopback(answer(200, changes("2026-11-28T16:30:00+07:00"))) as server:
        batch = HostClient(Connection(server.base_url, "ctm-tha", "x")).get_movement_changes()
    assert batch.next_token == "7" and batch.changes[0].client_reference is None
    assert batch.changes[0].changed_at.isoformat() == "2026-11-28T09:30:00+00:00"


def test_a_change_time_without_a_zone_is_a_protocol_error() -> None:
    with loopback(answer(200, changes("2026-11-28T16:30:00"))) as server, pytest.raises(HostProtocolError):
        HostClient(Connection(server.base_url, "ctm-tha", "x")).get_movement_changes()


def found(movement: str) -> bytes:
    return envelope(
        f"<h:FindMovementByReferenceResponse><h:Movement>{movement}</h:Movement></h:FindMovementByReferenceResponse>"
    )


def test_a_lookup_is_read_for_what_reconciliation_needs_whatever_else_it_leaves_out_or_adds() -> None:
    """No ProjectCode, Origin or EarliestDeparture, an element of the host's own: still the booking."""
    lax = found(
        "<h:MovementId>MOV-0000009</h:MovementId><h:MissionCode>THA</h:MissionCode>"
        "<h:Beneficiaries><h:BeneficiaryId>BEN-1000006</h:BeneficiaryId></h:Beneficiaries>"
        "<h:Status>REQUESTED</h:Status><h:HostOwnNote>x</h:HostOwnNote>"
    )
    with loopback(answer(200, lax)) as server:
        movement = HostClient(Connection(server.base_url, "ctm-tha", "x")).find_movement_by_reference("ref-1")
    assert (movement.movement_id, movement.status, movement.beneficiary_ids) == (
        "MOV-0000009",
        "REQUESTED",
        ("BEN-1000006",),
    )


@pytest.mark.parametrize(
    "movement",
    [
        "<h:Status>REQUESTED</h:Status>",  # no MovementId
        "<h:MovementId>MOV-0000009</h:MovementId><h:Status>LOST</h:Status>",  # no status the contract defines
        "<h:MovementId> </h:MovementId><h:Status>REQUESTED</h:Status>",
    ],
)
def test_a_lookup_without_what_reconciliation_needs_cannot_be_read(movement: str) -> None:
    with loopback(answer(200, found(movement))) as server, pytest.raises(HostProtocolError):
        HostClient(Connection(server.base_url, "ctm-tha", "x")).find_movement_by_reference("ref-1")


def test_a_search_of_one_mission_answered_with_another_missions_record_is_refused() -> None:
    page = envelope(
        "<h:FindBeneficiariesResponse><h:TotalCount>1</h:TotalCount><h:Page>1</h:Page><h:Beneficiary>"
        "<h:BeneficiaryId>BEN-2000001</h:BeneficiaryId><h:MissionCode>KHM</h:MissionCode>"
        "</h:Beneficiary></h:FindBeneficiariesResponse>"
    )
    with loopback(answer(200, page)) as server, pytest.raises(HostMismatch) as caught:
        HostClient(Connection(server.base_url, "ctm-tha", "x")).find_beneficiaries(mission_code="THA")
    assert (caught.value.asked, caught.value.got) == ("THA", "KHM")


def test_an_update_answered_for_another_beneficiary_is_refused() -> None:
    saved = envelope(
        "<h:SaveBeneficiaryResponse><h:BeneficiaryId>BEN-1000002</h:BeneficiaryId>"
        "<h:RecordVersion>4</h:RecordVersion></h:SaveBeneficiaryResponse>"
    )
    record = xml.parse(
        b'<Beneficiary xmlns="urn:mimosa:host:v1"><BeneficiaryId>BEN-1000001</BeneficiaryId></Beneficiary>'
    )
    with loopback(answer(200, saved)) as server, pytest.raises(HostMismatch):
        HostClient(Connection(server.base_url, "ctm-tha", "x")).save_beneficiary(record, "ref-1")
