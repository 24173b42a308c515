"""Every CT route declares its permission and refuses whoever lacks it, before the view runs."""

from __future__ import annotations

import pytest

from ctm_plugin.security.permissions import (
    AGREEMENT_APPROVE,
    APPROVE_RISK,
    AUDIT_VIEW,
    CASE_EDIT,
    CASE_SUPERVISE,
    CASE_VIEW,
    CHILD_PROTECTION,
    DETERMINE,
    DISBURSEMENT_APPROVE,
    EMERGENCY_FUND_APPROVE,
    EMERGENCY_FUND_REQUEST,
    HANDOVER_ACCEPT,
    INTELLIGENCE_VIEW,
    MAPPING_MANAGE,
    PARTNER_MANAGE,
    RESEARCH_APPROVE,
    RESEARCH_REQUEST,
    RETRAFFICKING_REVIEW,
    RETURN_BOOK,
    SYNC_MANAGE,
    SYNC_VIEW,
    TRENDS_VIEW,
)
from ctm_plugin.web import bp

SAMPLE_VALUES = {
    "mission": "THA",
    "record_type": "beneficiary",
    "record_ref": "BEN-1000001",
    "event_id": "1",
    "service_id": "1",
    "perpetrator_id": "1",
    "screening_id": "1",
    "consent_id": "1",
    "return_id": "1",
    "message_id": "1",
    "case_id": "1",
    "handover_id": "1",
    "request_id": "1",
    "request_mission": "THA",
    "element_id": "1",
    "disbursement_id": "1",
    "entry_id": "1",
    "follow_up_id": "1",
    "referral_id": "1",
    "candidate_id": "1",
    "export_id": "1",
    "export_mission": "THA",
    "match_id": "1",
    "partner_id": "1",
    "credential_id": "1",
    "agreement_id": "1",
    "agreement_mission": "THA",
}


# Every CT route, its method and the permission it needs: a new route is added here deliberately.
EXPECTED = {
    "ctm.case_overview": ("GET", CASE_VIEW),
    "ctm.open_case": ("POST", CASE_EDIT),
    "ctm.edit_person": ("POST", CASE_EDIT),
    "ctm.edit_victim": ("POST", CASE_EDIT),
    "ctm.close_case": ("POST", CASE_EDIT),
    "ctm.reopen_case": ("POST", CASE_EDIT),
    "ctm.decide_closure": ("POST", CASE_SUPERVISE),
    "ctm.reassign_case": ("POST", CASE_SUPERVISE),
    "ctm.screening": ("GET", CASE_VIEW),
    "ctm.record_screening": ("POST", CASE_EDIT),
    # Open to every case viewer: the service refuses, on the decision field, who may not determine.
    "ctm.determine": ("POST", CASE_VIEW),
    "ctm.process": ("GET", CASE_VIEW),
    "ctm.add_event": ("POST", CASE_EDIT),
    "ctm.edit_event": ("POST", CASE_EDIT),
    "ctm.add_perpetrator": ("POST", CASE_EDIT),
    "ctm.assistance": ("GET", CASE_VIEW),
    "ctm.add_service": ("POST", CASE_EDIT),
    "ctm.edit_service": ("POST", CASE_EDIT),
    "ctm.edit_perpetrator": ("POST", CASE_EDIT),
    "ctm.correct_screening": ("POST", CASE_EDIT),
    "ctm.consent": ("GET", CASE_VIEW),
    "ctm.record_consent": ("POST", CASE_EDIT),
    "ctm.withdraw_consent": ("POST", CASE_EDIT),
    "ctm.refer": ("POST", CASE_EDIT),
    "ctm.returns": ("GET", CASE_VIEW),
    "ctm.return_bookings": ("GET", CASE_VIEW),
    "ctm.book_return": ("POST", RETURN_BOOK),
    "ctm.save_checklist": ("POST", CASE_EDIT),
    "ctm.record_best_interests": ("POST", CHILD_PROTECTION),
    "ctm.decide_risk": ("POST", APPROVE_RISK),
    "ctm.cancel_return": ("POST", RETURN_BOOK),
    "ctm.handover": ("GET", CASE_VIEW),
    "ctm.propose_handover": ("POST", CASE_EDIT),
    "ctm.refresh_from_host": ("POST", CASE_EDIT),
    "ctm.push_to_host": ("POST", CASE_EDIT),
    # The CT pages of the menu.
    "ctm.find_person": ("GET", CASE_EDIT),
    "ctm.search_people": ("POST", CASE_EDIT),
    "ctm.import_person": ("POST", CASE_EDIT),
    "ctm.register_person": ("POST", CASE_EDIT),
    "ctm.registered": ("GET", CASE_EDIT),
    "ctm.inbox": ("GET", HANDOVER_ACCEPT),
    "ctm.received": ("GET", HANDOVER_ACCEPT),
    "ctm.accept_handover": ("POST", HANDOVER_ACCEPT),
    "ctm.decline_handover": ("POST", HANDOVER_ACCEPT),
    "ctm.record_reception": ("POST", HANDOVER_ACCEPT),
    "ctm.link_received_case": ("POST", HANDOVER_ACCEPT),
    "ctm.referral_inbox": ("GET", CASE_EDIT),
    "ctm.referral_received": ("GET", CASE_EDIT),
    "ctm.accept_referral": ("POST", CASE_EDIT),
    "ctm.decline_referral": ("POST", CASE_EDIT),
    "ctm.link_referral_case": ("POST", CASE_EDIT),
    "ctm.sync": ("GET", SYNC_VIEW),
    "ctm.retry_message": ("POST", SYNC_MANAGE),
    "ctm.discard_message": ("POST", SYNC_MANAGE),
    "ctm.mappings": ("GET", MAPPING_MANAGE),
    "ctm.save_overrides": ("POST", MAPPING_MANAGE),
    "ctm.confirm_bulk": ("POST", SYNC_MANAGE),
    "ctm.apply_bulk": ("POST", SYNC_MANAGE),
    "ctm.request_fund": ("POST", EMERGENCY_FUND_REQUEST),
    "ctm.mission_fund_requests": ("GET", EMERGENCY_FUND_REQUEST),
    "ctm.fund_page": ("GET", EMERGENCY_FUND_APPROVE),
    "ctm.case_list": ("GET", CASE_VIEW),
    "ctm.search_cases": ("POST", CASE_VIEW),
    "ctm.my_cases": ("GET", CASE_EDIT),
    "ctm.search_my_cases": ("POST", CASE_EDIT),
    "ctm.determination_queue": ("GET", DETERMINE),
    "ctm.fund_top_up": ("POST", EMERGENCY_FUND_APPROVE),
    "ctm.set_fund_currency": ("POST", EMERGENCY_FUND_APPROVE),
    "ctm.set_fund_max_request": ("POST", EMERGENCY_FUND_APPROVE),
    "ctm.fund_request": ("GET", EMERGENCY_FUND_APPROVE),
    "ctm.decide_fund_request": ("POST", EMERGENCY_FUND_APPROVE),
    "ctm.retrafficking_matches": ("GET", RETRAFFICKING_REVIEW),
    "ctm.intelligence_links": ("GET", INTELLIGENCE_VIEW),
    "ctm.intelligence_network": ("GET", INTELLIGENCE_VIEW),
    "ctm.referral_package": ("GET", INTELLIGENCE_VIEW),
    "ctm.referral_package_csv": ("GET", INTELLIGENCE_VIEW),
    "ctm.decide_match": ("POST", RETRAFFICKING_REVIEW),
    "ctm.monitoring": ("GET", CASE_VIEW),
    "ctm.set_monitoring_start": ("POST", CASE_EDIT),
    "ctm.record_visit": ("POST", CASE_EDIT),
    "ctm.monitoring_alerts": ("GET", CASE_SUPERVISE),
    "ctm.reassign_cases": ("GET", CASE_SUPERVISE),
    "ctm.reassign_all": ("POST", CASE_SUPERVISE),
    "ctm.scoring_model": ("GET", MAPPING_MANAGE),
    "ctm.save_scoring_model": ("POST", MAPPING_MANAGE),
    "ctm.reintegration": ("GET", CASE_VIEW),
    "ctm.agree_plan": ("POST", CASE_EDIT),
    "ctm.add_plan_element": ("POST", CASE_EDIT),
    "ctm.change_plan_element": ("POST", CASE_EDIT),
    "ctm.request_disbursement": ("POST", CASE_EDIT),
    "ctm.decide_disbursement": ("POST", DISBURSEMENT_APPROVE),
    "ctm.record_payment": ("POST", CASE_EDIT),
    "ctm.reverse_entry": ("POST", DISBURSEMENT_APPROVE),
    "ctm.pending_disbursements": ("GET", DISBURSEMENT_APPROVE),
    "ctm.donor_report": ("GET", DISBURSEMENT_APPROVE),
    "ctm.donor_report_csv": ("GET", DISBURSEMENT_APPROVE),
    "ctm.case_audit_trail": ("GET", AUDIT_VIEW),
    "ctm.audit_trail_page": ("GET", AUDIT_VIEW),
    "ctm.audit_trail_csv": ("GET", AUDIT_VIEW),
    "ctm.audit_chain_verify": ("POST", AUDIT_VIEW),
    "ctm.case_print": ("GET", CASE_VIEW),
    "ctm.due_list": ("GET", CASE_EDIT),
    "ctm.add_follow_up": ("POST", CASE_EDIT),
    "ctm.follow_up_done": ("POST", CASE_EDIT),
    "ctm.answer_referral": ("POST", CASE_EDIT),
    "ctm.people_to_screen": ("GET", CASE_EDIT),
    "ctm.dismiss_candidate": ("POST", CASE_EDIT),
    "ctm.trends_page": ("GET", TRENDS_VIEW),
    "ctm.research_exports": ("GET", RESEARCH_REQUEST),
    "ctm.request_research_export": ("POST", RESEARCH_REQUEST),
    "ctm.download_research_export": ("POST", RESEARCH_REQUEST),
    "ctm.research_approvals": ("GET", RESEARCH_APPROVE),
    "ctm.decide_research_export": ("POST", RESEARCH_APPROVE),
    "ctm.partners_list": ("GET", PARTNER_MANAGE),
    "ctm.add_partner": ("POST", PARTNER_MANAGE),
    "ctm.partner_page": ("GET", PARTNER_MANAGE),
    "ctm.edit_partner": ("POST", PARTNER_MANAGE),
    "ctm.change_partner_status": ("POST", PARTNER_MANAGE),
    "ctm.issue_partner_credential": ("POST", PARTNER_MANAGE),
    "ctm.retire_partner_credential": ("POST", PARTNER_MANAGE),
    "ctm.agreement_form": ("GET", PARTNER_MANAGE),
    "ctm.draft_agreement": ("POST", PARTNER_MANAGE),
    "ctm.agreement_approvals": ("GET", AGREEMENT_APPROVE),
    "ctm.approve_agreement": ("POST", AGREEMENT_APPROVE),
}

# Every CT machine route (mimosa_machine_routes): no user's permission; each request authenticates itself (a
# WS-Security UsernameToken) and answers nothing to one that does not, whoever is signed in.
MACHINE_ROUTES = {"/machine/ctm/partners": ("POST",)}

# What each user below holds in THA (their roles' CT permissions): their own routes are not for this test.
HELD = {
    "integrator": {MAPPING_MANAGE, SYNC_VIEW, SYNC_MANAGE},
    "researcher": {TRENDS_VIEW, RESEARCH_REQUEST},
    "khm.caseworker": set(),
}


def ct_rules(app):  # noqa: ANN001, ANN201
    rules = app.url_map.iter_rules()
    return [rule for rule in rules if rule.endpoint.startswith("ctm.") and rule.endpoint != "ctm.static"]


def url(app, rule, mission: str = "THA") -> str:  # noqa: ANN001
    values = {name: SAMPLE_VALUES.get(name, mission) for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=sorted(rule.methods)[0])


def test_every_ct_view_declares_its_permission(app):
    rules = ct_rules(app)
    declared = {
        rule.endpoint: (
            "POST" if "POST" in rule.methods else "GET",
            getattr(app.view_functions[rule.endpoint], "permission", None),
        )
        for rule in rules
    }
    assert len(declared) == len(rules)  # one rule per endpoint
    assert declared == EXPECTED
    undeclared = [rule.endpoint for rule in rules if not getattr(app.view_functions[rule.endpoint], "permission", None)]
    assert undeclared == []
    assert all(name.startswith("ctm.") for name in {app.view_functions[r.endpoint].permission for r in rules})


def test_anonymous_requests_to_every_ct_route_go_to_login(app, web):
    web.get("/login")  # an anonymous session's CSRF token: the posts below fail on login, not on CSRF
    for rule in ct_rules(app):
        target = url(app, rule)
        response = web.post(target, {}) if "POST" in rule.methods else web.get(target)
        assert response.status_code == 302, (rule.rule, response.status_code)
        assert "/login" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("username", ["integrator", "researcher", "khm.caseworker"])
def test_users_without_the_permission_in_the_mission_get_404_on_every_ct_route(app, login, username):
    browser = login(username)
    browser.get("/m/KHM/beneficiaries")  # a page of a mission every one of them can reach, for a CSRF token
    for rule in ct_rules(app):
        if app.view_functions[rule.endpoint].permission in HELD[username]:
            continue
        target = url(app, rule)
        response = browser.post(target, {}) if "POST" in rule.methods else browser.get(target)
        assert response.status_code == 404, (username, rule.rule, response.status_code)


def test_the_blueprint_is_the_one_the_plugin_hands_the_host():
    assert bp.name == "ctm"


def test_every_ct_machine_route_is_listed_and_refuses_a_request_that_does_not_authenticate(app, login) -> None:  # noqa: ANN001
    machine = app.extensions["mimosa_machine"]
    assert {f"/machine/{plugin}{path}": route.methods for (plugin, path), route in machine.routes.items()} == (
        MACHINE_ROUTES
    )
    envelope = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>'
    browser = login("admin")  # a signed-in session is no credential here
    for target in MACHINE_ROUTES:
        response = browser.client.post(target, data=envelope, base_url=browser.BASE_URL)
        assert response.status_code == 500 and b"UNAUTHORIZED" in response.data, target
        assert "Set-Cookie" not in response.headers
