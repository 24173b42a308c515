"""Finding cases: the mission's list with its filters, search by number and by the host's names, keyset pages
that neither skip nor repeat a case, the caseworker's own cases, HQ's queue across its missions; bad query
parameters get a message naming the parameter, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from world import OPENED, World

from ctm_plugin.domain import palermo
from ctm_plugin.domain.case import Case
from ctm_plugin.services import case_list, cases, screening
from ctm_plugin.services.base import Invalid, NotFound
from mimosa_host import accounts
from mimosa_host.models import Beneficiary, User

THA_PEOPLE = [f"BEN-10000{n:02d}" for n in range(1, 9)]


def _numbers(page: case_list.CaseListPage) -> list[str]:
    return [row.case_number for row in page.rows]


def _listed(w: World, username: str = "caseworker", mission: str = "THA", **query: Any) -> list[str]:
    return _numbers(case_list.list_cases(w.ctx(username, mission), query))


def _screen(w: World, case_id: int, username: str = "caseworker", mission: str = "THA", on: str = "2026-03-01") -> None:
    data = {
        "version": str(w.version(case_id)),
        "interview_date": on,
        "place": "Office",
        "interviewer": "Dara",
        "age_at_act": "30",
        "acts": ["Recruitment"],
        "means": ["Deception"],
        "purposes": ["ForcedLabour"],
    }
    screening.record_screening(w.ctx(username, mission), case_id, data)


def _determine(w: World, case_id: int, mission: str = "THA") -> None:
    data = {"version": str(w.version(case_id)), "decision": palermo.VICTIM, "reason": "All three elements."}
    screening.determine(w.ctx("hq", mission), case_id, data)


def _close(w: World, case_id: int) -> None:
    data = {"version": str(w.version(case_id)), "status": "Closed", "close_reason": "GoalsMet", "closed_on": OPENED}
    cases.close_case(w.ctx("caseworker"), case_id, data)


def _number(w: World, case_id: int) -> str:
    return w.one(Case, id=case_id).case_number


@pytest.fixture
def opened(w: World) -> list[int]:
    """Eight THA cases opened the same day (equal sort keys), two by the supervisor; one KHM case."""
    ids = [w.open(ref, username="supervisor" if n % 4 == 0 else "caseworker") for n, ref in enumerate(THA_PEOPLE)]
    w.open("BEN-2000001", username="khm.caseworker", mission="KHM")
    return ids


def test_the_list_shows_the_missions_cases_only_and_filters_them(w: World, opened: list[int]):
    numbers = [_number(w, case_id) for case_id in opened]
    assert sorted(_listed(w)) == sorted(numbers)  # no KHM case
    _screen(w, opened[1])
    _determine(w, opened[1])
    _close(w, opened[2])
    assert _listed(w, status="closed") == [numbers[2]]
    assert numbers[2] not in _listed(w, status="open")
    assert _listed(w, stage="assistance") == [numbers[1]]
    assert numbers[1] not in _listed(w, stage="screening")
    assert _listed(w, stage="return") == []
    assert sorted(_listed(w, owner="supervisor")) == sorted([numbers[0], numbers[4]])
    assert _listed(w, owner="supervisor", status="closed") == []
    assert sorted(_listed(w, opened_from=OPENED, opened_to=OPENED)) == sorted(numbers)
    assert _listed(w, opened_from="2026-02-04") == []


def test_a_row_says_its_stage_and_shows_the_birth_date_only_to_identity_holders(w: World, opened: list[int]):
    _screen(w, opened[1])
    _determine(w, opened[1])
    rows = {row.id: row for row in case_list.list_cases(w.ctx("caseworker"), {}).rows}
    assert (rows[opened[0]].stage, rows[opened[1]].stage) == ("screening", "assistance")
    assert rows[opened[0]].owner == "supervisor"
    with w.rt.engine.begin() as conn:  # the person's birth date, as a refresh from the host brings it
        conn.execute(sa.text("UPDATE ctm_person SET birth_date = '1990-05-01' WHERE case_id = :id"), {"id": opened[0]})
    rows = {row.id: row for row in case_list.list_cases(w.ctx("caseworker"), {}).rows}
    assert rows[opened[0]].birth_date == date(1990, 5, 1)
    auditor_rows = case_list.list_cases(w.ctx("auditor"), {}).rows  # CASE_VIEW without IDENTITY_VIEW
    assert len(auditor_rows) == len(opened) and all(row.birth_date is None for row in auditor_rows)


def test_a_case_is_found_by_its_number_or_its_beginning(w: World, opened: list[int]):
    number = _number(w, opened[3])
    assert _listed(w, number=number) == [number]
    assert _listed(w, number=number.lower()) == [number]
    stem = number[: number.rindex("-") + 1]
    assert sorted(_listed(w, number=stem)) == sorted(_number(w, case_id) for case_id in opened)
    assert _listed(w, number=stem + "9") == []


def test_keyset_pages_neither_skip_nor_repeat_a_case(w: World, opened: list[int], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(case_list, "PAGE_SIZE", 3)
    everyone = sorted(_number(w, case_id) for case_id in opened)
    for sort in ("number", "opened", "updated"):
        for order in ("asc", "desc"):
            seen: list[str] = []
            query: dict[str, Any] = {"sort": sort, "order": order}
            while True:
                page = case_list.list_cases(w.ctx("caseworker"), query)
                seen += _numbers(page)
                if page.next_after is None:
                    break
                query = {**query, "after": page.next_after}
            assert sorted(seen) == everyone and len(seen) == len(everyone), (sort, order)
            if sort == "number":
                assert seen == (everyone if order == "asc" else everyone[::-1])


def test_my_cases_are_the_users_own(w: World, opened: list[int]):
    mine = case_list.list_cases(w.ctx("supervisor"), {"owner": "caseworker"}, mine=True)
    assert sorted(_numbers(mine)) == sorted([_number(w, opened[0]), _number(w, opened[4])])
    with pytest.raises(NotFound):
        case_list.list_cases(w.ctx("auditor"), {}, mine=True)  # no CASE_EDIT: no cases of one's own


def test_viewing_the_list_is_audited_without_values(w: World, opened: list[int]):
    case_list.list_cases(w.ctx("caseworker"), {"number": "THA", "status": "open"})
    event = w.audit_rows()[-1]
    assert (event["action"], event["username"], event["case_id"], event["field_groups"]) == (
        "cases.list",
        "caseworker",
        None,
        ["identity"],
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"stage": "prison"}, "stage"),
        ({"sort": "name"}, "sort"),
        ({"order": "sideways"}, "order"),
        ({"number": "THA%"}, "number"),
        ({"number": "x" * 41}, "number"),
        ({"opened_from": "2026-13-01"}, "opened_from"),
        ({"opened_from": "2026-03-01", "opened_to": "2026-02-01"}, "opened_to"),
        ({"owner": "o" * 81}, "owner"),
        ({"after": "nonsense"}, "after"),
        ({"sort": "opened", "after": "2026-99-01_3"}, "after"),
        ({"sort": "updated", "after": "2026-02-01T10:00:00_3"}, "after"),
        ({"sort": "updated", "after": "0001-01-01T00:00:00+14:00_1"}, "after"),  # before 1900: no UTC moment
        ({"sort": "updated", "after": "9999-12-31T23:59:59-14:00_1"}, "after"),
        ({"sort": "opened", "after": "1899-12-31_1"}, "after"),
        ({"sort": "opened", "after": "3000-01-01_1"}, "after"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_query_parameters_are_named(w: World, query: dict[str, str], field: str):
    with pytest.raises(Invalid) as refused:
        case_list.list_cases(w.ctx("caseworker"), query)
    assert list(refused.value.errors) == [field]


def test_a_search_by_name_asks_the_host_and_keeps_to_the_missions_cases(connected, w: World, opened: list[int]):  # noqa: ANN001 - connected first: the contexts carry its settings
    with w.rt.factory() as s:
        person = s.get(Beneficiary, THA_PEOPLE[2])
        family, given = person.family_name, person.given_name
        namesakes = set(
            s.scalars(
                sa.select(Beneficiary.beneficiary_id).where(
                    Beneficiary.mission_code == "THA",
                    sa.or_(Beneficiary.family_name.startswith(family), Beneficiary.given_name.startswith(family)),
                )
            )
        )
    found = case_list.list_cases(w.ctx("caseworker"), {"name": family})
    assert _number(w, opened[2]) in _numbers(found)
    expected = {_number(w, case_id) for case_id, ref in zip(opened, THA_PEOPLE, strict=True) if ref in namesakes}
    assert set(_numbers(found)) == expected
    assert _number(w, opened[2]) in _listed(w, name=given)
    assert _listed(w, name="Zzyzx-nobody") == []
    with pytest.raises(NotFound):  # the auditor may not see names, nor search by them
        case_list.list_cases(w.ctx("auditor"), {"name": family})


def test_hq_queue_lists_screened_undetermined_cases_of_its_determine_missions(w: World, opened: list[int]):
    khm_case = w.one(Case, beneficiary_id="BEN-2000001").id
    _screen(w, opened[0])
    _screen(w, opened[1])
    _determine(w, opened[1])  # determined: no longer waiting
    _screen(w, khm_case, "khm.caseworker", "KHM", on="2026-01-15")
    queue = case_list.hq_queue(w.request_ctx("hq"))
    assert [(a.mission.code, a.case_number) for a in queue] == [
        ("KHM", _number(w, khm_case)),  # screened first, waits longest
        ("THA", _number(w, opened[0])),
    ]
    with w.rt.factory() as s, s.begin():  # a programme manager of THA alone sees THA's queue alone
        accounts.grant(
            s, s.scalar(sa.select(User).where(User.username == "auditor")), "THA", "ctm.hq_programme_manager"
        )
    assert [a.mission.code for a in case_list.hq_queue(w.request_ctx("auditor"))] == ["THA"]
    with pytest.raises(NotFound):
        case_list.hq_queue(w.request_ctx("caseworker"))


def test_hqs_queue_page_links_each_case_to_its_screening_in_its_own_mission(w: World, opened: list[int], login):  # noqa: ANN001
    khm_case = w.one(Case, beneficiary_id="BEN-2000001").id
    _screen(w, khm_case, "khm.caseworker", "KHM")
    page = login("hq").get("/m/THA/plugins/ctm/cases/awaiting-determination").get_data(as_text=True)
    assert 'href="/m/KHM/plugins/ctm/records/beneficiary/BEN-2000001/screening"' in page
    assert "BEN-2000001</" not in page and "birth" not in page.lower()  # a minimal record: no identity field
