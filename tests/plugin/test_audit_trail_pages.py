"""Who saw what: the auditor's case trail and mission trail (filters, pages, CSV), the case summary
for print; each only for its permission, in its mission, and each audited itself."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from page_parts import error_on, text
from world import KHM_PERSON, THA_PERSON, World

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import PersonProfile
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.services import audit_trail

ROOT = "/m/THA/plugins/ctm"
TRAIL = f"{ROOT}/audit"
CASE_TRAIL = f"{ROOT}/records/beneficiary/{THA_PERSON}/audit"
PRINT = f"{ROOT}/records/beneficiary/{THA_PERSON}/print"


def events(w: World, count: int, mission: str = "THA", **values: object) -> None:
    """``count`` events written as ``audit.record`` writes them, past the use cases."""
    with w.rt.factory() as s, s.begin():
        for n in range(count):
            s.add(
                AuditEvent(
                    mission_code=mission,
                    **{"username": f"user{n}", "action": "case.view", "case_id": None, "field_groups": [], **values},
                )
            )


def shown_events(page: str) -> list[str]:
    return re.findall(r'data-event="(\d+)"', page)


def test_the_auditor_reads_who_viewed_and_changed_a_case_by_field_group_never_the_values(w: World, login):  # noqa: ANN001
    case_id = w.open()
    caseworker = login("caseworker")
    overview = text(caseworker.get(f"{ROOT}/records/beneficiary/{THA_PERSON}/case"))
    assert 'data-action="audit-trail"' not in overview  # only for the audit permission
    auditor = login("auditor")
    assert 'data-action="audit-trail"' in text(auditor.get(f"{ROOT}/records/beneficiary/{THA_PERSON}/case"))
    page = auditor.get(CASE_TRAIL)
    assert page.status_code == 200
    body = text(page)
    viewed = body[body.index('data-user="caseworker"') :]
    assert 'data-code="case.view"' in body and "Viewed the case" in viewed
    assert "Opened the case" in body and "Identity" in body  # the caseworker's view showed the identity group
    assert [r["action"] for r in w.audit_rows() if r["username"] == "auditor"][-1] == "audit.view"
    assert w.audit_rows()[-1]["case_id"] == case_id


def test_only_audit_holders_in_their_mission_read_the_trail(w: World, login):  # noqa: ANN001
    w.open()
    w.open(KHM_PERSON, "khm.caseworker", "KHM")
    caseworker = login("caseworker")
    for url in (CASE_TRAIL, TRAIL, f"{TRAIL}.csv"):
        assert caseworker.get(url).status_code == 404
    assert 'data-menu="ctm.audit"' not in text(caseworker.get(f"{ROOT}/records/beneficiary/{THA_PERSON}/case"))
    auditor = login("auditor")
    page = text(auditor.get(TRAIL))
    assert 'data-menu="ctm.audit"' in page
    assert 'data-user="caseworker"' in page and "khm.caseworker" not in page
    assert "khm.caseworker" not in auditor.get(f"{TRAIL}.csv").get_data(as_text=True)
    assert auditor.get(f"{ROOT}/records/beneficiary/{KHM_PERSON}/audit").status_code == 404  # KHM's record


def test_the_mission_trail_filtered_by_user_action_and_days(w: World, login):  # noqa: ANN001
    w.open()
    events(w, 1, username="supervisor", action="case.close")
    auditor = login("auditor")
    by_user = text(auditor.get(f"{TRAIL}?username=supervisor"))
    assert set(re.findall(r'data-user="([^"]+)"', by_user)) == {"supervisor"}
    by_action = text(auditor.get(f"{TRAIL}?action=case.open"))
    assert set(re.findall(r'data-code="([a-z._]+)"', by_action)) == {"case.open"}
    assert "Opened the case" in by_action
    today = mission_today(w.ctx("auditor").settings).isoformat()  # Bangkok's day, not the server's
    assert shown_events(text(auditor.get(f"{TRAIL}?from_on=2001-01-01&to_on=2001-01-31"))) == []
    assert len(shown_events(text(auditor.get(f"{TRAIL}?from_on=2001-01-01&to_on={today}")))) >= 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from_on=2026-02-01&to_on=2026-01-01", "to_on"),
        ("action=case.delete", "action"),
        ("from_on=yesterday", "from_on"),
        ("to_on=9999-12-31", "to_on"),  # no moment in UTC after the mission's last day of 9999
        ("username=" + "u" * 81, "username"),
    ],
)
def test_a_wrong_filter_is_said_at_its_field_and_the_trail_is_not_shown(w: World, login, query: str, field: str):  # noqa: ANN001
    page = login("auditor").get(f"{TRAIL}?{query}")
    assert page.status_code == 422
    assert error_on(text(page), "trail", field) and 'data-table="audit"' not in text(page)


def test_a_page_that_is_not_a_number_says_so_not_a_500(w: World, login):  # noqa: ANN001
    page = login("auditor").get(f"{TRAIL}?before=abc")
    assert page.status_code == 422 and "Enter a whole number." in text(page)


def test_the_trail_pages_newest_first_without_gaps_or_repeats(w: World, login):  # noqa: ANN001
    events(w, audit_trail.PAGE_SIZE + 10, action="case.open")
    auditor = login("auditor")
    first = text(auditor.get(f"{TRAIL}?action=case.open"))
    shown = shown_events(first)
    assert len(shown) == audit_trail.PAGE_SIZE and shown == sorted(shown, key=int, reverse=True)
    older = re.search(r'data-action="older" href="([^"]+)"', first)
    assert older
    second = text(auditor.get(older.group(1).replace("&amp;", "&")))
    rest = shown_events(second)
    assert len(rest) == 10 and not set(rest) & set(shown) and int(rest[0]) < int(shown[-1])
    assert 'data-action="older"' not in second


def test_the_csv_export_neutralises_formulas_and_is_audited(w: World, login):  # noqa: ANN001
    dangerous = ["=HYPERLINK(1)", "+1", "-1", "@SUM(1)", "\tx", "\rx"]
    for name in dangerous:
        events(w, 1, username=name)
    auditor = login("auditor")
    answer = auditor.get(f"{TRAIL}.csv?action=case.view")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Time", "User", "Action", "Action code", "Case", "Field groups"]
    users = {row[1] for row in rows[1:]}
    assert {"'" + name for name in dangerous} <= users
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    exports = [r for r in w.audit_rows() if r["action"] == "audit.export"]
    assert [(r["username"], r["mission_code"]) for r in exports] == [("auditor", "THA")]


def test_a_wrong_export_filter_is_said_at_its_field_and_nothing_is_exported(w: World, login):  # noqa: ANN001
    answer = login("auditor").get(f"{TRAIL}.csv?to_on=someday")
    assert answer.status_code == 422 and error_on(text(answer), "trail", "to_on")
    assert not [r for r in w.audit_rows() if r["action"] == "audit.export"]


def test_the_csv_streams_every_page_of_a_long_trail(w: World, login):  # noqa: ANN001
    events(w, audit_trail.EXPORT_BATCH + 3, action="case.reopen")
    rows = login("auditor").get(f"{TRAIL}.csv?action=case.reopen").get_data(as_text=True).splitlines()
    assert len(rows) == 1 + audit_trail.EXPORT_BATCH + 3


def test_the_print_shows_identity_only_to_its_holders_and_is_audited(w: World, login):  # noqa: ANN001
    case_id = w.open()
    with w.rt.factory() as s, s.begin():
        s.execute(
            sa.update(PersonProfile)
            .where(PersonProfile.case_id == case_id)
            .values(birth_date=date(1994, 7, 2), birth_date_precision="Day")
        )
    caseworker = text(login("caseworker").get(PRINT))
    assert "Confidential" in caseworker and 'data-mark="confidential"' in caseworker
    assert 'data-value="birth_date"' in caseworker and "1994" in caseworker
    assert "Printed by Dara Caseworker" in caseworker
    assert 'data-value="owner">Dara Caseworker<' in caseworker  # the owner by name, as on the overview
    auditor = text(login("auditor").get(PRINT))  # the case, not the person's identity
    assert "Confidential" in auditor and "1994" not in auditor and 'data-field="birth_date"' in auditor
    printed = [(r["username"], r["field_groups"]) for r in w.audit_rows() if r["action"] == "case.print"]
    assert printed == [
        ("caseworker", ["case", "determination", "identity", "person", "victim"]),
        ("auditor", ["case", "determination", "person", "victim"]),
    ]
    assert 'data-action="print"' in text(login("caseworker").get(f"{ROOT}/records/beneficiary/{THA_PERSON}/case"))


def test_the_print_of_no_case_or_without_the_case_permission_is_404(w: World, login):  # noqa: ANN001
    assert login("caseworker").get(PRINT).status_code == 404  # no case opened yet
    w.open()
    assert login("integrator").get(PRINT).status_code == 404
    assert not [r for r in w.audit_rows() if r["action"] == "case.print"]


def test_a_cases_trail_pages_too_and_a_page_that_is_no_number_is_404(w: World, login):  # noqa: ANN001
    case_id = w.open()
    events(w, audit_trail.PAGE_SIZE, case_id=case_id)  # with the case's opening: one more than a page
    auditor = login("auditor")
    first = text(auditor.get(CASE_TRAIL))
    assert len(shown_events(first)) == audit_trail.PAGE_SIZE and "Opened the case" not in first
    older = re.search(r'data-action="older" href="([^"]+)"', first)
    assert older
    assert "Opened the case" in text(auditor.get(older.group(1).replace("&amp;", "&")))
    assert auditor.get(f"{CASE_TRAIL}?before=abc").status_code == 404
    assert login("admin").get(CASE_TRAIL).status_code == 200  # the mission administrator audits too
