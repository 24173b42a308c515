"""Monitoring visits, sustainability surveys and their scores, the supervisor's alerts and a mission's
own scoring model: through the services (both backends) and their pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from world import KHM_PERSON, THA_PERSON, World

from ctm_plugin.domain.monitoring import MonitoringVisit, ScoringModelRevision
from ctm_plugin.scoring.model import NOT_ON_SCALE, UNANSWERED, default_text
from ctm_plugin.scoring.model_test import EXPECTED, SURVEYS
from ctm_plugin.services import monitoring
from ctm_plugin.services.base import Invalid, NotFound

DIMENSIONS = ("economic", "social", "psychosocial")


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


def start(w: World, case_id: int, ctx_user: str = "caseworker", mission: str = "THA") -> None:
    ctx = w.ctx(ctx_user, mission)
    monitoring.set_start(ctx, case_id, {"version": w.version(case_id), "start_on": days_ago(300)})


def visit_form(w: World, case_id: int, on: str, month: int | None = None, answers: dict | None = None, **changes):  # noqa: ANN201
    form = {"version": w.version(case_id), "visited_on": on, "mode": "InPerson", "outcome": "Reached"}
    if month:
        form["schedule_month"] = str(month)
    if answers:
        form.update(monitoring.answers_form(answers))
    return {**form, **changes}


def three_surveys(w: World, case_id: int, user: str = "caseworker", mission: str = "THA") -> None:
    """The three known surveys (ctm_plugin/scoring/model_test.py) at the 3- and 6-month visits and one outside."""
    ctx = w.ctx(user, mission)
    for (on, month), answers in zip(
        ((days_ago(200), 3), (days_ago(100), 6), (days_ago(10), None)), SURVEYS, strict=True
    ):
        monitoring.record_visit(ctx, case_id, visit_form(w, case_id, on, month, answers))


@pytest.fixture
def case_id(w: World) -> int:
    case_id = w.open()
    start(w, case_id)
    return case_id


def test_three_surveys_show_the_scores_computed_by_hand_and_the_fall(w: World, case_id: int):
    three_surveys(w, case_id)
    seen = monitoring.monitoring_of_case(w.ctx("caseworker"), case_id)
    found = [(*(str(row.scores[d]) for d in DIMENSIONS), str(row.overall)) for row in seen.surveys]
    assert found == EXPECTED
    assert [row.fell for row in seen.surveys] == [[], [], ["economic", "psychosocial"]]
    assert [d for d, _label in seen.dimensions] == list(DIMENSIONS)
    stored = w.all(MonitoringVisit, case_id=case_id)
    assert {(v.model_key, v.model_version) for v in stored} == {("iom-rss", 1)}
    assert stored[0].answers == SURVEYS[0] and stored[0].recorded_by == "caseworker"


def test_the_schedule_counts_from_the_start_date_and_shows_what_is_done_missed_overdue_and_planned(
    w: World, case_id: int
):
    ctx = w.ctx("caseworker")
    seen = monitoring.monitoring_of_case(ctx, case_id)
    assert seen.anchor_kind == "start" and seen.anchor == date.today() - timedelta(days=300)
    assert [(s.month, s.state) for s in seen.schedule] == [(3, "overdue"), (6, "overdue"), (12, "planned")]
    monitoring.record_visit(ctx, case_id, visit_form(w, case_id, days_ago(200), 3))
    missed = visit_form(w, case_id, days_ago(100), 6, outcome="Missed", missed_reason="Moved to the city", mode="Phone")
    monitoring.record_visit(ctx, case_id, missed)
    seen = monitoring.monitoring_of_case(ctx, case_id)
    assert [(s.month, s.state) for s in seen.schedule] == [(3, "done"), (6, "missed"), (12, "planned")]
    assert seen.visits[0].missed_reason == "Moved to the city"  # a missed visit is kept, with its reason


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"visited_on": (date.today() + timedelta(days=2)).isoformat()},
            "visited_on",
            "The date cannot be in the future.",
        ),
        ({"visited_on": days_ago(400)}, "visited_on", monitoring.BEFORE_START),
        ({"mode": "Pigeon"}, "mode", "Choose a value from the list."),
        ({"outcome": "Missed"}, "missed_reason", "Say why the visit was missed."),
        ({"schedule_month": "4"}, "schedule_month", monitoring.NOT_SCHEDULED),
        ({"risks": ["Debt", "Aliens"]}, "risks", "Choose a value from the list."),
        (
            {"answer_income": "rich"},
            "answer_income",
            NOT_ON_SCALE % {"question": "Does the person have a source of income?"},
        ),
        ({"answer_work": ""}, "answer_work", UNANSWERED),
        ({"outcome": "Missed", "missed_reason": "Away"}, "outcome", monitoring.MISSED_NO_SURVEY),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(w: World, case_id: int, changes, field, message):
    form = {**visit_form(w, case_id, days_ago(10), answers=SURVEYS[0]), **changes}
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        monitoring.record_visit(w.ctx("caseworker"), case_id, form)
    assert message in refused.value.errors[field], refused.value.errors
    assert w.snapshot() == before


def test_only_case_editors_record_visits_and_only_supervisors_see_alerts(w: World, case_id: int):
    for user in ("researcher", "auditor", "integrator"):
        with pytest.raises(NotFound):
            monitoring.record_visit(w.ctx(user), case_id, visit_form(w, case_id, days_ago(1)))
    for user in ("caseworker", "integrator"):
        with pytest.raises(NotFound):
            monitoring.alerts(w.ctx(user))
    assert w.all(MonitoringVisit) == []


def test_a_case_reaching_the_risk_threshold_or_a_fall_is_listed_for_the_supervisor_without_identity(
    w: World, case_id: int
):
    ctx = w.ctx("caseworker")
    monitoring.record_visit(ctx, case_id, visit_form(w, case_id, days_ago(20), risks=["Debt", "Threats"]))
    assert monitoring.alerts(w.ctx("supervisor")) == []  # 2 of 3
    monitoring.record_visit(ctx, case_id, visit_form(w, case_id, days_ago(5), risks=["Debt", "Threats", "NoIncome"]))
    [alert] = monitoring.alerts(w.ctx("supervisor"))
    assert (alert.risk_count, alert.last_visit_on, alert.fell) == (3, date.today() - timedelta(days=5), [])
    assert alert.beneficiary_id == THA_PERSON and alert.case_number.startswith("THA-CT-")
    assert not {"family_name", "given_name", "birth_date"} & set(vars(alert))


def test_a_missed_visit_after_the_risks_were_found_keeps_the_case_listed(w: World, case_id: int):
    ctx = w.ctx("caseworker")
    risks = ["Debt", "Threats", "NoIncome"]
    monitoring.record_visit(ctx, case_id, visit_form(w, case_id, days_ago(20), risks=risks))
    missed = {**visit_form(w, case_id, days_ago(5)), "outcome": "Missed", "missed_reason": "Phone switched off"}
    monitoring.record_visit(ctx, case_id, missed)
    [alert] = monitoring.alerts(w.ctx("supervisor"))
    assert (alert.risk_count, alert.last_visit_on) == (3, date.today() - timedelta(days=5))


def test_a_risk_posted_twice_counts_once(w: World, case_id: int):
    ctx = w.ctx("caseworker")
    twice = visit_form(w, case_id, days_ago(5), risks=["Debt", "Debt", "Debt", "Threats"])
    monitoring.record_visit(ctx, case_id, twice)
    assert monitoring.alerts(w.ctx("supervisor")) == []  # 2 distinct of 3
    assert w.one(MonitoringVisit, case_id=case_id).risks == ["Debt", "Threats"]


def test_a_fall_alone_lists_the_case(w: World, case_id: int):
    three_surveys(w, case_id)
    [alert] = monitoring.alerts(w.ctx("supervisor"))
    assert (alert.risk_count, alert.fell) == (0, ["economic", "psychosocial"])


def test_khm_never_sees_thas_visits(w: World, case_id: int):
    three_surveys(w, case_id)
    monitoring.record_visit(
        w.ctx("caseworker"), case_id, visit_form(w, case_id, days_ago(1), risks=["Debt", "Threats", "NoIncome"])
    )
    with pytest.raises(NotFound):
        monitoring.monitoring_of_case(w.ctx("khm.caseworker", "KHM"), case_id)
    with pytest.raises(NotFound):
        monitoring.record_visit(w.ctx("khm.caseworker", "KHM"), case_id, visit_form(w, case_id, days_ago(1)))
    assert monitoring.alerts(w.ctx("supervisor", "KHM")) == []
    assert len(monitoring.alerts(w.ctx("supervisor", "THA"))) == 1


def test_a_khm_case_records_its_own_surveys(w: World):
    khm_case = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    start(w, khm_case, "khm.caseworker", "KHM")
    three_surveys(w, khm_case, "khm.caseworker", "KHM")
    seen = monitoring.monitoring_of_case(w.ctx("khm.caseworker", "KHM"), khm_case)
    assert [str(row.overall) for row in seen.surveys] == [e[3] for e in EXPECTED]
    assert {v.mission_code for v in w.all(MonitoringVisit)} == {"KHM"}


# -- a mission's own scoring model ------------------------------------------------------------

OWN = (
    default_text()
    .replace('key = "iom-rss"', 'key = "tha-rss"')
    .replace("[dimensions.economic]\nweight = 0.4", "[dimensions.economic]\nweight = 0.5")
    .replace("[dimensions.social]\nweight = 0.3", "[dimensions.social]\nweight = 0.2")
)


def test_a_missions_own_model_is_checked_saved_and_used_and_earlier_surveys_keep_their_scores(w: World, case_id: int):
    ctx = w.ctx("caseworker")
    monitoring.record_visit(ctx, case_id, visit_form(w, case_id, days_ago(200), 3, SURVEYS[0]))
    saved = monitoring.save_model(w.ctx("integrator"), OWN)
    assert (saved.revision, saved.model_key, saved.model_version, saved.saved_by) == (1, "tha-rss", 1, "integrator")
    monitoring.record_visit(ctx, case_id, visit_form(w, case_id, days_ago(100), 6, SURVEYS[0]))
    seen = monitoring.monitoring_of_case(ctx, case_id)
    # economic .5, social .875, psychosocial .85: .5 x .5 + .2 x .875 + .3 x .85 = .25 + .175 + .255 = .68
    assert [(row.model_key, str(row.overall)) for row in seen.surveys] == [("iom-rss", "0.72"), ("tha-rss", "0.68")]
    assert monitoring.model_in_force(w.ctx("khm.caseworker", "KHM")).key == "iom-rss"  # THA's model is THA's
    monitoring.save_model(w.ctx("integrator"), "")  # back to the default
    assert monitoring.model_in_force(ctx).key == "iom-rss"
    assert [r.revision for r in monitoring.model_history(w.ctx("integrator"))] == [2, 1]


@pytest.mark.parametrize(
    ("document", "found"),
    [
        (OWN.replace("weight = 0.5", "weight = 0.6", 1), "The dimensions' weights add up to 1.1, not 1."),
        (OWN.replace(', es = "Económica"', ""), "The label has no es text"),
        (OWN.replace('key = "tha-rss"', 'key = "iom-rss"'), "Version 1 of the model iom-rss is already in use"),
        ("[model", "The file is not valid TOML"),
    ],
)
def test_a_bad_model_is_refused_with_its_problems_and_nothing_is_saved(w: World, document: str, found: str):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        monitoring.save_model(w.ctx("integrator"), document)
    assert any(found in problem for problem in refused.value.errors["document"]), refused.value.errors
    assert w.snapshot() == before


def test_a_version_saved_before_cannot_change_content_and_only_integrators_save(w: World):
    monitoring.save_model(w.ctx("integrator"), OWN)
    changed = OWN.replace("weight = 0.5", "weight = 0.4", 1).replace("weight = 0.2", "weight = 0.3", 1)
    with pytest.raises(Invalid):
        monitoring.save_model(w.ctx("integrator"), changed)
    monitoring.save_model(w.ctx("integrator"), changed.replace("version = 1", "version = 2", 1))
    for user in ("caseworker", "supervisor"):
        with pytest.raises(NotFound):
            monitoring.save_model(w.ctx(user), OWN)
    assert [r.model_version for r in w.all(ScoringModelRevision)] == [1, 2]


# -- the pages --------------------------------------------------------------------------------

TAB = f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}/monitoring"


def test_the_tab_shows_the_chart_and_the_table_of_scores_and_flags_the_fall(w: World, case_id: int, login):  # noqa: ANN001
    three_surveys(w, case_id)
    body = login("caseworker").get(TAB).get_data(as_text=True)
    assert '<svg id="chart-' in body and 'role="img"' in body
    chart = body[body.index("<svg") : body.index("</svg>")]
    assert "<script" not in chart and "http" not in chart
    assert 'data-value="fall"' in body and 'data-fell="true"' in body
    for expected in EXPECTED:
        assert all(f"<span data-score>{score}</span>" in body for score in expected)


def test_pages_answer_404_without_the_permission_or_from_another_mission(w: World, case_id: int, login):  # noqa: ANN001
    assert login("caseworker").get("/m/THA/plugins/ctm/monitoring/alerts").status_code == 404
    assert login("supervisor").get("/m/THA/plugins/ctm/monitoring/alerts").status_code == 200
    assert login("caseworker").get("/m/THA/plugins/ctm/scoring-model").status_code == 404
    assert login("integrator").get("/m/THA/plugins/ctm/scoring-model").status_code == 200
    assert login("khm.caseworker").get(TAB).status_code == 404
    assert login("caseworker").get(TAB.replace("/THA/", "/KHM/")).status_code == 404  # no KHM case for THA's person


def test_the_alerts_page_lists_the_case_number_and_counts_and_links_to_the_tab(w: World, case_id: int, login):  # noqa: ANN001
    monitoring.record_visit(
        w.ctx("caseworker"), case_id, visit_form(w, case_id, days_ago(3), risks=["Debt", "Threats", "NoIncome"])
    )
    body = login("supervisor").get("/m/THA/plugins/ctm/monitoring/alerts").get_data(as_text=True)
    assert 'data-value="risk_count">3' in body and TAB in body


# -- what the schedule starts from --------------------------------------------------------------


def test_the_schedule_starts_from_the_receptions_arrival_then_the_returns_arrival(w: World):
    from test_handover import accept_form, propose_form, returning

    from ctm_plugin.domain.handover import ReceptionTask
    from ctm_plugin.domain.returns import ReturnBooking
    from ctm_plugin.services import handover

    tha_case = returning(w)
    arrived_at = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # 2 March in Bangkok and Phnom Penh
    with w.rt.factory() as s, s.begin():
        booking = s.scalars(sa.select(ReturnBooking).where(ReturnBooking.case_id == tha_case)).one()
        booking.status, booking.status_changed_at = "ARRIVED", arrived_at
    seen = monitoring.monitoring_of_case(w.ctx("caseworker"), tha_case)
    assert (seen.anchor, seen.anchor_kind) == (date(2026, 3, 2), "return")
    assert [s.due_on for s in seen.schedule] == [date(2026, 6, 2), date(2026, 9, 2), date(2027, 3, 2)]
    with pytest.raises(Invalid) as refused:  # no start date where the arrival says it
        monitoring.set_start(w.ctx("caseworker"), tha_case, {"version": w.version(tha_case), "start_on": days_ago(5)})
    assert refused.value.errors == {"start_on": [monitoring.HAS_ARRIVAL]}

    proposed = handover.propose(w.ctx("caseworker"), tha_case, propose_form(w, tha_case))
    khm_case = handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    with w.rt.factory() as s, s.begin():  # the reception task the arrival opened, as the Hand-overs page records it
        task = s.scalars(sa.select(ReceptionTask).where(ReceptionTask.handover_id == proposed)).one()
        assert task.case_id == khm_case
        task.arrived_on = date(2026, 3, 3)
    seen = monitoring.monitoring_of_case(w.ctx("khm.caseworker", "KHM"), khm_case)
    assert (seen.anchor, seen.anchor_kind) == (date(2026, 3, 3), "reception")


def test_the_scoring_model_page_shows_a_refusal_next_to_the_document_and_saves_a_good_model(w: World, login):  # noqa: ANN001
    integrator = login("integrator")
    integrator.get("/m/THA/plugins/ctm/scoring-model")
    bad = OWN.replace(', fr = "Économique"', "")
    response = integrator.post("/m/THA/plugins/ctm/scoring-model", {"document": bad})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="err-model-document"' in body
    assert "dimensions.economic.label: The label has no fr text" in body
    assert w.all(ScoringModelRevision) == []
    response = integrator.post("/m/THA/plugins/ctm/scoring-model", {"document": OWN})
    assert response.status_code == 303
    assert "tha-rss" in integrator.get("/m/THA/plugins/ctm/scoring-model").get_data(as_text=True)
