"""The hand-over as its users meet it: THA's Hand-over tab (propose, follow), KHM's inbox (accept or
decline, then the reception), the read-only THA case, the menu. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import sqlalchemy as sa
from page_parts import error_on, field, text, version
from test_handover import propose_form, returning
from world import World, set_ctm_settings

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.services import handover
from ctm_plugin.services.base import HandedOver

REF = "BEN-1000001"
THA_CASE = f"/m/THA/plugins/ctm/records/beneficiary/{REF}"
KHM_INBOX = "/m/KHM/plugins/ctm/handovers"


def propose_on_the_tab(w: World, login, **changes: object):  # noqa: ANN001, ANN201
    returning(w)
    browser = login("caseworker")
    page = text(browser.get(f"{THA_CASE}/handover"))
    assert 'data-form="propose"' in page and "Cambodia (KHM)" in page
    form = {k: str(v) for k, v in propose_form(w, w.one(Case, beneficiary_id=REF).id, **changes).items()}
    return browser, browser.post(f"{THA_CASE}/handover/propose", {**form, "version": version(page)})


def test_a_proposal_with_a_field_missing_is_shown_again_with_the_error_and_nothing_saved(w: World, login):  # noqa: ANN001
    _browser, response = propose_on_the_tab(w, login, contact="")
    assert response.status_code == 422
    assert error_on(text(response), "propose", "contact")
    assert w.all(Handover) == []


def test_a_proposal_without_the_persons_consent_is_refused_at_the_forms_consent_line(w: World, login):  # noqa: ANN001
    returning(w)
    with w.rt.factory() as s, s.begin():
        s.execute(sa.text("DELETE FROM ctm_consent WHERE purpose = 'HandOver'"))
    browser = login("caseworker")
    page = text(browser.get(f"{THA_CASE}/handover"))
    form = {k: str(v) for k, v in propose_form(w, w.one(Case, beneficiary_id=REF).id).items()}
    response = browser.post(f"{THA_CASE}/handover/propose", {**form, "version": version(page)})
    assert response.status_code == 422
    refused = text(response)
    assert error_on(refused, "propose", "consent") and not error_on(refused, "propose", "to_mission")
    assert 'href="#propose-consent" data-for="consent"' in refused  # the error summary leads there
    assert w.all(Handover) == []


def test_thas_tab_follows_the_hand_over_khm_accepts_it_and_thas_case_says_it_is_read_only(w: World, login):  # noqa: ANN001
    tha, response = propose_on_the_tab(w, login)
    assert response.status_code == 303
    page = text(tha.get(f"{THA_CASE}/handover"))
    assert 'data-state="proposed"' in page and 'data-form="propose"' not in page

    khm = login("khm.caseworker")
    inbox = text(khm.get(KHM_INBOX))
    [row] = w.all(Handover)
    assert "Synthetic, Returnee" in inbox and f'data-handover="{row.id}"' in inbox
    received = text(khm.get(f"{KHM_INBOX}/{row.id}"))
    assert 'data-form="accept"' in received and 'data-form="decline"' in received
    refused = khm.post(f"{KHM_INBOX}/{row.id}/accept", {"version": str(row.version), "opened_on": "next week"})
    assert refused.status_code == 422 and error_on(text(refused), "accept", "opened_on")
    today = mission_today(w.ctx("khm.caseworker", "KHM").settings).isoformat()
    assert (
        khm.post(f"{KHM_INBOX}/{row.id}/accept", {"version": str(row.version), "opened_on": today}).status_code == 303
    )
    received = text(khm.get(f"{KHM_INBOX}/{row.id}"))
    khm_case = w.one(Case, mission_code="KHM")
    assert khm_case.case_number in received and "not arrived yet" in received
    again = khm.post(f"{KHM_INBOX}/{row.id}/decline", {"version": str(row.version), "reason": "x"})
    assert again.status_code == 409  # decided already: said at the top of the page, nothing saved
    assert 'data-problem="page"' in text(again) and html.escape(handover.NOT_PROPOSED) in text(again)

    page = text(tha.get(f"{THA_CASE}/case"))
    assert 'data-value="handed-over"' in page and "KHM" in page
    edit = tha.post(f"{THA_CASE}/case/person", {"version": version(page), "gender": "Feminine"})
    assert edit.status_code == 409 and html.escape(HandedOver.message) in text(edit)


def test_thas_tab_shows_arrived_hand_over_pending(w: World, login):  # noqa: ANN001
    tha, _response = propose_on_the_tab(w, login)
    job = w.job_ctx()
    with mission_session(job) as s, s.begin():  # the feed's step when the host reports ARRIVED
        booking = s.scalars(sa.select(ReturnBooking)).one()
        booking.status, booking.status_changed_at = "ARRIVED", datetime.now(UTC)
        handover.follow_return(s, job, booking)
    page = text(tha.get(f"{THA_CASE}/handover"))
    assert "Arrived, hand-over pending" in page
    assert "the CTM (automatic)" in page and ">system<" not in page  # who recorded the arrival, in words


def test_the_inbox_is_in_the_menu_of_those_who_accept_hand_overs(login):  # noqa: ANN001
    assert 'data-menu="ctm.handovers"' in text(login("khm.caseworker").get("/m/KHM/beneficiaries"))
    response = login("movement").get("/m/KHM/beneficiaries")
    assert response.status_code == 200 and ">Movements</a>" in text(response)  # the mission's menu, without the inbox
    assert 'data-menu="ctm.handovers"' not in text(response)


def test_a_recorded_reception_shows_on_khms_page(w: World, login):  # noqa: ANN001
    case_id = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    today = mission_today(w.ctx("khm.caseworker", "KHM").settings).isoformat()
    handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, {"version": 1, "opened_on": today})
    with w.rt.factory() as s, s.begin():
        s.get_one(Handover, proposed).arrived_at = datetime.now(UTC)
    khm = login("khm.caseworker")
    page = text(khm.get(f"{KHM_INBOX}/{proposed}"))  # reading it opens the task
    assert 'data-form="reception"' in page
    response = khm.post(
        f"{KHM_INBOX}/{proposed}/reception",
        {"arrived_on": datetime.now(UTC).date().isoformat(), "arrival_place": "PNH", "received_by": "Synthetic"},
    )
    assert response.status_code == 303
    assert 'data-value="reception"' in text(khm.get(f"{KHM_INBOX}/{proposed}"))


def test_the_flights_of_the_record_read_in_the_readers_format_not_as_the_hosts_iso_text(w: World, login):  # noqa: ANN001
    case_id = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    leg = {"sequence": 1, "carrier": "Demo Air", "flight_number": "DA1", "from": "BKK", "to": "PNH"}
    with w.rt.factory() as s, s.begin():
        row = s.get_one(Handover, proposed)
        travel = {**row.record["travel"], "legs": [{**leg, "departure": "2026-12-23T08:00:00+00:00"}]}
        row.record = {**row.record, "travel": travel}
    khm, tha = login("khm.caseworker"), login("caseworker")
    for page in (text(khm.get(f"{KHM_INBOX}/{proposed}")), text(tha.get(f"{THA_CASE}/handover"))):
        [shown] = re.findall(r'data-value="leg">([^<]*)<', page)
        assert shown.startswith("Demo Air DA1 BKK → PNH Dec 23, 2026"), shown


def test_a_case_opened_before_the_hand_over_was_proposed_is_refused_on_the_field(w: World, login):  # noqa: ANN001
    _tha, _response = propose_on_the_tab(w, login)
    [row] = w.all(Handover)
    khm = login("khm.caseworker")
    assert 'data-form="accept"' in text(khm.get(f"{KHM_INBOX}/{row.id}"))
    refused = khm.post(f"{KHM_INBOX}/{row.id}/accept", {"version": str(row.version), "opened_on": "1990-01-01"})
    assert refused.status_code == 422 and error_on(text(refused), "accept", "opened_on")
    assert html.escape(handover.OPENED_BEFORE_PROPOSAL) in text(refused)
    assert w.all(Case, mission_code="KHM") == [] and w.one(Handover, id=row.id).state == "proposed"


def test_khm_links_its_new_case_to_the_persons_host_record_and_then_opens_its_tabs(w: World, login, connected):  # noqa: ANN001, ARG001
    case_id = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    today = mission_today(w.ctx("khm.caseworker", "KHM").settings).isoformat()
    handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, {"version": 1, "opened_on": today})
    khm = login("khm.caseworker")
    page = text(khm.get(f"{KHM_INBOX}/{proposed}"))
    assert 'data-form="link"' in page and 'data-link="case"' not in page  # no host record yet: no tabs

    read = version(page)  # the link form's, the first on the page

    def link(beneficiary_id: str):  # noqa: ANN202
        form = {"version": read, "beneficiary_id": beneficiary_id}
        return khm.post(f"{KHM_INBOX}/{proposed}/link", form)

    for wrong, message in [
        ("", "This field is required."),
        ("BEN-12", "Enter the host's beneficiary ID, e.g. BEN-0000123."),
        ("BEN-1000001", "The host has no beneficiary with this ID in this mission."),  # THA's, not KHM's
        ("BEN-2999999", "The host has no beneficiary with this ID in this mission."),
    ]:
        refused = link(wrong)
        assert refused.status_code == 422 and message in field(text(refused), "link", "beneficiary_id"), wrong
    assert w.one(Case, mission_code="KHM").beneficiary_id == f"HANDOVER-{proposed}"  # nothing changed

    linked = link("BEN-2000001")
    assert linked.status_code == 303
    assert linked.headers["Location"].endswith("/m/KHM/plugins/ctm/records/beneficiary/BEN-2000001/case")
    assert khm.get("/m/KHM/plugins/ctm/records/beneficiary/BEN-2000001/case").status_code == 200
    page = text(khm.get(f"{KHM_INBOX}/{proposed}"))
    assert 'data-form="link"' not in page and 'data-link="case"' in page
    again = link("BEN-2000002")
    assert again.status_code == 409 and "This case is linked to the host's record already." in text(again)
    assert w.one(Case, mission_code="KHM").beneficiary_id == "BEN-2000001"


def test_linking_while_the_host_cannot_be_reached_says_so_on_the_form_and_changes_nothing(w: World, login):  # noqa: ANN001
    case_id = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    today = mission_today(w.ctx("khm.caseworker", "KHM").settings).isoformat()
    handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, {"version": 1, "opened_on": today})
    set_ctm_settings(w.rt, "KHM", soap_base_url="http://127.0.0.1:9/")  # the discard port: nothing listens there
    khm = login("khm.caseworker")
    page = text(khm.get(f"{KHM_INBOX}/{proposed}"))
    response = khm.post(f"{KHM_INBOX}/{proposed}/link", {"version": version(page), "beneficiary_id": "BEN-2000001"})
    assert response.status_code == 503
    form = text(response)[text(response).index('data-form="link"') :]
    assert "The host cannot be reached now; nothing was changed." in form[: form.index("</form>")]
    assert w.one(Case, mission_code="KHM").beneficiary_id == f"HANDOVER-{proposed}"
