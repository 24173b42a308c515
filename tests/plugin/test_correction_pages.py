"""Correcting saved records on the CT tabs, as a caseworker meets it: a service under way marked completed,
a perpetrator corrected, a screening corrected with a reason and its earlier version kept in the history;
the screening form starting from the caseworker's name and from the age the case already tells.

A wrong form is refused with the error at its field (422) and a stale one with the conflict message (409),
nothing saved either way. Runs on SQLite, and on PostgreSQL when configured.
"""

from __future__ import annotations

import re

import pytest
from page_parts import error_on, field, text
from test_ct_tabs import BASE, CONFLICT, SCREENING, post_form
from test_ct_tabs import caseworker as caseworker_with_a_case  # noqa: F401 - a fixture, by this name

from ctm_plugin.domain.assistance import AssistanceService
from ctm_plugin.domain.process import Perpetrator
from ctm_plugin.domain.screening import Screening


@pytest.fixture
def caseworker(caseworker_with_a_case):  # noqa: ANN001, ANN201, F811 - the imported fixture, by its name
    """The caseworker with the beneficiary's case open in THA, as on the other tabs' tests."""
    return caseworker_with_a_case


SHELTER = {"type": "Shelter", "provider": "Safe House", "status": "Ongoing", "start_date": "2024-02-02"}


def only(demo, model):  # noqa: ANN001, ANN201
    with demo.factory() as s:
        [row] = s.query(model).all()
        return row


def test_a_shelter_under_way_is_marked_completed_with_its_end_date(caseworker, demo):
    assert post_form(caseworker, "assistance", "assistance/services", SHELTER).status_code == 303
    service_id = only(demo, AssistanceService).id
    form, action = f"service-{service_id}", f"assistance/services/{service_id}"
    page = text(caseworker.get(f"{BASE}/assistance"))
    assert 'value="Safe House"' in field(page, form, "provider")  # the form starts from what is saved

    no_end = post_form(caseworker, "assistance", action, {**SHELTER, "status": "Completed"})
    assert no_end.status_code == 422 and error_on(text(no_end), form, "end_date")
    assert "A completed service needs its end date." in field(text(no_end), form, "end_date")
    ahead = post_form(caseworker, "assistance", action, {**SHELTER, "end_date": "2999-01-01"})
    assert ahead.status_code == 422 and error_on(text(ahead), form, "end_date")
    stale = post_form(
        caseworker, "assistance", action, {**SHELTER, "status": "Completed", "end_date": "2024-03-01"}, stale=True
    )
    assert stale.status_code == 409 and CONFLICT in text(stale)
    assert only(demo, AssistanceService).status == "Ongoing"

    done = post_form(caseworker, "assistance", action, {**SHELTER, "status": "Completed", "end_date": "2024-03-01"})
    assert done.status_code == 303
    [row] = re.findall(r"<tr data-service=.*?</tr>", text(caseworker.get(f"{BASE}/assistance")), re.S)
    assert "Completed" in row and "Mar 1, 2024" in row


def test_a_planned_service_may_lie_ahead(caseworker, demo):
    planned = {"type": "Shelter", "provider": "Safe House", "status": "Planned", "start_date": "2999-01-01"}
    assert post_form(caseworker, "assistance", "assistance/services", planned).status_code == 303
    assert only(demo, AssistanceService).start_date.year == 2999


def test_a_perpetrator_is_corrected(caseworker, demo):
    assert post_form(caseworker, "process", "process/events", {"type": "Recruitment"}).status_code == 303
    added = {"alias": "Uncle Sok", "roles": ["Exploiter"]}
    assert post_form(caseworker, "process", "process/perpetrators", added).status_code == 303
    perpetrator_id = only(demo, Perpetrator).id
    form, action = f"perpetrator-{perpetrator_id}", f"process/perpetrators/{perpetrator_id}"

    no_role = post_form(caseworker, "process", action, {**added, "roles": []})
    assert no_role.status_code == 422 and error_on(text(no_role), form, "roles")
    corrected = {"alias": "Uncle Sok", "roles": ["RecruiterOrIntermediary"], "sex": "Masculine"}
    assert post_form(caseworker, "process", action, corrected).status_code == 303
    [row] = re.findall(r"<tr data-perpetrator=.*?</tr>", text(caseworker.get(f"{BASE}/process")), re.S)
    assert "Recruiter or intermediary" in row and "Exploiter" not in row and "Masculine" in row


def test_a_corrected_screening_shows_with_its_history(caseworker, login, demo):  # noqa: ANN001
    page = text(caseworker.get(f"{BASE}/screening"))
    assert 'value="Dara Caseworker"' in field(page, "screening", "interviewer")  # the signed-in user
    assert post_form(caseworker, "screening", "screening/record", {**SCREENING, "means": []}).status_code == 303
    earlier = only(demo, Screening).id
    form, action = f"screening-{earlier}", f"screening/{earlier}/correct"

    no_reason = post_form(caseworker, "screening", action, {**SCREENING, "age_at_act": "15", "means": []})
    assert no_reason.status_code == 422 and error_on(text(no_reason), form, "reason")
    assert 'value="15"' in field(text(no_reason), form, "age_at_act")  # what the user typed stays
    correction = {**SCREENING, "age_at_act": "15", "means": [], "reason": "She was 15: the year was misheard."}
    assert post_form(caseworker, "screening", action, correction).status_code == 303

    page = text(caseworker.get(f"{BASE}/screening"))
    current = re.findall(r'<article class="ctm-card" data-screening="(\d+)"', page)
    assert len(current) == 1 and current[0] != str(earlier)
    history = page[page.index(f'data-history="{current[0]}"') :]
    assert f'data-superseded="{earlier}"' in history
    assert "Corrected by Dara Caseworker" in page and "She was 15: the year was misheard." in page
    assert "The person was under 18 at the time of the act: means are not required." in page
    hq = text(login("hq").get(f"{BASE}/screening"))  # who may determine: on the current screening only
    choices = hq[hq.index('id="determine-screening_id"') :]
    choices = choices[: choices.index("</select>")]
    assert f'<option value="{current[0]}"' in choices and f'<option value="{earlier}"' not in choices


def test_a_child_is_presumed_while_the_age_is_unknown_then_the_form_starts_from_the_derived_age(caseworker):
    believed = {**SCREENING, "age_at_act": "", "means": [], "believed_child": "on"}
    assert post_form(caseworker, "screening", "screening/record", believed).status_code == 303
    page = text(caseworker.get(f"{BASE}/screening"))
    assert 'data-reason="PresumedChild"' in page and "Council of Europe Convention, art. 10(3)" in page
    assert "believed to be a child" in page and 'data-value="derived-age"' not in page

    person = {"birth_date": "2008-05-06", "birth_date_precision": "Day"}
    assert post_form(caseworker, "case", "case/person", person).status_code == 303
    recruitment = {"type": "Recruitment", "start_date": "2023-03-05"}
    assert post_form(caseworker, "process", "process/events", recruitment).status_code == 303
    page = text(caseworker.get(f"{BASE}/screening"))
    assert 'value="14"' in field(page, "screening", "age_at_act")
    assert "the person was 14 at the time of the act" in page
