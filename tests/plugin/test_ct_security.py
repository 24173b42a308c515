"""The CT tabs against the ways a page could give away what a user may not see, or change what
they may not touch: identity fields, free text rendered as markup, forged row ids, another
mission's records, and the trafficking status without the determination permission.

Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from markupsafe import escape

from ctm_plugin.domain.assistance import AssistanceService, Consent
from ctm_plugin.domain.audit import AuditChainHead, AuditEvent
from ctm_plugin.domain.case import Case, PersonProfile, VictimContext
from ctm_plugin.domain.models import Base as CtmBase
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.screening import Screening
from ctm_plugin.services.cases import NOT_YOURS_TO_DETERMINE
from ctm_plugin.web.dates import day
from mimosa_host.accounts import add_user, grant
from mimosa_host.db import transaction
from mimosa_host.models import Beneficiary
from mimosa_host.passwords import hash_password

REF = "BEN-1000001"
OTHER_REF = "BEN-1000002"
KHM_REF = "BEN-2000001"


def base(ref: str = REF, mission: str = "THA") -> str:
    return f"/m/{mission}/plugins/ctm/records/beneficiary/{ref}"


TABS = ("case", "screening", "process", "assistance", "consent")
EVENT = {"type": "Recruitment", "country": "KHM", "locality": "Battambang"}
SERVICE = {"type": "Shelter", "provider": "Safe House", "status": "Ongoing", "start_date": "2024-02-02"}
SCREENED = {"interview_date": "2024-02-01", "place": "Office", "interviewer": "Dara"}
CONSENT = {
    "purpose": "Referral",
    "given_on": "2024-02-01",
    "method": "Written",
    "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
}


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def version(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, "the page has no form with the case version"
    return match.group(1)


def post_form(browser, tab: str, action: str, data: dict, ref: str = REF):  # noqa: ANN001, ANN201
    """Read the tab (for the CSRF token and the case version), then post one of its forms."""
    page = text(browser.get(f"{base(ref)}/{tab}"))
    return browser.post(f"{base(ref)}/{action}", {"version": version(page), **data})


def saved(response) -> None:  # noqa: ANN001
    assert response.status_code == 303, text(response)


def open_case(browser, ref: str = REF, mission: str = "THA") -> None:  # noqa: ANN001
    browser.get(f"{base(ref, mission)}/case")
    saved(browser.post(f"{base(ref, mission)}/case/open", {"opened_on": "2024-01-10"}))


def snapshot(demo, views: bool = True) -> dict[str, list[tuple]]:  # noqa: ANN001
    """Every row of every CTM table, to show that a refused request saved nothing.

    ``views=False`` leaves out the audit trail, where showing a page again records a view, and the audit
    chain's end, which moves with it.
    """
    with demo.engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key))]
            for table in CtmBase.metadata.sorted_tables
            if views or table.name not in (AuditEvent.__tablename__, AuditChainHead.__tablename__)
        }


def make_user(demo, username: str, roles: tuple[str, ...], mission: str = "THA") -> str:  # noqa: ANN001
    """A user holding ``roles`` in ``mission`` only; returns the password."""
    password = f"{username}-password-2026"
    with transaction(demo.factory) as s:
        user = add_user(s, username, username.title(), hash_password(password))
        for role in roles:
            grant(s, user, mission, role)
    return password


@pytest.fixture
def caseworker(login):  # noqa: ANN001, ANN201
    """The caseworker, with the beneficiary's case open in THA."""
    browser = login("caseworker")
    open_case(browser)
    return browser


# -- identity fields ----------------------------------------------------------------------------

BIRTH_DATE = date(1993, 7, 21)


def test_identity_fields_appear_nowhere_for_a_user_without_the_identity_permission(caseworker, login, demo):
    with demo.factory() as s:
        host_birth_date = s.scalar(sa.select(Beneficiary.birth_date).where(Beneficiary.beneficiary_id == REF))
    assert host_birth_date != BIRTH_DATE  # the host's frame may show its own; this one is the case's
    saved(
        post_form(
            caseworker,
            "case",
            "case/person",
            {"gender": "Feminine", "birth_date": BIRTH_DATE.isoformat(), "birth_date_precision": "Day"},
        )
    )
    saved(post_form(caseworker, "process", "process/events", EVENT))
    with demo.factory() as s:
        event_id = s.scalar(sa.select(TraffickingEvent.id))
        assert s.scalar(sa.select(PersonProfile.birth_date)) == BIRTH_DATE
    perpetrator = {"alias": "Uncle Sokhom", "roles": ["Transporter"], "event_ids": [str(event_id)]}
    saved(post_form(caseworker, "process", "process/perpetrators", perpetrator))

    shown = text(caseworker.get(f"{base()}/case"))
    assert f'value="{BIRTH_DATE.isoformat()}"' in shown  # the caseworker holds the identity permission
    assert "Uncle Sokhom" in text(caseworker.get(f"{base()}/process"))

    spellings = {BIRTH_DATE.isoformat(), day(BIRTH_DATE), "7/21/1993", "21/07/1993", "1993-07", "Jul 21"}
    for username in ("auditor", "hq"):  # case view without identity; hq may determine, still no identity
        browser = login(username)
        overview = text(browser.get(f"{base()}/case"))
        assert 'data-field="birth_date"' in overview and "Identity fields are hidden" in overview, username
        assert 'name="birth_date"' not in overview, username
        for tab in TABS:
            page = text(browser.get(f"{base()}/{tab}"))
            assert not any(spelling in page for spelling in spellings), (username, tab)
            assert "Uncle Sokhom" not in page and "Sokhom" not in page, (username, tab)
        process = text(browser.get(f"{base()}/process"))
        assert "Aliases are hidden" in process and "Perpetrator 1" in process, username


# -- free text is text, never markup ------------------------------------------------------------

MARKUP = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '"><img')


def payload(name: str) -> str:
    """The markup, tagged with the field it went into, so each field's rendering is checked."""
    return f"{name} {MARKUP}"


def assert_escaped(page: str, *names: str, where: str = "") -> None:
    for raw in RAW:
        assert raw not in page, (where, raw)
    for name in names:
        assert str(escape(payload(name))) in page, (where, name)


def test_free_text_is_escaped_on_every_tab(caseworker, login, demo):
    assert str(escape(MARKUP)) == "&lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
    screening = {
        "interview_date": "2024-02-01",
        "place": payload("place"),
        "interviewer": payload("interviewer"),
        "interpreter": payload("interpreter"),
        "age_at_act": "24",
        "acts": ["Recruitment"],
        "means": ["Deception"],
        "purposes": ["ForcedLabour"],
    }
    # Refused (age out of range): the page shows back what was typed, escaped.
    refused = post_form(caseworker, "screening", "screening/record", {**screening, "age_at_act": "300"})
    assert refused.status_code == 422
    assert_escaped(text(refused), "place", "interviewer", "interpreter", where="refused screening")

    saved(post_form(caseworker, "screening", "screening/record", screening))
    event = {**EVENT, "locality": payload("locality"), "notes": payload("event-notes")}
    saved(post_form(caseworker, "process", "process/events", event))
    with demo.factory() as s:
        event_id = s.scalar(sa.select(TraffickingEvent.id))
    perpetrator = {
        "alias": payload("alias"),
        "roles": ["Transporter"],
        "event_ids": [str(event_id)],
        "notes": payload("perpetrator-notes"),
    }
    saved(post_form(caseworker, "process", "process/perpetrators", perpetrator))
    service = {
        "type": "Psychosocial",
        "provider": payload("provider"),
        "status": "Ongoing",
        "start_date": "2024-02-02",
        "notes": payload("service-notes"),
    }
    saved(post_form(caseworker, "assistance", "assistance/services", service))
    saved(post_form(caseworker, "consent", "consent/record", CONSENT))
    with demo.factory() as s:
        consent_id = s.scalar(sa.select(Consent.id))
    withdrawal = {"withdrawn_on": "2024-03-01", "reason": payload("withdrawal")}
    saved(post_form(caseworker, "consent", f"consent/{consent_id}/withdraw", withdrawal))
    referral = {
        "direction": "Incoming",
        "organisation": payload("organisation"),
        "organisation_type": "LegalService",
        "referred_on": "2024-02-05",
        "reason": "AdditionalServicesRequired",
        "case_worker": payload("case-worker"),
        "details": payload("referral-details"),
    }
    saved(post_form(caseworker, "consent", "consent/referrals", referral))
    hq = login("hq")
    saved(
        post_form(hq, "screening", "screening/determine", {"decision": "Undetermined", "reason": payload("decision")})
    )
    closing = {
        "status": "Closed",
        "confirmed": "y",
        "close_reason": "Other",
        "closed_on": "2024-04-01",
        "reason": payload("closing"),
    }
    saved(post_form(caseworker, "case", "case/close", closing))

    expected = {
        "case": ("closing",),
        "screening": ("place", "interviewer", "interpreter", "decision"),
        "process": ("locality", "event-notes", "alias", "perpetrator-notes"),
        "assistance": ("provider", "service-notes"),
        "consent": ("withdrawal", "organisation", "case-worker", "referral-details"),
    }
    for tab, names in expected.items():
        assert_escaped(text(caseworker.get(f"{base()}/{tab}")), *names, where=tab)
    # The host's frame around the tabs (the record page) shows none of it as markup either.
    for raw in RAW:
        assert raw not in text(caseworker.get(f"/m/THA/beneficiaries/{REF}"))


# -- forged row ids -----------------------------------------------------------------------------


def test_a_row_of_another_case_is_404_and_nothing_changes(caseworker, demo):
    open_case(caseworker, OTHER_REF)
    saved(post_form(caseworker, "process", "process/events", EVENT, ref=OTHER_REF))
    saved(post_form(caseworker, "consent", "consent/record", CONSENT, ref=OTHER_REF))
    saved(post_form(caseworker, "assistance", "assistance/services", SERVICE, ref=OTHER_REF))
    saved(post_form(caseworker, "process", "process/perpetrators", {"roles": ["Exploiter"]}, ref=OTHER_REF))
    saved(post_form(caseworker, "screening", "screening/record", SCREENED, ref=OTHER_REF))
    with demo.factory() as s:
        other_case = s.scalar(sa.select(Case.id).where(Case.beneficiary_id == OTHER_REF))
        event_id = s.scalar(sa.select(TraffickingEvent.id).where(TraffickingEvent.case_id == other_case))
        consent_id = s.scalar(sa.select(Consent.id).where(Consent.case_id == other_case))
        service_id = s.scalar(sa.select(AssistanceService.id).where(AssistanceService.case_id == other_case))
        perpetrator_id = s.scalar(sa.select(Perpetrator.id).where(Perpetrator.case_id == other_case))
        screening_id = s.scalar(sa.select(Screening.id).where(Screening.case_id == other_case))

    current = version(text(caseworker.get(f"{base()}/process")))  # the first case's version and a token
    before = snapshot(demo)
    forged = {
        f"process/events/{event_id}": {**EVENT, "locality": "Forged"},
        f"consent/{consent_id}/withdraw": {"withdrawn_on": "2024-03-01", "reason": "Forged"},
        f"assistance/services/{service_id}": {**SERVICE, "provider": "Forged"},
        f"process/perpetrators/{perpetrator_id}": {"roles": ["Transporter"], "notes": "Forged"},
        f"screening/{screening_id}/correct": {**SCREENED, "place": "Forged", "reason": "Forged"},
    }
    for action, data in forged.items():
        response = caseworker.post(f"{base()}/{action}", {"version": current, **data})
        assert response.status_code == 404, action
    assert snapshot(demo) == before

    # Through its own case the same rows can be changed: the 404 was for the mismatch.
    saved(post_form(caseworker, "process", f"process/events/{event_id}", {**EVENT, "locality": "Poipet"}, OTHER_REF))
    with demo.factory() as s:
        assert s.get(TraffickingEvent, event_id).locality == "Poipet"


# -- another mission ----------------------------------------------------------------------------


def test_a_record_of_another_mission_is_404_and_shows_nothing_of_it(login, demo):
    caseworker = login("caseworker")  # roles in THA, KHM and MDA
    for tab in TABS:
        assert caseworker.get(f"{base(mission='KHM')}/{tab}").status_code == 404, tab

    open_case(caseworker)
    saved(
        post_form(
            caseworker,
            "screening",
            "screening/record",
            {
                "interview_date": "2024-02-01",
                "place": "Bangkok shelter",
                "interviewer": "Dara",
                "acts": ["Recruitment"],
                "purposes": ["ForcedLabour"],
            },
        )
    )
    with demo.factory() as s:
        case_number = s.scalar(sa.select(Case.case_number).where(Case.beneficiary_id == REF))
    assert case_number in text(caseworker.get(f"{base()}/case"))

    for tab in TABS:
        response = caseworker.get(f"{base(mission='KHM')}/{tab}")
        assert response.status_code == 404, tab
        page = text(response)
        assert case_number not in page and "Bangkok shelter" not in page, tab
    current = version(text(caseworker.get(f"{base()}/process")))
    before = snapshot(demo)
    for action, data in {"process/events": EVENT, "case/open": {"opened_on": "2024-01-10"}}.items():
        response = caseworker.post(f"{base(mission='KHM')}/{action}", {"version": current, **data})
        assert response.status_code == 404, action
    assert snapshot(demo) == before

    # The KHM tab of a KHM beneficiary knows nothing of the THA case either.
    page = text(caseworker.get(f"{base(KHM_REF, 'KHM')}/case"))
    assert "No counter-trafficking case has been opened" in page and case_number not in page


# -- the trafficking status is a determination ---------------------------------------------------


def victim_select(page: str, name: str) -> str:
    match = re.search(rf'<select id="victim-{name}"[^>]*>', page)
    assert match, name
    return match.group(0)


def test_only_a_user_who_may_determine_changes_the_trafficking_status(caseworker, login, demo):
    roles = ("host.officer", "ctm.caseworker", "ctm.hq_programme_manager")
    decider = login("decider", make_user(demo, "decider", roles))

    page = text(decider.get(f"{base()}/case"))
    for name in ("trafficking_status", "status_decided_by"):
        assert " disabled" not in victim_select(page, name), name
    assert 'data-note="trafficking_status"' not in page
    status = {"trafficking_status": "ActualVictimOfTrafficking", "status_decided_by": "Police"}
    saved(post_form(decider, "case", "case/victim", status))

    page = text(caseworker.get(f"{base()}/case"))
    for name in ("trafficking_status", "status_decided_by"):
        assert " disabled" in victim_select(page, name), name
    assert " disabled" not in victim_select(page, "labour_industry")
    assert 'data-note="trafficking_status"' in page
    assert "Only a user with the determination permission may change the trafficking status" in page
    assert re.search(r'<option value="ActualVictimOfTrafficking" selected>', page)

    # What the browser sends without the disabled selects: the status stays, the rest is saved.
    saved(post_form(caseworker, "case", "case/victim", {"age_first_trafficked": "16"}))
    with demo.factory() as s:
        victim = s.scalar(sa.select(VictimContext))
        assert (victim.trafficking_status, victim.status_decided_by) == ("ActualVictimOfTrafficking", "Police")
        assert victim.age_first_trafficked == 16

    # A forged change is refused on the field; the select shows the stored value, nothing is saved.
    before = snapshot(demo, views=False)
    forged = post_form(caseworker, "case", "case/victim", {"trafficking_status": "NotAVictimOfTrafficking"})
    assert forged.status_code == 422
    page = text(forged)
    field = page[page.index('data-field="trafficking_status"') : page.index('data-field="status_decided_by"')]
    assert 'class="ctm-error"' in field and NOT_YOURS_TO_DETERMINE in page.replace("&#39;", "'")
    assert '<option value="ActualVictimOfTrafficking" selected>' in field
    assert snapshot(demo, views=False) == before

    # The auditor reads the form with everything disabled, and no note meant for editors.
    page = text(login("auditor").get(f"{base()}/case"))
    assert 'data-note="trafficking_status"' not in page
