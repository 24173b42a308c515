"""What is due: follow-ups, referrals awaiting an answer, returns waiting for the host, each listed until
answered, overdue first; the menu's count; people to screen found by the pull, dismissed or opened."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from exchange_hosts import ReferenceHost
from world import THA_OTHER_PERSON, THA_PERSON, World, set_ctm_settings

from ctm_plugin.domain import mission_time
from ctm_plugin.domain.assistance import Referral
from ctm_plugin.domain.due import FollowUp, ScreeningCandidate
from ctm_plugin.services import assistance, due, follow_ups, owners, people, returns, to_screen
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.services.due import FOLLOW_UP, REFERRAL, RETURN

DUE = "/m/THA/plugins/ctm/due"
TO_SCREEN = "/m/THA/plugins/ctm/people/to-screen"
BASE = f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}"
CASE_TAB = f"{BASE}/case"
GONE = "BEN-1999999"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def follow_up(w: World, case_id: int, offset: int, note: str, owner: str = "") -> int:
    data = {"version": str(w.version(case_id)), "due_on": day(offset), "note": note, "owner": owner}
    return follow_ups.add_follow_up(w.ctx("caseworker"), case_id, data)


def kinds(w: World, user: str = "caseworker", mine: bool = True) -> list[tuple[str, str]]:
    return [(i.kind, i.what) for i in due.due_list(w.ctx(user), mine=mine)]


@pytest.fixture
def case_id(w: World) -> int:
    return w.open()


def test_a_follow_up_is_due_overdue_first_until_marked_done(w: World, case_id: int):
    later = follow_up(w, case_id, 5, "Call the shelter.")
    overdue = follow_up(w, case_id, -2, "Send the medical report.")
    assert kinds(w) == [(FOLLOW_UP, "Send the medical report."), (FOLLOW_UP, "Call the shelter.")]
    assert [i.overdue for i in due.due_list(w.ctx("caseworker"))] == [True, False]
    assert due.due_count(w.ctx("caseworker")) == 1  # the one due by today
    row = w.one(FollowUp, id=overdue)
    assert (row.owner, row.created_by) == ("caseworker", "caseworker")
    follow_ups.mark_done(w.ctx("caseworker"), case_id, overdue, {"version": str(w.version(case_id))})
    assert kinds(w) == [(FOLLOW_UP, "Call the shelter.")] and due.due_count(w.ctx("caseworker")) == 0
    with pytest.raises(Invalid):  # twice
        follow_ups.mark_done(w.ctx("caseworker"), case_id, overdue, {"version": str(w.version(case_id))})
    assert w.one(FollowUp, id=later).done_at is None
    actions = [row["action"] for row in w.audit_rows()]
    assert actions.count("follow_up.add") == 2 and "follow_up.done" in actions


def test_a_follow_up_owned_by_another_is_theirs_and_in_the_missions_list(w: World, case_id: int):
    follow_up(w, case_id, 0, "Check the passport.", owner="caseworker")
    w.open(THA_OTHER_PERSON, username="supervisor")  # supervisor owns a case: a known caseworker
    follow_up(w, case_id, -1, "Meet the family.", owner="supervisor")
    assert kinds(w) == [(FOLLOW_UP, "Check the passport.")]
    assert (FOLLOW_UP, "Meet the family.") in kinds(w, mine=False)
    assert kinds(w, "supervisor") == [(FOLLOW_UP, "Meet the family.")]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"due_on": ""}, "due_on", "This field is required."),
        ({"due_on": "2026-13-40"}, "due_on", "Enter a valid date (YYYY-MM-DD)."),
        ({"note": ""}, "note", "This field is required."),
        ({"owner": "nobody"}, "owner", owners.NOT_A_CASEWORKER),
    ],
)
def test_a_bad_follow_up_is_refused_naming_the_field_and_nothing_is_saved(
    w: World, case_id: int, changes, field, message
):  # noqa: ANN001
    before = w.snapshot()
    data = {"version": str(w.version(case_id)), "due_on": day(1), "note": "Call.", **changes}
    with pytest.raises(Invalid) as refused:
        follow_ups.add_follow_up(w.ctx("caseworker"), case_id, data)
    assert refused.value.errors == {field: [message]}
    assert w.snapshot() == before
    valid = {"version": "0", "due_on": day(1), "note": "Call."}  # read before someone else saved the case
    with pytest.raises(Conflict):
        follow_ups.add_follow_up(w.ctx("caseworker"), case_id, valid)
    assert w.snapshot() == before


def outgoing_referral(w: World, case_id: int, on: str) -> int:
    w.consent(case_id, "Referral")
    data = {
        "version": str(w.version(case_id)),
        "direction": "Outgoing",
        "organisation": "Safe Haven",
        "organisation_type": "NGO",
        "referred_on": on,
        "reason": "AdditionalServicesRequired",
    }
    return assistance.refer(w.ctx("caseworker"), case_id, data)


def answer(w: World, case_id: int, referral_id: int, status: str, on: str) -> None:
    data = {"version": str(w.version(case_id)), "status": status, "answered_on": on}
    follow_ups.answer_referral(w.ctx("caseworker"), case_id, referral_id, data)


def test_a_referral_awaits_its_answer_until_accepted_then_completed(w: World, case_id: int):
    referral_id = outgoing_referral(w, case_id, day(-20))
    assert kinds(w) == [(REFERRAL, "Safe Haven")]
    assert due.due_list(w.ctx("caseworker"))[0].overdue  # two weeks passed without an answer
    with pytest.raises(Invalid) as refused:
        answer(w, case_id, referral_id, "completed", day(-1))  # not accepted yet
    assert list(refused.value.errors) == ["status"]
    with pytest.raises(Invalid) as refused:
        answer(w, case_id, referral_id, "accepted", day(-30))
    assert list(refused.value.errors) == ["answered_on"]
    with pytest.raises(Invalid) as refused:
        answer(w, case_id, referral_id, "maybe", day(-1))
    assert list(refused.value.errors) == ["status"]
    answer(w, case_id, referral_id, "accepted", day(-3))
    assert kinds(w) == []
    answer(w, case_id, referral_id, "completed", day(-1))
    row = w.one(Referral, id=referral_id)
    assert (row.status, row.accepted_on, row.completed_on, row.answered_by) == (
        "completed",
        date.today() - timedelta(days=3),
        date.today() - timedelta(days=1),
        "caseworker",
    )
    assert [r["action"] for r in w.audit_rows()].count("referral.answer") == 2


def test_an_unbooked_return_waits_for_the_host_until_booked(w: World, case_id: int):
    w.prepare(case_id)
    returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    assert [k for k, _ in kinds(w)] == [RETURN]
    with w.rt.factory() as s, s.begin():
        booking = s.scalars(returns.sa.select(returns.ReturnBooking)).one()
        booking.status = "BOOKED"
    assert kinds(w) == []


def test_only_case_editors_see_the_list_and_the_mission_scope_holds(w: World, case_id: int, login):  # noqa: ANN001
    follow_up(w, case_id, -1, "Visit.")
    with pytest.raises(NotFound):
        due.due_list(w.ctx("researcher"))
    assert due.due_count(w.ctx("researcher")) == 0
    assert kinds(w, "caseworker") != [] and due.due_list(w.ctx("khm.caseworker", "KHM"), mine=False) == []
    assert [i.what for i in due.due_list(w.ctx("caseworker", "KHM"), mine=False)] == []
    assert login("researcher").get(DUE).status_code == 404
    assert login("researcher").get(TO_SCREEN).status_code == 404
    with pytest.raises(NotFound):  # another mission's follow-up
        follow_ups.mark_done(w.ctx("caseworker", "KHM"), case_id, 1, {"version": "1"})


def test_the_pages_list_overdue_first_and_the_menu_counts_them(w: World, case_id: int, login):  # noqa: ANN001
    browser = login("caseworker")
    page = browser.get(CASE_TAB).get_data(as_text=True)
    assert 'data-form="follow-up"' in page
    token = {"version": str(w.version(case_id)), "due_on": day(3), "note": "Later one.", "owner": "caseworker"}
    assert browser.post(CASE_TAB + "/follow-ups", token).status_code == 303
    refused = browser.post(CASE_TAB + "/follow-ups", {**token, "version": str(w.version(case_id)), "note": ""})
    assert refused.status_code == 422 and "err-follow-up-note" in refused.get_data(as_text=True)
    assert (
        browser.post(
            CASE_TAB + "/follow-ups",
            {**token, "version": str(w.version(case_id)), "due_on": day(-4), "note": "Late one."},
        ).status_code
        == 303
    )
    body = browser.get(DUE).get_data(as_text=True)
    assert body.index("Late one.") < body.index("Later one.")
    assert 'data-overdue="yes"' in body and 'data-menu="ctm.due">Due now (1)<' in body
    done = w.all(FollowUp)[1].id
    answer_page = browser.post(f"{CASE_TAB}/follow-ups/{done}/done", {"version": str(w.version(case_id))})
    assert answer_page.status_code == 303
    body = browser.get(DUE).get_data(as_text=True)
    assert "Late one." not in body and 'data-menu="ctm.due">Due<' in body
    assert browser.get(DUE + "?all=1").status_code == 200


def test_a_referral_answer_is_recorded_on_the_tab(w: World, case_id: int, login):  # noqa: ANN001
    referral_id = outgoing_referral(w, case_id, day(-2))
    tab = f"{BASE}/consent"
    browser = login("caseworker")
    assert f'data-answer="{referral_id}"' in browser.get(tab).get_data(as_text=True)
    url = f"{tab}/referrals/{referral_id}/answer"
    refused = browser.post(url, {"version": str(w.version(case_id)), "status": "accepted", "answered_on": "x"})
    assert refused.status_code == 422
    ok = browser.post(url, {"version": str(w.version(case_id)), "status": "declined", "answered_on": day(0)})
    assert ok.status_code == 303 and w.one(Referral, id=referral_id).status == "declined"
    khm = login("khm.caseworker")
    khm.get("/m/KHM/plugins/ctm/due")  # the form's token
    assert khm.post(url.replace("/THA/", "/KHM/"), {"version": "1"}).status_code == 404


# -- people to screen ----------------------------------------------------------------------------


def test_the_pull_lists_a_flagged_person_without_a_case_until_dismissed_or_opened(w: World, connected, login):  # noqa: ANN001
    host = ReferenceHost(connected)
    host.edit_beneficiary(THA_PERSON, vulnerabilities=["VOT"])
    host.edit_beneficiary(THA_OTHER_PERSON, vulnerabilities=["VOT"])
    people.pull(w.job_ctx())
    listed = {c.beneficiary_id: c for c in to_screen.candidates(w.ctx("caseworker"))}
    assert {THA_PERSON, THA_OTHER_PERSON} <= set(listed)
    stored = w.one(ScreeningCandidate, beneficiary_id=THA_PERSON)
    assert not hasattr(stored, "family_name")  # no name is stored
    person = host.beneficiary(THA_PERSON)
    assert listed[THA_PERSON].name == f"{person.given_name} {person.family_name}"
    browser = login("caseworker")
    body = browser.get(TO_SCREEN).get_data(as_text=True)
    assert person.family_name in body
    assert person.family_name not in login("researcher").get(TO_SCREEN).get_data(as_text=True)  # 404

    with pytest.raises(Invalid) as refused:
        to_screen.dismiss(w.ctx("caseworker"), listed[THA_OTHER_PERSON].id, {"version": "1", "reason": ""})
    assert list(refused.value.errors) == ["reason"]
    to_screen.dismiss(
        w.ctx("caseworker"), listed[THA_OTHER_PERSON].id, {"version": "1", "reason": "Smuggled, not trafficked."}
    )
    with pytest.raises(Conflict):
        to_screen.dismiss(w.ctx("caseworker"), listed[THA_OTHER_PERSON].id, {"version": "1", "reason": "Again."})
    assert w.one(ScreeningCandidate, beneficiary_id=THA_OTHER_PERSON).dismiss_reason == "Smuggled, not trafficked."
    assert "screening.candidate.dismiss" in [r["action"] for r in w.audit_rows()]

    browser.get(TO_SCREEN)
    opened = browser.post(f"{BASE}/case/import", {"opened_on": day(0)})
    assert opened.status_code == 303
    left = {c.beneficiary_id for c in to_screen.candidates(w.ctx("caseworker"))}
    assert not {THA_PERSON, THA_OTHER_PERSON} & left
    people.pull(w.job_ctx("KHM"))  # KHM's own flagged people, none of THA's
    khm = [c.beneficiary_id for c in to_screen.candidates(w.ctx("khm.caseworker", "KHM"))]
    assert khm and all(ref.startswith("BEN-2") for ref in khm)


def test_a_person_the_host_no_longer_has_is_listed_by_id_among_the_others_named(w: World, connected, login):  # noqa: ANN001
    host = ReferenceHost(connected)
    host.edit_beneficiary(THA_PERSON, vulnerabilities=["VOT"])
    people.pull(w.job_ctx())
    with w.rt.factory() as s, s.begin():  # flagged by an earlier pull; the host has merged the record since
        s.add(ScreeningCandidate(mission_code="THA", beneficiary_id=GONE, flagged_at=datetime(2026, 1, 5, tzinfo=UTC)))
    listed = {c.beneficiary_id: c for c in to_screen.candidates(w.ctx("caseworker"))}
    person = host.beneficiary(THA_PERSON)
    assert (listed[GONE].name, listed[GONE].in_host) == (None, False)
    assert (listed[THA_PERSON].name, listed[THA_PERSON].in_host) == (f"{person.given_name} {person.family_name}", True)
    page = login("caseworker").get(TO_SCREEN)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and person.family_name in body and 'data-problem="host"' not in body
    gone = body[body.index(f'data-beneficiary="{GONE}"') :].split("</li>")[0]
    assert "not found in the host" in gone


def test_open_a_case_from_the_list_opens_it_on_the_missions_day(w: World, connected, login, monkeypatch):  # noqa: ANN001
    set_ctm_settings(w.rt, time_zone="Asia/Bangkok")
    with w.rt.factory() as s, s.begin():
        s.add(ScreeningCandidate(mission_code="THA", beneficiary_id=GONE))
    server_today = datetime.now(UTC).date()  # 23:30 UTC: already the next day in Bangkok
    monkeypatch.setattr(mission_time, "utcnow", lambda: datetime.combine(server_today, time(23, 30), UTC))
    body = login("caseworker").get(TO_SCREEN).get_data(as_text=True)
    tomorrow = (server_today + timedelta(days=1)).isoformat()
    assert f'name="opened_on" value="{tomorrow}"' in body


# -- kinds of other slices: monitoring visits, hand-overs, receptions ----------------------------


def test_a_monitoring_visit_is_due_from_the_start_until_recorded(w: World, case_id: int):
    from ctm_plugin.scoring.model_test import SURVEYS
    from ctm_plugin.services import monitoring

    ctx = w.ctx("caseworker")
    monitoring.set_start(ctx, case_id, {"version": w.version(case_id), "start_on": day(-100)})
    listed = [(i.kind, i.what, i.overdue) for i in due.due_list(ctx)]
    assert listed == [(due.MONITORING, "3", True)]  # the 6- and 12-month visits are months away
    visit = {"version": w.version(case_id), "visited_on": day(-1), "mode": "InPerson", "outcome": "Reached"}
    visit |= {"schedule_month": "3", **monitoring.answers_form(SURVEYS[0])}
    monitoring.record_visit(ctx, case_id, visit)
    assert kinds(w) == []


def test_a_proposed_hand_over_is_due_for_the_receiving_mission_then_its_reception(w: World):
    from datetime import UTC, datetime

    from ctm_plugin.domain.handover import Handover
    from ctm_plugin.domain.mission_time import mission_today
    from ctm_plugin.services import handover

    case_id = w.open()
    w.prepare(case_id)
    w.consent(case_id, "HandOver")
    returns.book_return(w.ctx("movement"), case_id, {**w.booking_form(case_id), "destination_country": "KHM"})
    form = {"version": w.version(case_id), "to_mission": "KHM", "family_name": "Synthetic", "given_name": "Returnee"}
    proposed = handover.propose(w.ctx("caseworker"), case_id, {**form, "contact": "THA caseworker"})
    khm = w.ctx("khm.caseworker", "KHM")
    assert [i.kind for i in due.due_list(khm)] == [due.HANDOVER]
    assert [i.kind for i in due.due_list(w.ctx("caseworker"), mine=False) if i.kind == due.HANDOVER] == []
    khm_today = mission_today(khm.settings).isoformat()
    accept = {"version": w.one(Handover, id=proposed).version, "opened_on": khm_today}
    handover.accept(khm, proposed, accept)
    assert due.HANDOVER not in [i.kind for i in due.due_list(khm)]
    with w.rt.factory() as s, s.begin():
        s.get_one(Handover, proposed).arrived_at = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    handover.open_reception_tasks(khm)
    [reception] = [i for i in due.due_list(khm) if i.kind == due.RECEPTION]
    assert reception.overdue and reception.params == {"handover_id": proposed}
    handover.record_reception(
        khm, proposed, {"arrived_on": khm_today, "arrival_place": "PNH", "received_by": "Officer"}
    )
    assert due.RECEPTION not in [i.kind for i in due.due_list(khm)]


# -- closed and handed-over cases; the menu's count ----------------------------------------------


def test_work_on_a_closed_or_handed_over_case_is_no_longer_due(w: World):
    from test_handover import handed_over

    from ctm_plugin.services import cases, monitoring

    ctx = w.ctx("caseworker")
    closing = w.open(THA_OTHER_PERSON)
    follow_up(w, closing, -2, "Call the shelter.")
    outgoing_referral(w, closing, day(-20))
    monitoring.set_start(ctx, closing, {"version": w.version(closing), "start_on": day(-100)})
    assert {kind for kind, _ in kinds(w)} == {FOLLOW_UP, REFERRAL, due.MONITORING}
    close = {"status": "Closed", "close_reason": "GoalsMet", "closed_on": day(0), "reason": "Plan completed."}
    cases.close_case(ctx, closing, {**close, "version": str(w.version(closing))})
    handed_over(w)  # its return was waiting for the host: KHM holds the case now
    assert kinds(w) == [] and kinds(w, mine=False) == [] and due.due_count(ctx) == 0


def test_the_menus_count_reads_the_anchors_of_the_users_own_cases_only(w: World, monkeypatch: pytest.MonkeyPatch):
    from ctm_plugin.services import monitoring

    theirs = w.open(THA_OTHER_PERSON, username="supervisor")
    monitoring.set_start(w.ctx("supervisor"), theirs, {"version": w.version(theirs), "start_on": day(-100)})
    mine = w.open()
    monitoring.set_start(w.ctx("caseworker"), mine, {"version": w.version(mine), "start_on": day(-100)})
    read: list[int] = []
    real = due.anchors

    def reading(*args: object, **kwargs: object) -> dict:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        read.extend(found)
        return found

    monkeypatch.setattr(due, "anchors", reading)
    assert due.due_count(w.ctx("caseworker")) == 1
    assert read == [mine]


def test_a_count_that_fails_leaves_the_plain_label_and_logs_no_case_data(
    w: World, case_id: int, login, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):  # noqa: ANN001
    def failing(_ctx: object) -> int:
        raise RuntimeError(f"{THA_PERSON} could not be counted")

    follow_up(w, case_id, -1, "Overdue.")
    monkeypatch.setattr(due, "due_count", failing)
    page = login("caseworker").get(CASE_TAB)
    assert page.status_code == 200 and 'data-menu="ctm.due">Due<' in page.get_data(as_text=True)
    logged = [r.getMessage() for r in caplog.records if r.name == "ctm_plugin.hooks.menu"]
    assert logged == ["the count of ctm.due failed: RuntimeError"]
