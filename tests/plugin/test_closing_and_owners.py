"""A case's life-cycle and owner: closing (with a supervisor's approval where the mission wants it),
reopening, a closed case read-only, the owner by name, reassigning one case or all of a caseworker's."""

from __future__ import annotations

import re
from datetime import date

import pytest
from page_parts import error_on, text, version
from test_handover import handed_over
from world import THA_OTHER_PERSON, World, set_ctm_settings

from ctm_plugin.domain.case import Case, CaseClosure
from ctm_plugin.security.permissions import CASE_EDIT
from ctm_plugin.services import cases, fund, monitoring, owners, preparation, reintegration, returns
from ctm_plugin.services.base import ClosedCase, Conflict, Invalid, NotFound, get_case, touch, unit_of_work
from mimosa_host.plugin_api import RequestContext, UserRef

CLOSING = {"status": "Closed", "close_reason": "GoalsMet", "closed_on": "2026-03-01", "reason": "Plan completed."}


@pytest.fixture
def case_id(w: World) -> int:
    return w.open()


def _v(w: World, case_id: int, **data: object) -> dict[str, object]:
    return {**data, "version": str(w.version(case_id))}


def _actions(w: World) -> list[str]:
    return [row["action"] for row in w.audit_rows() if row["action"] != "case.view"]


def test_closing_stores_the_reason_from_the_list_and_reopening_clears_it(w: World, case_id: int):
    version = w.version(case_id)
    assert cases.close_case(w.ctx("caseworker"), case_id, _v(w, case_id, **CLOSING)) == cases.CLOSED
    case = w.one(Case, id=case_id)
    assert (case.status, case.close_reason, case.closed_on, case.status_reason) == (
        "Closed",
        "GoalsMet",
        date(2026, 3, 1),
        "Plan completed.",
    )
    assert w.version(case_id) == version + 1
    with pytest.raises(Invalid) as refused:
        cases.reopen_case(w.ctx("caseworker"), case_id, _v(w, case_id))
    assert list(refused.value.errors) == ["reason"]
    cases.reopen_case(w.ctx("supervisor"), case_id, _v(w, case_id, reason="The person came back for help."))
    case = w.one(Case, id=case_id)
    assert (case.status, case.close_reason, case.closed_on) == ("Active", None, None)
    assert _actions(w)[-2:] == ["case.close", "case.reopen"]


def test_a_closing_reason_is_one_of_the_list_and_other_says_why(w: World, case_id: int):
    before = w.snapshot()
    for data, field in (
        ({**CLOSING, "close_reason": "Bored"}, "close_reason"),
        ({**CLOSING, "close_reason": None}, "close_reason"),
        ({**CLOSING, "close_reason": "Other", "reason": ""}, "reason"),
    ):
        with pytest.raises(Invalid) as refused:
            cases.close_case(w.ctx("caseworker"), case_id, _v(w, case_id, **{k: v for k, v in data.items() if v}))
        assert field in refused.value.errors
    assert w.snapshot() == before


def test_with_approval_a_closing_waits_for_another_supervisor(w: World, case_id: int):
    set_ctm_settings(w.rt, case_close_requires_approval=True)
    ctx = w.request_ctx("caseworker")
    assert cases.close_case(ctx, case_id, _v(w, case_id, **CLOSING)) == cases.REQUESTED
    assert w.one(Case, id=case_id).status == "Active"
    with pytest.raises(Invalid) as refused:  # one request at a time
        cases.close_case(w.request_ctx("caseworker"), case_id, _v(w, case_id, **CLOSING))
    assert list(refused.value.errors) == ["close_reason"]
    with pytest.raises(NotFound):  # a caseworker does not decide
        cases.decide_closure(w.ctx("caseworker"), case_id, _v(w, case_id, decision="approve"))
    with pytest.raises(Invalid) as refused:
        cases.decide_closure(w.ctx("supervisor"), case_id, _v(w, case_id, decision="refuse"))
    assert list(refused.value.errors) == ["refusal"]
    with pytest.raises(Conflict):
        cases.decide_closure(w.ctx("supervisor"), case_id, {"decision": "approve", "version": "1"})

    refusal = {"decision": "refuse", "refusal": "The last follow-up is not done."}
    assert cases.decide_closure(w.ctx("supervisor"), case_id, _v(w, case_id, **refusal)) == "refused"
    assert w.one(Case, id=case_id).status == "Active"
    assert cases.close_case(w.request_ctx("caseworker"), case_id, _v(w, case_id, **CLOSING)) == cases.REQUESTED
    assert cases.decide_closure(w.ctx("supervisor"), case_id, _v(w, case_id, decision="approve")) == "approved"
    case = w.one(Case, id=case_id)
    assert (case.status, case.close_reason, case.closed_on) == ("Closed", "GoalsMet", date(2026, 3, 1))
    assert [(c.state, c.requested_by, c.decided_by) for c in w.all(CaseClosure, case_id=case_id)] == [
        ("refused", "caseworker", "supervisor"),
        ("approved", "caseworker", "supervisor"),
    ]
    assert _actions(w)[-4:] == ["case.close.request", "case.close.refuse", "case.close.request", "case.close.approve"]


def test_no_supervisor_approves_their_own_closing(w: World, case_id: int):
    set_ctm_settings(w.rt, case_close_requires_approval=True)
    cases.close_case(w.request_ctx("supervisor"), case_id, _v(w, case_id, **CLOSING))
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        cases.decide_closure(w.ctx("supervisor"), case_id, _v(w, case_id, decision="approve"))
    assert refused.value.errors == {"decision": ["You asked to close this case: another supervisor decides."]}
    assert w.snapshot() == before
    with pytest.raises(Invalid):  # nothing waits on another case
        cases.decide_closure(w.ctx("supervisor"), w.open(THA_OTHER_PERSON), {"decision": "approve", "version": "1"})


def test_a_closed_case_refuses_the_return_reintegration_monitoring_and_the_funds_request(w: World, case_id: int):
    w.prepare(case_id)
    cases.close_case(w.ctx("caseworker"), case_id, _v(w, case_id, **CLOSING))
    before = w.snapshot()
    with pytest.raises(ClosedCase):
        preparation.save_checklist(w.ctx("caseworker"), case_id, w.checklist_form(case_id))
    with pytest.raises(ClosedCase):
        returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    with pytest.raises(ClosedCase):
        reintegration.agree_plan(w.ctx("caseworker"), case_id, _v(w, case_id, agreed_on="2026-03-20"))
    with pytest.raises(ClosedCase):
        monitoring.set_start(w.ctx("caseworker"), case_id, _v(w, case_id, start_on="2026-03-20"))
    request = {"kind": "Return", "amount": "50", "currency": "USD", "justification": "Bus."}
    with pytest.raises(ClosedCase):
        fund.request_assistance(w.ctx("caseworker"), case_id, _v(w, case_id, **request))
    with pytest.raises(ClosedCase):
        owners.reassign(w.ctx("supervisor"), case_id, _v(w, case_id, owner="childprotection"))
    assert w.snapshot() == before


def test_the_owner_is_shown_by_name_and_a_supervisor_reassigns_to_a_caseworker_of_the_mission(w: World, case_id: int):
    ctx = w.ctx("supervisor")
    names = owners.owner_names(ctx)
    assert (names("caseworker"), names("someone.gone")) == ("Dara Caseworker", "someone.gone")
    assert [u.username for u in owners.caseworkers(ctx)] == ["caseworker", "childprotection", "supervisor"]
    before = w.snapshot()
    for owner in ("khm.caseworker", "auditor", "caseworker"):  # another mission's, one who cannot edit, the owner
        with pytest.raises(Invalid) as refused:
            owners.reassign(ctx, case_id, _v(w, case_id, owner=owner))
        assert list(refused.value.errors) == ["owner"]
    with pytest.raises(NotFound):
        owners.reassign(w.ctx("caseworker"), case_id, _v(w, case_id, owner="supervisor"))
    with pytest.raises(NotFound):
        owners.reassign(w.ctx("supervisor", "KHM"), case_id, _v(w, case_id, owner="supervisor"))
    with pytest.raises(Conflict):
        owners.reassign(ctx, case_id, {"owner": "supervisor", "version": str(w.version(case_id) - 1)})
    assert w.snapshot() == before
    owners.reassign(ctx, case_id, _v(w, case_id, owner="childprotection"))
    case = w.one(Case, id=case_id)
    assert (case.owner, case.updated_by) == ("childprotection", "supervisor")
    assert _actions(w)[-1] == "case.reassign"


def test_all_open_cases_of_a_caseworker_move_at_once_each_audited(w: World, case_id: int):
    second = w.open(THA_OTHER_PERSON)
    closed = w.open("BEN-1000003")
    cases.close_case(w.ctx("caseworker"), closed, _v(w, closed, **CLOSING))
    theirs = w.open("BEN-1000004", username="supervisor")
    in_cambodia = w.open("BEN-2000001", mission="KHM")
    ctx = w.ctx("supervisor")
    assert owners.owners_of_open_cases(ctx) == [("caseworker", 2), ("supervisor", 1)]
    before = w.snapshot()
    for data, field in (
        ({"from_owner": "caseworker", "to_owner": "caseworker"}, "to_owner"),
        ({"from_owner": "caseworker", "to_owner": "khm.caseworker"}, "to_owner"),
        ({"from_owner": "nobody", "to_owner": "childprotection"}, "from_owner"),
        ({"to_owner": "childprotection"}, "from_owner"),
    ):
        with pytest.raises(Invalid) as refused:
            owners.reassign_all(ctx, data)
        assert field in refused.value.errors
    with pytest.raises(NotFound):
        owners.reassign_all(w.ctx("caseworker"), {"from_owner": "caseworker", "to_owner": "childprotection"})
    assert w.snapshot() == before

    assert owners.reassign_all(ctx, {"from_owner": "caseworker", "to_owner": "childprotection"}) == 2
    owner_of = {c: w.one(Case, id=c).owner for c in (case_id, second, closed, theirs, in_cambodia)}
    assert owner_of == {
        case_id: "childprotection",
        second: "childprotection",
        closed: "caseworker",  # a closed case keeps its owner
        theirs: "supervisor",
        in_cambodia: "caseworker",  # another mission's
    }
    moved = [(r["action"], r["case_id"]) for r in w.audit_rows()[-2:]]
    assert moved == [("case.reassign", case_id), ("case.reassign", second)]


def test_the_count_to_confirm_is_what_moves_a_handed_over_case_in_neither(w: World):
    away = handed_over(w)  # the caseworker's, read-only here
    staying = w.open(THA_OTHER_PERSON)
    ctx = w.ctx("supervisor")
    moving = {"from_owner": "caseworker", "to_owner": "childprotection"}
    assert owners.owners_of_open_cases(ctx) == [("caseworker", 1)]
    assert owners.cases_to_move(ctx, moving) == 1
    assert owners.reassign_all(ctx, moving) == 1
    assert (w.one(Case, id=away).owner, w.one(Case, id=staying).owner) == ("caseworker", "childprotection")
    assert owners.owners_of_open_cases(ctx) == [("childprotection", 1)]


# -- the pages ------------------------------------------------------------------------------------

BASE = "/m/THA/plugins/ctm/records/beneficiary/BEN-1000001"


def _opened(login):  # noqa: ANN001, ANN202
    browser = login("caseworker")
    browser.get(f"{BASE}/case")
    assert browser.post(f"{BASE}/case/open", {"opened_on": "2024-01-10"}).status_code == 303
    return browser


def test_the_close_form_asks_to_confirm_naming_the_case_and_only_the_confirmed_post_closes(login, w: World):
    caseworker = _opened(login)
    page = text(caseworker.get(f"{BASE}/case"))
    form = {**CLOSING, "closed_on": "2024-03-01", "version": version(page)}
    refused = caseworker.post(f"{BASE}/case/close", {**form, "close_reason": ""})
    assert refused.status_code == 422 and error_on(text(refused), "close", "close_reason")
    # What closing would refuse is refused before the confirmation is asked: a day before the opening, a stale form.
    early = caseworker.post(f"{BASE}/case/close", {**form, "closed_on": "2024-01-01"})
    assert early.status_code == 422 and error_on(text(early), "close", "closed_on")
    assert 'name="confirmed"' not in text(early)
    stale = caseworker.post(f"{BASE}/case/close", {**form, "version": str(int(form["version"]) + 1)})
    assert stale.status_code == 409 and 'name="confirmed"' not in text(stale)
    asked = text(caseworker.post(f"{BASE}/case/close", form))
    number = w.one(Case, beneficiary_id="BEN-1000001").case_number
    assert f"Close case {number}?" in asked and 'name="confirmed" value="y"' in asked
    assert w.one(Case, beneficiary_id="BEN-1000001").status == "Active"
    assert caseworker.post(f"{BASE}/case/close", {**form, "confirmed": "y"}).status_code == 303

    closed = text(caseworker.get(f"{BASE}/case"))
    assert 'data-value="closed"' in closed and "Goals of the case plan met" in closed
    assert 'data-form="person"' not in closed and 'data-summary="person"' in closed
    assert 'data-form="reopen"' in closed
    screening = text(caseworker.get(f"{BASE}/screening"))
    assert 'data-value="closed"' in screening and 'data-form="' not in screening


def test_the_overview_asks_the_host_for_the_missions_caseworkers_once(login, w: World, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001
    _opened(login)
    asked: list[str] = []
    ask = RequestContext.mission_users

    def counting(ctx: RequestContext, permission: str) -> tuple[UserRef, ...]:
        asked.append(permission)
        return ask(ctx, permission)

    monkeypatch.setattr(RequestContext, "mission_users", counting)
    page = text(login("supervisor").get(f"{BASE}/case"))  # the owner, the follow-ups' and the new owner's choices
    assert 'data-value="owner">Dara Caseworker<' in page and 'data-form="owner"' in page
    assert asked == [CASE_EDIT]


def test_the_auditor_reads_the_overview_as_a_summary(login, w: World):
    _opened(login)
    page = text(login("auditor").get(f"{BASE}/case"))
    assert 'data-summary="person"' in page and 'data-summary="victim"' in page
    assert 'class="ctm-form' not in page and 'data-form="' not in page and " disabled" not in page
    assert 'data-value="owner">Dara Caseworker<' in page


def test_a_supervisor_approves_a_closing_on_the_overview(login, w: World):
    set_ctm_settings(w.rt, case_close_requires_approval=True)
    caseworker = _opened(login)
    form = {**CLOSING, "closed_on": "2024-03-01", "version": version(text(caseworker.get(f"{BASE}/case")))}
    assert caseworker.post(f"{BASE}/case/close", {**form, "confirmed": "y"}).status_code == 303
    page = text(caseworker.get(f"{BASE}/case"))
    assert 'data-section="closure"' in page and 'data-form="closure"' not in page and 'data-form="close"' not in page
    supervisor = login("supervisor")
    page = text(supervisor.get(f"{BASE}/case"))
    decided = supervisor.post(f"{BASE}/case/closure", {"decision": "approve", "version": version(page)})
    assert decided.status_code == 303
    assert w.one(Case, beneficiary_id="BEN-1000001").status == "Closed"


def test_the_reassign_page_moves_a_caseworkers_cases_after_a_confirmation(login, w: World):
    _opened(login)
    supervisor = login("supervisor")
    page = text(supervisor.get("/m/THA/plugins/ctm/cases/reassign"))
    assert 'data-owner="caseworker"' in page and "Dara Caseworker" in page
    viewed = w.audit_rows()[-1]  # opening the page is audited: it lists who owns the mission's open cases
    assert (viewed["action"], viewed["username"], viewed["case_id"]) == ("cases.owners.view", "supervisor", None)
    form = {"from_owner": "caseworker", "to_owner": "supervisor"}
    asked = text(supervisor.post("/m/THA/plugins/ctm/cases/reassign", form))
    assert "Move the open cases of Dara Caseworker (1) to Vichea Supervisor?" in asked
    assert w.one(Case, beneficiary_id="BEN-1000001").owner == "caseworker"
    done = supervisor.post("/m/THA/plugins/ctm/cases/reassign", {**form, "confirmed": "y"})
    assert done.status_code == 303
    assert w.one(Case, beneficiary_id="BEN-1000001").owner == "supervisor"
    seen = len(w.audit_rows())
    assert login("caseworker").get("/m/THA/plugins/ctm/cases/reassign").status_code == 404
    assert len(w.audit_rows()) == seen  # refused before anything is read


def _forms(browser, tab: str) -> set[str]:  # noqa: ANN001 - a logged-in test client
    return set(re.findall(r'data-form="([^"]+)"', text(browser.get(f"{BASE}/{tab}"))))


def test_a_closed_case_shows_none_of_the_forms_it_would_refuse(login, w: World):
    case_id = w.open()  # BEN-1000001's
    w.prepare(case_id, risk_level="HIGH", risk_reason="Threats from the recruiter's family.")
    decision = {"version": w.version(case_id), "risk_decision": "APPROVED", "risk_decision_reason": "Escorted."}
    preparation.decide_risk(w.ctx("hq"), case_id, decision)
    booked = returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    movement, hq = login("movement"), login("hq")
    assert {"book", f"cancel-{booked}"} <= _forms(movement, "return")
    assert "risk_decision" in _forms(hq, "return")  # the next return's, carried over from the booked one
    assert "determine" in _forms(hq, "screening")

    w.close(case_id)
    for browser, tab in ((movement, "return"), (hq, "return"), (hq, "screening")):
        assert _forms(browser, tab) == set(), tab


REASSIGN = "/m/THA/plugins/ctm/cases/reassign"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"from_owner": "caseworker", "to_owner": "ghost"}, "to_owner"),
        ({"from_owner": "nobody", "to_owner": "supervisor"}, "from_owner"),
        ({"from_owner": "caseworker", "to_owner": "caseworker"}, "to_owner"),
    ],
)
def test_the_reassign_form_is_checked_before_any_confirmation(login, w: World, form: dict[str, str], field: str):  # noqa: ANN001
    _opened(login)
    supervisor = login("supervisor")
    supervisor.get(REASSIGN)  # the form's token
    asked = supervisor.post(REASSIGN, form)
    assert asked.status_code == 422 and error_on(text(asked), "reassign", field)
    assert "Move the open cases" not in text(asked) and 'name="confirmed"' not in text(asked)


def test_a_case_saved_meanwhile_moves_no_case_and_says_so(login, w: World, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001
    _opened(login)
    first, second = w.one(Case, beneficiary_id="BEN-1000001").id, w.open(THA_OTHER_PERSON)
    check = owners.touch

    def someone_saves_meanwhile(case: Case, ctx, expected: int, **kwargs: bool) -> None:  # noqa: ANN001
        check(case, ctx, expected, **kwargs)
        if case.id == first:  # a caseworker saves this case between its reading and its move
            with unit_of_work(w.ctx("caseworker")) as theirs:
                touch(get_case(theirs, first), w.ctx("caseworker"), expected)

    monkeypatch.setattr(owners, "touch", someone_saves_meanwhile)
    before = [row["action"] for row in w.audit_rows()]
    supervisor = login("supervisor")
    supervisor.get(REASSIGN)  # the form's token
    refused = supervisor.post(REASSIGN, {"from_owner": "caseworker", "to_owner": "supervisor", "confirmed": "y"})
    assert refused.status_code == 409
    assert "Someone else saved one of these cases meanwhile: no case was moved." in text(refused)
    assert [w.one(Case, id=c).owner for c in (first, second)] == ["caseworker", "caseworker"]
    assert [row["action"] for row in w.audit_rows()].count("case.reassign") == before.count("case.reassign") == 0
