"""MovementService through a real zeep client, the status rules, the change feed and the travel desk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from zeep import xsd

from mimosa_host.cli import main
from mimosa_host.db import transaction
from mimosa_host.models import Movement, utcnow
from mimosa_host.soap import travel_desk
from mimosa_host.soap.models import MovementChange
from mimosa_host.soap.movements import NEXT, InvalidTransition, transition

SERVICE = "MovementService"


def request(mission: str = "THA", beneficiaries: tuple[str, ...] = ("BEN-1000010",), **changes) -> dict:  # noqa: ANN003
    return {
        "MissionCode": mission,
        "ProjectCode": f"{mission}-CT-01",
        "MovementType": "AVRR",
        "Beneficiaries": {"BeneficiaryId": list(beneficiaries)},
        "Origin": {"country": mission, "location": "BKK"},
        "Destination": {"country": "MMR", "location": "RGN"},
        "EarliestDeparture": date(2027, 1, 15),
        "Escort": {"type": "NONE"},
        "FitToTravel": True,
        "Remarks": "synthetic",
    } | changes


def movements_count(rt) -> int:  # noqa: ANN001
    with rt.factory() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Movement))


def advance(rt, movement_id: str, *statuses: str) -> None:  # noqa: ANN001
    for status in statuses:
        with transaction(rt.factory) as s:
            transition(s, movement_id, status, now=utcnow())


@pytest.fixture
def movements(soap_client):  # noqa: ANN001, ANN201
    return soap_client(SERVICE).service


def test_book_get_find_and_cancel(movements, soap_fault) -> None:  # noqa: ANN001
    booked = movements.BookMovement(MovementRequest=request(), ClientReference="book-1")
    assert booked.MovementId.startswith("MOV-0") and booked.Status == "REQUESTED"
    movement = movements.GetMovement(MovementId=booked.MovementId)
    assert (movement.MissionCode, movement.Status, movement.Beneficiaries.BeneficiaryId) == (
        "THA",
        "REQUESTED",
        ["BEN-1000010"],
    )
    assert (movement.Origin.location, movement.Escort.type, movement.Remarks) == ("BKK", "NONE", "synthetic")
    assert movements.FindMovementByReference(ClientReference="book-1").MovementId == booked.MovementId
    assert soap_fault(movements.FindMovementByReference, ClientReference="never") == (
        "soap:Client",
        "NOT_FOUND",
        ["ClientReference"],
    )
    assert movements.CancelMovement(MovementId=booked.MovementId, Reason="BENEFICIARY_WITHDREW") == "CANCELLED"
    assert movements.GetMovement(MovementId=booked.MovementId).Status == "CANCELLED"
    assert soap_fault(movements.CancelMovement, MovementId=booked.MovementId, Reason="OTHER") == (
        "soap:Client",
        "INVALID_STATE",
        ["MovementId"],
    )


def test_booking_is_idempotent_per_client_reference(movements, live_host, soap_fault) -> None:  # noqa: ANN001
    before = movements_count(live_host.rt)
    first = movements.BookMovement(MovementRequest=request(), ClientReference="once")
    advance(live_host.rt, first.MovementId, "BOOKED")
    again = movements.BookMovement(MovementRequest=request(), ClientReference="once")
    assert (again.MovementId, again.Status) == (first.MovementId, "REQUESTED")  # the original answer
    assert movements_count(live_host.rt) == before + 1
    changed = request(Remarks="changed")
    assert soap_fault(movements.BookMovement, MovementRequest=changed, ClientReference="once") == (
        "soap:Client",
        "DUPLICATE_REFERENCE",
        ["ClientReference"],
    )
    assert movements_count(live_host.rt) == before + 1


def test_concurrent_bookings_get_distinct_ids_and_one_reference_books_once(soap_client, live_host) -> None:  # noqa: ANN001
    clients = [soap_client(SERVICE) for _ in range(6)]

    def book(i: int) -> tuple[str, str]:
        service = clients[i].service
        shared = service.BookMovement(MovementRequest=request(), ClientReference=f"shared-{i % 2}")
        own = service.BookMovement(MovementRequest=request(), ClientReference=f"own-{i}")
        return shared.MovementId, own.MovementId

    before = movements_count(live_host.rt)
    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(book, range(len(clients))))
    assert len({shared for shared, _own in answers}) == 2
    assert len({own for _shared, own in answers}) == len(clients)
    assert movements_count(live_host.rt) == before + 2 + len(clients)


def test_booking_checks_missions_and_beneficiaries(movements, live_host, soap_fault) -> None:  # noqa: ANN001
    before = movements_count(live_host.rt)
    cases = {
        "FORBIDDEN_MISSION": request("KHM", ("BEN-2000001",)),
        "NOT_FOUND": request(beneficiaries=("BEN-1999999",)),
        "VALIDATION": request(beneficiaries=("BEN-1000010", "BEN-3000001")),
    }
    for code, wanted in cases.items():
        assert soap_fault(movements.BookMovement, MovementRequest=wanted, ClientReference=f"bad-{code}")[1] == code
    assert soap_fault(movements.BookMovement, MovementRequest=request(Status="BOOKED"), ClientReference="s")[1:] == (
        "VALIDATION",
        ["Status"],
    )
    bad_places = request(Origin={"country": "tha", "location": "BKK"}, Destination={"country": "MMR", "location": "R"})
    assert soap_fault(movements.BookMovement, MovementRequest=bad_places, ClientReference="p")[1:] == (
        "VALIDATION",
        ["Origin", "Destination"],
    )
    assert soap_fault(movements.GetMovement, MovementId="MOV-2000001")[1] == "FORBIDDEN_MISSION"
    assert movements_count(live_host.rt) == before


def test_a_movement_request_without_its_project_code_is_refused(movements, live_host, soap_fault) -> None:  # noqa: ANN001
    """HOST_CONTRACT.md lists ProjectCode in every MovementRequest: the host books nothing without it."""
    before = movements_count(live_host.rt)
    for reference, project in (("no-project", xsd.SkipValue), ("empty-project", ""), ("long-project", "P" * 41)):
        fault = soap_fault(
            movements.BookMovement, MovementRequest=request(ProjectCode=project), ClientReference=reference
        )
        assert fault[1:] == ("VALIDATION", ["ProjectCode"]), reference
    assert movements_count(live_host.rt) == before
    booked = movements.BookMovement(MovementRequest=request(ProjectCode="THA-AVRR-02"), ClientReference="with-project")
    assert movements.GetMovement(MovementId=booked.MovementId).ProjectCode == "THA-AVRR-02"


def test_the_status_rules_are_the_contracts_rules() -> None:
    forward = ("REQUESTED", "BOOKED", "CONFIRMED", "DEPARTED", "ARRIVED")
    expected = {status: {after} for status, after in pairwise(forward)}
    for status in forward[: forward.index("DEPARTED")]:
        expected[status].add("CANCELLED")
    expected["CONFIRMED"].add("NO_SHOW")
    assert expected == NEXT


def test_transitions_follow_the_rules_and_each_appears_once_in_the_feed(demo) -> None:  # noqa: ANN001
    advance(demo, "MOV-1000002", "BOOKED", "CONFIRMED", "DEPARTED")
    for refused in ("CANCELLED", "NO_SHOW", "REQUESTED"):
        with pytest.raises(InvalidTransition), transaction(demo.factory) as s:
            transition(s, "MOV-1000002", refused, now=utcnow())
    advance(demo, "MOV-1000002", "ARRIVED")
    with pytest.raises(LookupError), transaction(demo.factory) as s:
        transition(s, "MOV-1999999", "BOOKED", now=utcnow())
    with demo.factory() as s:
        feed = s.scalars(sa.select(MovementChange.status).order_by(MovementChange.seq)).all()
    assert feed == ["BOOKED", "CONFIRMED", "DEPARTED", "ARRIVED"]


def test_the_change_feed_in_order_paged_per_mission_and_across_restarts(
    soap_client, live_host, second_live_host, soap_fault
) -> None:  # noqa: ANN001
    tha, khm = soap_client(SERVICE, "THA").service, soap_client(SERVICE, "KHM").service
    one = tha.BookMovement(MovementRequest=request(), ClientReference="f-1").MovementId
    two = tha.BookMovement(MovementRequest=request(beneficiaries=("BEN-1000011",)), ClientReference="f-2").MovementId
    khm.BookMovement(MovementRequest=request("KHM", ("BEN-2000003",)), ClientReference="f-1")
    advance(live_host.rt, one, "BOOKED")
    tha.CancelMovement(MovementId=two, Reason="DOCUMENTS")

    first = tha.GetMovementChanges(MaxChanges=2)
    rest = tha.GetMovementChanges(SinceToken=first.NextToken, MaxChanges=1000)
    changes = first.MovementChange + rest.MovementChange
    assert [(c.MovementId, c.Status) for c in changes] == [
        (one, "REQUESTED"),
        (two, "REQUESTED"),
        (one, "BOOKED"),
        (two, "CANCELLED"),
    ]
    assert [c.ClientReference for c in changes] == ["f-1", "f-2", "f-1", "f-2"]
    assert [c.ChangedAt for c in changes] == sorted(c.ChangedAt for c in changes)
    empty = tha.GetMovementChanges(SinceToken=rest.NextToken, MaxChanges=10)
    assert (empty.NextToken, empty.MovementChange) == (rest.NextToken, [])

    khm_feed = khm.GetMovementChanges(MaxChanges=10).MovementChange
    assert [(c.Status, c.ClientReference) for c in khm_feed] == [("REQUESTED", "f-1")]
    # The token lives in the database: a restarted host (a new runtime and app) carries on from it.
    restarted = soap_client(SERVICE, "THA", host=second_live_host).service
    assert restarted.GetMovementChanges(SinceToken=rest.NextToken, MaxChanges=10).MovementChange == []
    restarted.CancelMovement(MovementId=one, Reason="OTHER")
    [change] = restarted.GetMovementChanges(SinceToken=rest.NextToken, MaxChanges=10).MovementChange
    assert (change.MovementId, change.Status) == (one, "CANCELLED")

    assert soap_fault(tha.GetMovementChanges, SinceToken="x1", MaxChanges=10)[1:] == ("VALIDATION", ["SinceToken"])
    assert soap_fault(tha.GetMovementChanges, MaxChanges=1001)[1:] == ("VALIDATION", ["MaxChanges"])


def test_a_client_reference_is_shown_only_to_the_api_user_that_booked(soap_client, live_host) -> None:  # noqa: ANN001
    from mimosa_host.soap.wssecurity import add_api_user

    with transaction(live_host.rt.factory) as s:
        add_api_user(s, "other-tha", "other-password-1", ["THA"])
    soap_client(SERVICE, "THA").service.BookMovement(MovementRequest=request(), ClientReference="mine")
    other = soap_client(SERVICE, username="other-tha", password="other-password-1").service
    [change] = other.GetMovementChanges(MaxChanges=10).MovementChange
    assert change.ClientReference is None


def test_the_travel_desk_books_requested_movements_after_a_while(movements, live_host) -> None:  # noqa: ANN001
    direct = movements.BookMovement(MovementRequest=request(), ClientReference="t-1").MovementId
    via_hub = movements.BookMovement(MovementRequest=request(), ClientReference="t-2").MovementId
    now = utcnow()
    assert travel_desk.book_requested(live_host.rt.factory, now) == []
    later = now + travel_desk.DELAY + timedelta(seconds=1)
    assert travel_desk.book_requested(live_host.rt.factory, later) == [direct, via_hub]
    for movement_id, legs in ((direct, 1), (via_hub, 2)):
        movement = movements.GetMovement(MovementId=movement_id)
        assert movement.Status == "BOOKED" and len(movement.Legs.Leg) == legs
        assert movement.Legs.Leg[0].From == "BKK" and movement.Legs.Leg[-1].To == "RGN"
        assert movement.Legs.Leg[0].Departure.date() >= movement.EarliestDeparture
    changes = movements.GetMovementChanges(MaxChanges=10).MovementChange
    assert [(c.Status, len(c.Legs.Leg) if c.Legs else 0) for c in changes] == [
        ("REQUESTED", 0),
        ("REQUESTED", 0),
        ("BOOKED", 1),
        ("BOOKED", 2),
    ]
    assert movements.GetMovement(MovementId="MOV-1000002").Status == "REQUESTED"  # the demo's own: left alone


def test_the_cli_adds_api_users_and_advances_movements(demo, database_url, soap_client) -> None:  # noqa: ANN001
    from mimosa_host.soap.models import ApiUser, ApiUserMission

    def cli(*args: str, input: str | None = None):  # noqa: A002, ANN202
        return CliRunner().invoke(main, ["--database", database_url, *args], input=input)

    added = cli("api-users", "add", "ops-1", "--mission", "THA", "--mission", "KHM", input="pw-ops-1\npw-ops-1\n")
    assert added.exit_code == 0, added.output
    assert "pw-ops-1" not in added.output.replace("pw-ops-1\n", "")
    with demo.factory() as s:
        assert s.get(ApiUser, "ops-1").password == "pw-ops-1"
        missions = s.scalars(sa.select(ApiUserMission.mission_code).where(ApiUserMission.username == "ops-1"))
        assert sorted(missions) == ["KHM", "THA"]
    assert cli("api-users", "add", "ops-1", "--mission", "THA", input="x\nx\n").exit_code == 1
    assert cli("api-users", "add", "ops-2", "--mission", "NOPE", input="x\nx\n").exit_code == 1

    assert cli("movements", "advance", "MOV-1000002", "BOOKED").exit_code == 0
    refused = cli("movements", "advance", "MOV-1000002", "ARRIVED")
    assert refused.exit_code == 1 and "BOOKED cannot become ARRIVED" in refused.output
    assert cli("movements", "advance", "MOV-1999999", "BOOKED").exit_code == 1

    ops = soap_client(SERVICE, username="ops-1", password="pw-ops-1").service
    assert [(c.MovementId, c.Status) for c in ops.GetMovementChanges(MaxChanges=10).MovementChange] == [
        ("MOV-1000002", "BOOKED")
    ]
