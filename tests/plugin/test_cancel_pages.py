"""Cancelling a return on the Return tab, and cancellations on the synchronisation page, with the
Flask test client. Rows the relay and the feed would write are written directly (``Rows``), as in
test_sync_pages.py, whose fixtures these tests share.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from page_parts import error_on, field, text, version
from test_sync_pages import BASE, LOCALES, MISSION, SYNC, Rows, audit_actions, said, words
from test_sync_pages import case_id, rows  # noqa: F401 - the fixtures these tests share

from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.schemas.returns import CANCEL_REASONS
from ctm_plugin.web.exchanges import HOST_STATUSES


def cancellation(rows: Rows, booking: int, status: str, movement_id: str | None = "MOV-1", **values: object) -> int:
    """A cancellation message of ``booking`` in ``status``, as the Return tab asked for it."""
    rows.serial += 1
    with mission_session(rows.ctx) as s, s.begin():
        row = OutboxMessage(
            mission_code=MISSION,
            case_id=rows.case_id,
            operation="CancelMovement",
            client_reference=f"ctm-cancel-{rows.serial:04d}",
            payload=json.dumps({"return_id": booking, "movement_id": movement_id, "reason": "SECURITY"}),
            payload_kind="json",
            mapping_id="movement",
            mapping_version="1",
            status=status,
            created_by="movement",
            **values,
        )
        s.add(row)
        s.flush()
        return row.id


def card_of(page: str, booking: int) -> str:
    card = page[page.index(f'data-return="{booking}"') :]
    return card[: card.index("</article>")]


def test_a_movement_officer_cancels_a_return_after_confirming_with_a_reason(login, rows, demo):  # noqa: ANN001
    booking = rows.booking("BOOKED", movement_id="MOV-1")
    movement = login("movement")
    page = text(movement.get(f"{BASE}/return"))
    form = f"cancel-{booking}"
    reasons = field(page, form, "reason")
    assert all(f'value="{code}"' in reasons for code in CANCEL_REASONS)
    target = f"{BASE}/return/{booking}/cancel"
    refused = movement.post(target, {"version": version(page), "reason": ""})
    assert refused.status_code == 422 and error_on(text(refused), form, "reason")
    with demo.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).where(OutboxMessage.operation == "CancelMovement")) == 0
    response = movement.post(target, {"version": version(page), "reason": "NOT_FIT_TO_TRAVEL"})
    assert response.status_code == 303, text(response)
    card = card_of(text(movement.get(f"{BASE}/return")), booking)
    assert 'data-cancellation="pending"' in card and "Not fit to travel" in card
    assert f'data-form="{form}"' not in card  # one cancellation at a time
    assert "return.cancel" in audit_actions(demo)
    sync = text(login("integrator").get(SYNC))
    assert "Cancel a return" in sync and "ctm-cancel" not in sync  # listed under its own reference


def test_a_cancellation_refused_after_the_page_was_read_says_why(login, rows, demo):  # noqa: ANN001
    booking = rows.booking("BOOKED", movement_id="MOV-1")
    movement = login("movement")
    page = text(movement.get(f"{BASE}/return"))
    with mission_session(rows.ctx) as s, s.begin():  # the feed brings DEPARTED meanwhile
        s.get(ReturnBooking, booking).status = "DEPARTED"
    response = movement.post(f"{BASE}/return/{booking}/cancel", {"version": version(page), "reason": "OTHER"})
    assert response.status_code == 422
    assert "it can no longer be cancelled" in card_of(text(response), booking)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_return_tab_shows_each_cancellation_as_it_stands(login, rows, locale):  # noqa: ANN001
    waiting = rows.booking(None, outbox="unknown")
    cancellation(rows, waiting, "pending", movement_id=None)
    done = rows.booking("CANCELLED", movement_id="MOV-2")
    cancellation(rows, done, "done", movement_id="MOV-2")
    refused = rows.booking("BOOKED", movement_id="MOV-3")
    cancellation(rows, refused, "failed", movement_id="MOV-3", error_code="INVALID_STATE", result={"status": "DEPARTED"})
    no_show = rows.booking("NO_SHOW", movement_id="MOV-4")
    page = text(login("movement").get(f"{BASE}/return", headers={"Accept-Language": locale}))
    card = card_of(page, waiting)
    assert 'data-cancellation="pending"' in card
    assert words(locale, "Cancellation asked (%(reason)s): it waits until the host has confirmed the booking "
                 "and given its movement, then goes to the host.", reason=said(locale, "Security")) in card
    card = card_of(page, done)
    assert f'data-status="CANCELLED">{said(locale, HOST_STATUSES["CANCELLED"])}</span>' in card
    assert 'data-cancellation="done"' in card and "data-form" not in card
    card = card_of(page, refused)
    assert words(locale, "The host refused the cancellation: the movement is %(status)s.",
                 status=said(locale, "Departed")) in card  # fmt: skip
    assert f'data-form="cancel-{refused}"' in card  # the feed has not said DEPARTED yet: it may be asked again
    card = card_of(page, no_show)
    assert f'data-status="NO_SHOW">{said(locale, HOST_STATUSES["NO_SHOW"])}</span>' in card
    assert "data-form" not in card


def test_a_caseworker_sees_the_cancellation_but_cannot_cancel(login, rows):  # noqa: ANN001
    booking = rows.booking("BOOKED", movement_id="MOV-1")
    cancellation(rows, booking, "pending")
    caseworker = login("caseworker")
    page = text(caseworker.get(f"{BASE}/return"))
    assert 'data-cancellation="pending"' in card_of(page, booking) and "data-form" not in card_of(page, booking)
    response = caseworker.post(f"{BASE}/return/{booking}/cancel", {"version": "1", "reason": "OTHER"})
    assert response.status_code == 404
