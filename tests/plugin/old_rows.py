"""Rows as earlier revisions wrote them, in plain SQL naming only the columns those revisions had.

The migration tests seed their data at the revision before the one they test, where today's models would
select columns that do not exist yet; they use the ORM and the services only once upgraded to the heads.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from world import OPENED, THA_PERSON

AT = "2026-02-03 10:00:00+00:00"


def insert_case(
    conn: Connection,
    number: str,
    person: str = THA_PERSON,
    mission: str = "THA",
    owner: str = "caseworker",
    opened_on: str = OPENED,
) -> int:
    """An active case as ctm0002 to ctm0012 wrote it (ctm0013 adds ``close_reason``); its id."""
    conn.execute(
        sa.text(
            "INSERT INTO ctm_case (mission_code, case_number, beneficiary_id, status, owner, opened_on, version,"
            " updated_at, updated_by) VALUES (:mission, :number, :person, 'Active', :owner, :opened_on, 1, :at,"
            " :owner)"
        ),
        {"mission": mission, "number": number, "person": person, "owner": owner, "opened_on": opened_on, "at": AT},
    )
    return conn.scalar(
        sa.text("SELECT id FROM ctm_case WHERE mission_code = :mission AND case_number = :number"),
        {"mission": mission, "number": number},
    )


def insert_return(conn: Connection, case_id: int, destination: str = "KHM", mission: str = "THA") -> int:
    """A return booked as ctm0003 wrote it (no project code before ctm0004), with its pending outbox
    message; its id."""
    reference = f"old-return-{case_id}"
    conn.execute(
        sa.text(
            "INSERT INTO ctm_outbox (mission_code, case_id, operation, client_reference, payload, mapping_id,"
            " mapping_version, status, attempts, next_attempt_at, created_at, created_by, updated_at, version)"
            " VALUES (:mission, :case, 'BookMovement', :reference, '<m:Movement/>', 'movement', '1', 'pending', 0,"
            " :at, :at, 'movement', :at, 1)"
        ),
        {"mission": mission, "case": case_id, "reference": reference, "at": AT},
    )
    outbox_id = conn.scalar(
        sa.text("SELECT id FROM ctm_outbox WHERE client_reference = :reference"), {"reference": reference}
    )
    conn.execute(
        sa.text(
            "INSERT INTO ctm_return (mission_code, case_id, outbox_id, movement_type, origin_country, origin_location,"
            " destination_country, destination_location, earliest_departure, escort, fit_to_travel, legs, booked_by,"
            " booked_at) VALUES (:mission, :case, :outbox, 'AVRR', 'THA', 'BKK', :destination, 'PNH', '2026-03-01',"
            " 'OPERATIONAL', :fit, '[]', 'movement', :at)"
        ),
        {"mission": mission, "case": case_id, "outbox": outbox_id, "destination": destination, "fit": True, "at": AT},
    )
    return conn.scalar(sa.text("SELECT id FROM ctm_return WHERE outbox_id = :outbox"), {"outbox": outbox_id})


def case_number(conn: Connection, case_id: int) -> str | None:
    """The case's number, read with SQL at any revision."""
    return conn.scalar(sa.text("SELECT case_number FROM ctm_case WHERE id = :id"), {"id": case_id})


def insert_match(
    conn: Connection, earlier: int, earlier_number: str, later: int, shared: bool, status: str = "confirmed"
) -> None:
    """A re-trafficking match of THA's case ``earlier`` by KHM's ``later`` as ctm0024 wrote it (HQ's row)."""
    conn.execute(
        sa.text(
            "INSERT INTO ctm_retrafficking_match (earlier_mission, earlier_case_id, earlier_case_number,"
            " earlier_opened_on, later_mission, later_case_id, later_case_number, later_opened_on, evidence,"
            " score, explanation, shared_with_earlier, status, found_at, version) VALUES ('THA', :earlier,"
            " :earlier_number, '2025-02-03', 'KHM', :later, :number, '2026-02-03', 'document', 1,"
            " 'same_document', :shared, :status, :at, 1)"
        ),
        {
            "earlier": earlier,
            "earlier_number": earlier_number,
            "later": later,
            "number": f"KHM-{later}",
            "shared": shared,
            "status": status,
            "at": AT,
        },
    )


def matches(conn: Connection) -> list[tuple]:
    """The matches as the tests of ctm0025 and ctm0026 compare them: later case, shared, status."""
    return conn.execute(
        sa.text("SELECT later_case_id, shared_with_earlier, status FROM ctm_retrafficking_match ORDER BY id")
    ).all()
