"""The CT tabs after the overview, as users meet them: screening, trafficking process, assistance,
consent and referrals.

For each tab a caseworker opens a case and reads the tab; a valid form saves (303, then the
data shows); an invalid one is refused with the error next to the field (422) and a stale one
with the conflict message (409), nothing saved either way. The auditor (case view only) reads
the tabs without forms and cannot post. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from jinja2 import UndefinedError
from page_parts import error_on, text, version

from ctm_plugin.domain.assistance import AssistanceService, Consent, Referral
from ctm_plugin.domain.case import Case, CaseHandover
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.security.permissions import CASE_EDIT
from ctm_plugin.services.base import Conflict
from ctm_plugin.testing import in_locale
from ctm_plugin.web import templates
from ctm_plugin.web.dates import moment

MISSION = "THA"
REF = "BEN-1000001"
BASE = f"/m/{MISSION}/plugins/ctm/records/beneficiary/{REF}"
TABS = ("ctm.screening", "ctm.process", "ctm.assistance", "ctm.consent")
CONFLICT = html.escape(Conflict.message)


def count(demo, model) -> int:  # noqa: ANN001
    with demo.factory() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def caseworker(login):  # noqa: ANN001, ANN201
    """The caseworker, with the beneficiary's case open in THA."""
    browser = login("caseworker")
    browser.get(f"{BASE}/case")
    response = browser.post(f"{BASE}/case/open", {"opened_on": "2024-01-10"})
    assert response.status_code == 303, text(response)
    return browser


def post_form(browser, tab: str, action: str, data: dict, stale: bool = False):  # noqa: ANN001, ANN201
    """Read the tab (for the CSRF token and the case version), then post one of its forms."""
    page = text(browser.get(f"{BASE}/{tab}"))
    current = int(version(page))
    return browser.post(f"{BASE}/{action}", {"version": str(current - 1 if stale else current), **data})


# -- the tab bar ------------------------------------------------------------------------


def test_the_tabs_show_once_a_case_is_open_in_their_order(login):
    browser = login("caseworker")
    record = f"/m/{MISSION}/beneficiaries/{REF}"
    before = text(browser.get(record))
    assert 'data-tab="ctm.case"' in before
    assert not any(f'data-tab="{tab}"' in before for tab in TABS)
    assert browser.get(f"{BASE}/screening").status_code == 404  # no case yet

    browser.get(f"{BASE}/case")
    assert browser.post(f"{BASE}/case/open", {"opened_on": "2024-01-10"}).status_code == 303
    after = text(browser.get(record))
    positions = [after.index(f'data-tab="{tab}"') for tab in ("ctm.case", *TABS)]
    assert positions == sorted(positions)
    labels = ["Screening", "Trafficking process", "Assistance", "Consent and referrals"]
    for tab, label in zip(TABS, labels, strict=True):
        assert re.search(rf'data-tab="{tab}"[^>]*>\s*{label}', after)
    screening_page = text(browser.get(f"{BASE}/screening"))
    assert 'data-tab="ctm.screening" aria-current="page"' in screening_page


# -- the overview -----------------------------------------------------------------------


def test_overview_dates_are_shown_as_on_the_other_tabs(caseworker, demo):
    at = datetime(2024, 1, 12, 9, 30, tzinfo=UTC)
    with demo.factory() as s, s.begin():
        case_id = s.scalar(sa.select(Case.id))
        s.add(CaseHandover(case_id=case_id, from_mission="KHM", to_mission="THA", at=at, by="hq"))
    page = text(caseworker.get(f"{BASE}/case"))
    assert "<dt>Opened on</dt><dd>Jan 10, 2024</dd>" in page
    with in_locale("en", "Asia/Bangkok"):  # THA's clock in the demo: 09:30 UTC is 16:30 there
        assert f"<li>KHM to THA on {moment(at)} by hq</li>" in page
    assert "Jan 12, 2024, 4:30:00\u202fPM UTC+07 by hq" in page

    # The close form lists the closing statuses of the schema, in its order.
    close = page[page.index('id="close-status"') : page.index("</select>", page.index('id="close-status"'))]
    assert tuple(re.findall(r'<option value="([^"]*)"', close)) == CLOSED_STATUSES
    closing = {
        "status": "ClosedReferred",
        "close_reason": "Transferred",
        "confirmed": "y",
        "closed_on": "2024-03-05",
        "reason": "Referred to the shelter.",
    }
    assert post_form(caseworker, "case", "case/close", closing).status_code == 303
    page = text(caseworker.get(f"{BASE}/case"))
    assert "<dt>Closed on</dt><dd>Mar 5, 2024</dd>" in page
    french = text(caseworker.get(f"{BASE}/case", headers={"Accept-Language": "fr"}))
    assert "10 janv. 2024" in french and "5 mars 2024" in french and "12 janv. 2024" in french


def test_templates_name_permissions_by_their_constants():
    names = templates.list_templates(extensions=["html"])
    assert "case_overview.html" in names
    for name in names:
        source = templates.loader.get_source(templates, name)[0]
        assert not re.search(r"""can\(\s*['"]""", source), name
        assert not re.search(r"""['"]ctm\.[a-z_]+\.[a-z_]+['"]""", source), name
    assert templates.from_string("{{ perm.CASE_EDIT }}").render() == CASE_EDIT
    with pytest.raises(UndefinedError):  # a misspelt permission fails instead of quietly denying
        templates.from_string("{{ perm.CASE_EDT }}").render()


# -- screening --------------------------------------------------------------------------

SCREENING = {
    "interview_date": "2024-02-01",
    "place": "Bangkok shelter",
    "interviewer": "Dara",
    "interpreter": "Kanya",
    "language": "khm",
    "age_at_act": "24",
    "acts": ["Recruitment", "Transportation"],
    "means": ["Deception"],
    "purposes": ["ForcedLabour"],
}


def test_screening_records_an_interview_and_shows_the_recommendation(caseworker, demo):
    page = text(caseworker.get(f"{BASE}/screening"))
    assert "No screening interview has been recorded yet." in page
    assert 'data-form="screening"' in page
    assert 'data-form="determine"' not in page  # the caseworker may not determine

    response = post_form(caseworker, "screening", "screening/record", SCREENING)
    assert response.status_code == 303
    page = text(caseworker.get(f"{BASE}/screening"))
    assert "Bangkok shelter" in page and "Kanya" in page and "Khmer" in page
    assert "Recruitment, Transportation" in page and "Deception" in page and "Forced labour" in page
    box = page[page.index('class="ctm-recommendation"') :]
    box = box[: box.index("</div>")]
    assert "Victim of trafficking" in box
    assert "A means was recorded." in box and "A purpose of exploitation was recorded." in box
    assert count(demo, Screening) == 1


def test_screening_newest_first_and_a_child_needs_no_means(caseworker):
    post_form(caseworker, "screening", "screening/record", {**SCREENING, "interview_date": "2024-02-01"})
    child = {**SCREENING, "interview_date": "2024-03-01", "age_at_act": "15", "means": [], "place": "Chiang Mai"}
    assert post_form(caseworker, "screening", "screening/record", child).status_code == 303
    page = text(caseworker.get(f"{BASE}/screening"))
    assert page.index("Chiang Mai") < page.index("Bangkok shelter")
    assert "The person was under 18 at the time of the act: means are not required." in page


def test_screening_refuses_invalid_and_stale_forms(caseworker, demo):
    response = post_form(caseworker, "screening", "screening/record", {**SCREENING, "place": "", "age_at_act": "300"})
    assert response.status_code == 422
    page = text(response)
    assert error_on(page, "screening", "place") and error_on(page, "screening", "age_at_act")
    assert not error_on(page, "screening", "interviewer")
    assert 'value="Kanya"' in page  # what the user typed stays

    stale = post_form(caseworker, "screening", "screening/record", SCREENING, stale=True)
    assert stale.status_code == 409
    assert CONFLICT in text(stale)
    assert count(demo, Screening) == 0


def test_determination_needs_the_permission_and_keeps_its_history(caseworker, login, demo):
    post_form(caseworker, "screening", "screening/record", SCREENING)
    # The caseworker may view the case but not determine: the service refuses, on the decision field.
    refused = post_form(caseworker, "screening", "screening/determine", {"decision": "NotAVictim", "reason": "x"})
    assert refused.status_code == 422
    assert error_on(text(refused), "determine", "decision")
    assert "You may not record a determination." in text(refused)
    assert count(demo, Determination) == 0

    hq = login("hq")  # case view and determination, no case edit
    page = text(hq.get(f"{BASE}/screening"))
    assert 'data-form="determine"' in page and 'data-form="screening"' not in page
    with demo.factory() as s:
        screening_id = s.scalar(sa.select(Screening.id))
    missing = post_form(hq, "screening", "screening/determine", {"decision": "VictimOfTrafficking", "reason": ""})
    assert missing.status_code == 422 and error_on(text(missing), "determine", "reason")
    foreign = post_form(
        hq,
        "screening",
        "screening/determine",
        {"decision": "VictimOfTrafficking", "reason": "r", "screening_id": "999"},
    )
    assert foreign.status_code == 422 and error_on(text(foreign), "determine", "screening_id")
    stale = post_form(hq, "screening", "screening/determine", {"decision": "NotAVictim", "reason": "r"}, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert count(demo, Determination) == 0

    first = {"decision": "Undetermined", "reason": "Waiting for the police report.", "screening_id": str(screening_id)}
    assert post_form(hq, "screening", "screening/determine", first).status_code == 303
    second = {"decision": "VictimOfTrafficking", "reason": "The three elements are met."}
    assert post_form(hq, "screening", "screening/determine", second).status_code == 303
    page = text(hq.get(f"{BASE}/screening"))
    table = page[page.index('data-table="determinations"') :]
    rows = re.findall(r"<tr data-determination=.*?</tr>", table, re.S)
    assert len(rows) == 2
    assert "Undetermined → <strong>Victim of trafficking</strong>" in rows[0] and "Ana HQ Programme Manager" in rows[0]
    assert "— → <strong>Undetermined</strong>" in rows[1] and "Based on the interview of" in rows[1]
    overview = text(hq.get(f"{BASE}/case"))
    assert re.search(r'data-value="determination">Victim of trafficking<', overview)


# -- the trafficking process ------------------------------------------------------------

EVENT = {"type": "Recruitment", "country": "KHM", "locality": "Battambang"}


def add_events(browser) -> None:  # noqa: ANN001
    transit = {"type": "Transit", "country": "THA", "locality": "Aranyaprathet", "transport": "Bus"}
    exploitation = {"type": "Exploitation", "country": "THA", "locality": "Samut Sakhon", "transport": "Truck"}
    events = [
        {**EVENT, "start_date": "2023-03-05", "start_precision": "Month"},
        {
            **transit,
            "border_crossing": "Irregular",
            "documents": "None",
            "start_date": "2023-04-01",
            "start_precision": "Year",
        },
        {
            **exploitation,
            "start_date": "2023-04-20",
            "end_date": "2024-01-02",
            "latitude": "13.5",
            "longitude": "100.27",
        },
        {"type": "Transit", "country": "MYS", "transport": "Boat"},
        {"type": "Exit", "country": "MYS", "exit_mode": "Police", "notes": "Raid on the boat."},
    ]
    for event in events:
        response = post_form(browser, "process", "process/events", event)
        assert response.status_code == 303, text(response)


def test_process_shows_the_timeline_with_dates_as_precise_as_known(caseworker, demo):
    page = text(caseworker.get(f"{BASE}/process"))
    assert "No event has been recorded yet." in page and 'data-form="event"' in page
    add_events(caseworker)
    page = text(caseworker.get(f"{BASE}/process"))
    timeline = page[page.index('<ol class="ctm-timeline">') : page.index("</ol>")]
    items = re.findall(r"<li data-event=.*?</li>", timeline, re.S)
    types = [re.search(r"<h4>([^<]+)", item).group(1).strip() for item in items]
    assert types == ["Recruitment", "Transit", "Exploitation", "Transit", "Exit from trafficking"]
    assert "3/2023" in items[0] and "Battambang, Cambodia" in items[0]
    assert ">2023<" in items[1] and "Bus or coach" in items[1] and "Irregular crossing" in items[1]
    assert "No documents" in items[1]
    assert "Apr 20, 2023 to Jan 2, 2024" in items[2] and "(13.5, 100.27)" in items[2]
    assert "date unknown" in items[3]
    assert "Police intervention" in items[4] and "Raid on the boat." in items[4]
    assert count(demo, TraffickingEvent) == 5


def test_process_dates_follow_the_reader_language(caseworker):
    add_events(caseworker)
    page = text(caseworker.get(f"{BASE}/process", headers={"Accept-Language": "fr"}))
    assert "03/2023" in page and "20 avr. 2023" in page and "date inconnue" in page


def test_process_draws_the_route_country_by_country(caseworker):
    add_events(caseworker)
    page = text(caseworker.get(f"{BASE}/process"))
    svg = page[page.index("<svg") : page.index("</svg>")]
    boxes = re.findall(r'<g class="stop">.*?</g>', svg)
    assert [re.sub(r"<[^>]+>", "", box) for box in boxes] == ["Cambodia", "Thailand", "Malaysia"]
    legs = [re.sub(r"<[^>]+>", "", leg) for leg in re.findall(r'<g class="leg">.*?</g>', svg)]
    assert legs == ["Bus or coach", "Boat"]
    summary = "Route: from Cambodia, to Thailand by Bus or coach, to Malaysia by Boat."
    assert f"<title>{summary}</title>" in svg and f'aria-label="{summary}"' in svg
    assert not re.search(r"\sstyle=", svg)  # the CSP forbids inline styles


def test_process_refuses_invalid_and_stale_events(caseworker, demo):
    exit_without_mode = post_form(caseworker, "process", "process/events", {"type": "Exit", "latitude": "10"})
    assert exit_without_mode.status_code == 422
    page = text(exit_without_mode)
    assert error_on(page, "event", "exit_mode")
    assert 'id="event-latitude"' in page and 'step="any"' in page
    half = post_form(caseworker, "process", "process/events", {**EVENT, "latitude": "10"})
    assert half.status_code == 422 and error_on(text(half), "event", "longitude")
    backwards = {**EVENT, "start_date": "2023-05-01", "end_date": "2023-01-01"}
    backwards = post_form(caseworker, "process", "process/events", backwards)
    assert backwards.status_code == 422 and error_on(text(backwards), "event", "end_date")
    stale = post_form(caseworker, "process", "process/events", EVENT, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert count(demo, TraffickingEvent) == 0


def test_process_edits_an_event_in_place(caseworker, demo, login):
    add_events(caseworker)
    with demo.factory() as s:
        first, second = s.scalars(sa.select(TraffickingEvent.id).order_by(TraffickingEvent.sequence)).all()[:2]
    page = text(caseworker.get(f"{BASE}/process"))
    assert f'data-form="event-{first}"' in page and f'action="{BASE}/process/events/{first}"' in page

    edited = {**EVENT, "locality": "Poipet", "start_date": "2023-03-05", "start_precision": "Day"}
    assert post_form(caseworker, "process", f"process/events/{first}", edited).status_code == 303
    page = text(caseworker.get(f"{BASE}/process"))
    assert "Poipet, Cambodia" in page and "Mar 5, 2023" in page and "Battambang" not in page

    refused = post_form(caseworker, "process", f"process/events/{second}", {"type": "Transit", "exit_mode": "Police"})
    assert refused.status_code == 422
    page = text(refused)
    assert error_on(page, f"event-{second}", "exit_mode") and not error_on(page, "event", "exit_mode")
    unfolded = rf'<details class="ctm-edit" open>\s*<summary>[^<]*</summary>\s*<form[^>]*data-form="event-{second}"'
    assert re.search(unfolded, page)
    stale = post_form(caseworker, "process", f"process/events/{second}", EVENT, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert post_form(caseworker, "process", "process/events/999999", EVENT).status_code == 404
    assert post_form(caseworker, "process", f"process/events/{2**70}", EVENT).status_code == 404
    with demo.factory() as s:
        assert s.get(TraffickingEvent, second).type == "Transit"


def test_process_adds_perpetrators_linked_to_events(caseworker, demo, login):
    add_events(caseworker)
    with demo.factory() as s:
        ids = s.scalars(sa.select(TraffickingEvent.id).order_by(TraffickingEvent.sequence)).all()
    page = text(caseworker.get(f"{BASE}/process"))
    assert 'name="alias"' in page
    assert all(f'name="event_ids" value="{i}"' in page for i in ids)

    no_role = post_form(caseworker, "process", "process/perpetrators", {"alias": "Uncle Sok", "event_ids": [ids[0]]})
    assert no_role.status_code == 422 and error_on(text(no_role), "perpetrator", "roles")
    assert 'value="Uncle Sok"' in text(no_role)
    stale = post_form(caseworker, "process", "process/perpetrators", {"roles": ["Transporter"]}, stale=True)
    assert stale.status_code == 409
    assert count(demo, Perpetrator) == 0

    perpetrator = {
        "alias": "Uncle Sok",
        "roles": ["RecruiterOrIntermediary", "Transporter"],
        "sex": "Masculine",
        "nationality": "KHM",
        "relationship_to_victim": "Friend",
        "event_ids": [str(ids[0]), str(ids[1])],
        "notes": "Met at the market.",
    }
    response = post_form(caseworker, "process", "process/perpetrators", perpetrator)
    assert response.status_code == 303, text(response)
    page = text(caseworker.get(f"{BASE}/process"))
    row = re.search(r"<tr data-perpetrator=.*?</tr>", page, re.S).group(0)
    assert "Uncle Sok" in row and "Recruiter or intermediary, Transporter" in row and "Cambodia" in row
    assert "1. Recruitment; 2. Transit" in row
    first_event = re.search(rf'<li data-event="{ids[0]}">.*?</li>', page, re.S).group(0)
    assert "Perpetrator 1 (Uncle Sok)" in first_event

    auditor = text(login("auditor").get(f"{BASE}/process"))  # no identity permission
    assert "Recruiter or intermediary, Transporter" in auditor
    assert "Uncle Sok" not in auditor and "Aliases are hidden" in auditor


# -- assistance -------------------------------------------------------------------------

SERVICE = {
    "type": "Psychosocial",
    "provider": "Hope Clinic",
    "provider_type": "NGO",
    "status": "Ongoing",
    "start_date": "2024-02-02",
    "notes": "Weekly sessions.",
}


def test_assistance_lists_services_with_their_htcds_type(caseworker, demo):
    page = text(caseworker.get(f"{BASE}/assistance"))
    assert "No service has been recorded yet." in page and 'data-form="service"' in page
    assert post_form(caseworker, "assistance", "assistance/services", SERVICE).status_code == 303
    shelter = {"type": "Shelter", "provider": "Safe House", "status": "Planned"}
    assert post_form(caseworker, "assistance", "assistance/services", shelter).status_code == 303
    page = text(caseworker.get(f"{BASE}/assistance"))
    rows = re.findall(r"<tr data-service=.*?</tr>", page, re.S)
    assert len(rows) == 2
    assert "Psychosocial support" in rows[0] and ">Health<" in rows[0] and "Hope Clinic" in rows[0]
    assert "Feb 2, 2024" in rows[0] and "Under way" in rows[0] and "Weekly sessions." in rows[0]
    assert "Shelter" in rows[1] and "Social care" in rows[1] and "Planned" in rows[1]


def test_assistance_refuses_invalid_and_stale_services(caseworker, demo):
    no_start = post_form(caseworker, "assistance", "assistance/services", {**SERVICE, "start_date": ""})
    assert no_start.status_code == 422 and error_on(text(no_start), "service", "start_date")
    assert 'value="Hope Clinic"' in text(no_start)
    bad_type = post_form(caseworker, "assistance", "assistance/services", {**SERVICE, "type": "Spa"})
    assert bad_type.status_code == 422 and error_on(text(bad_type), "service", "type")
    stale = post_form(caseworker, "assistance", "assistance/services", SERVICE, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert count(demo, AssistanceService) == 0


# -- consent and referrals --------------------------------------------------------------

CONSENT = {
    "purpose": "Referral",
    "given_on": "2024-02-01",
    "method": "Written",
    "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
    "interpreter_used": "on",
}
REFERRAL = {
    "direction": "Outgoing",
    "organisation": "Legal Aid Bangkok",
    "organisation_type": "LegalService",
    "referred_on": "2024-02-05",
    "reason": "AdditionalServicesRequired",
    "case_worker": "Malai",
    "details": "Labour claim.",
}


def test_consent_is_recorded_per_purpose_with_its_items(caseworker, demo):
    page = text(caseworker.get(f"{BASE}/consent"))
    assert "No consent has been recorded yet." in page and "No referral has been recorded yet." in page
    assert page.count('name="items"') == 7
    assert post_form(caseworker, "consent", "consent/record", CONSENT).status_code == 303
    page = text(caseworker.get(f"{BASE}/consent"))
    card = re.search(r"<article[^>]*data-consent=.*?</article>", page, re.S).group(0)
    assert "Referral to other organisations" in card and "In force" in card
    assert "Feb 1, 2024" in card and "Written" in card
    assert len(re.findall(r'data-ticked="yes"', card)) == 3 and len(re.findall(r'data-ticked="no"', card)) == 4
    assert re.search(r'data-item="InformedOfPurpose" data-ticked="yes"', card)
    assert re.search(r'data-item="InformedOfRetention" data-ticked="no"', card)
    assert 'data-form="withdraw-' in card


def test_consent_refuses_invalid_and_stale_forms(caseworker, demo):
    unconsented = post_form(caseworker, "consent", "consent/record", {**CONSENT, "items": ["InformedOfPurpose"]})
    assert unconsented.status_code == 422 and error_on(text(unconsented), "consent", "items")
    assert re.search(r'value="InformedOfPurpose" checked', text(unconsented))
    stale = post_form(caseworker, "consent", "consent/record", CONSENT, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert count(demo, Consent) == 0


def test_consent_withdrawal(caseworker, demo):
    post_form(caseworker, "consent", "consent/record", CONSENT)
    with demo.factory() as s:
        consent_id = s.scalar(sa.select(Consent.id))
    action = f"consent/{consent_id}/withdraw"
    early = post_form(caseworker, "consent", action, {"withdrawn_on": "2024-01-01"})
    assert early.status_code == 422 and error_on(text(early), f"withdraw-{consent_id}", "withdrawn_on")
    stale = post_form(caseworker, "consent", action, {"withdrawn_on": "2024-03-01"}, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    for missing in ("999999", str(2**70)):
        response = post_form(caseworker, "consent", f"consent/{missing}/withdraw", {"withdrawn_on": "2024-03-01"})
        assert response.status_code == 404
    with demo.factory() as s:
        assert s.get(Consent, consent_id).withdrawn_on is None

    done = post_form(caseworker, "consent", action, {"withdrawn_on": "2024-03-01", "reason": "Changed her mind."})
    assert done.status_code == 303
    page = text(caseworker.get(f"{BASE}/consent"))
    card = re.search(r"<article[^>]*data-consent=.*?</article>", page, re.S).group(0)
    assert "Withdrawn on Mar 1, 2024" in card and "Changed her mind." in card
    assert 'data-form="withdraw-' not in card  # no second withdrawal


def test_an_outgoing_referral_needs_the_referral_consent(caseworker, demo):
    refused = post_form(caseworker, "consent", "consent/referrals", REFERRAL)
    assert refused.status_code == 422
    assert error_on(text(refused), "referral", "direction")
    assert "An outgoing referral needs the person's consent to referral." in html.unescape(text(refused))
    missing = post_form(caseworker, "consent", "consent/referrals", {**REFERRAL, "organisation": ""})
    assert missing.status_code == 422 and error_on(text(missing), "referral", "organisation")
    assert count(demo, Referral) == 0

    incoming = {**REFERRAL, "direction": "Incoming", "organisation": "Border police", "details": ""}
    assert post_form(caseworker, "consent", "consent/referrals", incoming).status_code == 303
    post_form(caseworker, "consent", "consent/record", CONSENT)
    stale = post_form(caseworker, "consent", "consent/referrals", REFERRAL, stale=True)
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert post_form(caseworker, "consent", "consent/referrals", REFERRAL).status_code == 303
    page = text(caseworker.get(f"{BASE}/consent"))
    rows = re.findall(r"<tr data-referral=.*?</tr>", page, re.S)
    assert len(rows) == 2
    assert "Outgoing referral" in rows[0] and "Legal Aid Bangkok" in rows[0] and "Legal service" in rows[0]
    assert "Feb 5, 2024" in rows[0] and "Additional services required" in rows[0] and "Malai" in rows[0]
    assert "Incoming referral" in rows[1] and "Border police" in rows[1]


# -- the auditor: case view only --------------------------------------------------------

POSTS = {
    "screening/record": SCREENING,
    "process/events": EVENT,
    "process/perpetrators": {"roles": ["Transporter"]},
    "assistance/services": SERVICE,
    "consent/record": CONSENT,
    "consent/referrals": REFERRAL,
}


def test_the_auditor_reads_every_tab_without_forms_and_cannot_post(caseworker, login, demo):
    post_form(caseworker, "screening", "screening/record", SCREENING)
    add_events(caseworker)
    post_form(caseworker, "assistance", "assistance/services", SERVICE)
    post_form(caseworker, "consent", "consent/record", CONSENT)
    with demo.factory() as s:
        event_id = s.scalar(sa.select(TraffickingEvent.id))
        consent_id = s.scalar(sa.select(Consent.id))

    auditor = login("auditor")
    expected = {
        "screening": "Bangkok shelter",
        "process": "Battambang",
        "assistance": "Hope Clinic",
        "consent": "Referral to other organisations",
    }
    for tab, seen in expected.items():
        response = auditor.get(f"{BASE}/{tab}")
        assert response.status_code == 200
        page = text(response)
        assert seen in page
        assert 'class="ctm-form' not in page and 'data-form="' not in page, tab

    before = int(version(text(caseworker.get(f"{BASE}/case"))))
    for action, data in {
        **POSTS,
        f"process/events/{event_id}": EVENT,
        f"consent/{consent_id}/withdraw": {"withdrawn_on": "2024-03-01"},
    }.items():
        assert auditor.post(f"{BASE}/{action}", {"version": str(before), **data}).status_code == 404, action
    # The determination route is open to case viewers; the service refuses on the decision field.
    determination = {"version": str(before), "decision": "NotAVictim", "reason": "r"}
    refused = auditor.post(f"{BASE}/screening/determine", determination)
    assert refused.status_code == 422 and error_on(text(refused), "determine", "decision")
    assert count(demo, Determination) == 0
    assert int(version(text(caseworker.get(f"{BASE}/case")))) == before
