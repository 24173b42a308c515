"""The emergency fund as its users meet it: the request on the Assistance tab, HQ's fund page and decision page,
the mission's page of its requests, the menus. SQLite, and PostgreSQL when configured."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from page_parts import error_on, text, version
from world import KHM_PERSON, World

from ctm_plugin.domain.fund import FUND_ID, Fund, FundRequest
from mimosa_host.accounts import grant
from mimosa_host.db import transaction
from mimosa_host.models import User

REF = "BEN-1000001"
THA_ASSISTANCE = f"/m/THA/plugins/ctm/records/beneficiary/{REF}/assistance"
FUND = "/m/THA/plugins/ctm/fund"
REQUEST = {"kind": "Medical", "amount": "300", "currency": "USD", "justification": "Surgery after the return."}


def test_a_request_from_the_tab_is_decided_by_hq_and_seen_by_the_mission(w: World, login):  # noqa: ANN001
    w.open()
    caseworker = login("caseworker")
    tab = text(caseworker.get(THA_ASSISTANCE))
    assert 'data-form="fund"' in tab and "do not write the person" in tab
    refused = caseworker.post(f"{THA_ASSISTANCE}/fund", {**REQUEST, "amount": "3.001", "version": version(tab)})
    assert refused.status_code == 422 and error_on(text(refused), "fund", "amount")
    assert w.all(FundRequest) == []
    assert caseworker.post(f"{THA_ASSISTANCE}/fund", {**REQUEST, "version": version(tab)}).status_code == 303

    hq = login("hq")
    assert "No request here." not in text(hq.get(FUND))  # the page, and the session's CSRF token
    assert (
        hq.post(
            f"{FUND}/top-ups", {"amount": "1000", "donor": "ECHO", "project_code": "GEF-1", "on_date": "2026-11-02"}
        ).status_code
        == 303
    )
    [row] = w.all(FundRequest)
    page = text(hq.get(FUND))
    assert f'data-fund-request="THA-{row.id}"' in page and "Surgery after the return." in page
    assert REF not in page and "Synthetic" not in page  # no identity: not the record, not the name
    decision = text(hq.get(f"{FUND}/requests/THA/{row.id}"))
    assert 'data-form="decision"' in decision
    bad = hq.post(f"{FUND}/requests/THA/{row.id}/decision", {"decision": "reject", "version": str(row.version)})
    assert bad.status_code == 422 and error_on(text(bad), "decision", "reason")
    done = hq.post(f"{FUND}/requests/THA/{row.id}/decision", {"decision": "approve", "version": str(row.version)})
    assert done.status_code == 303
    assert w.one(Fund, id=FUND_ID).balance == Decimal(700)
    assert 'data-state="approved"' in text(hq.get(f"{FUND}?state=approved"))
    assert 'data-state="approved"' not in text(hq.get(f"{FUND}?state=requested"))

    assert 'data-state="approved"' in text(caseworker.get(THA_ASSISTANCE))
    assert 'data-state="approved"' in text(caseworker.get("/m/THA/plugins/ctm/fund/requests"))


def test_khm_sees_only_its_own_requests_and_only_hq_opens_the_fund(w: World, login):  # noqa: ANN001
    w.open()
    caseworker = login("caseworker")
    tab = text(caseworker.get(THA_ASSISTANCE))
    assert caseworker.post(f"{THA_ASSISTANCE}/fund", {**REQUEST, "version": version(tab)}).status_code == 303
    w.open(KHM_PERSON, mission="KHM")
    khm = login("khm.caseworker")
    assert 'data-fund-request="' not in text(khm.get("/m/KHM/plugins/ctm/fund/requests"))
    [row] = w.all(FundRequest)
    for user in ("caseworker", "supervisor", "admin", "khm.caseworker"):
        browser = login(user)
        assert browser.get(FUND).status_code == 404
        assert browser.get(f"{FUND}/requests/THA/{row.id}").status_code == 404
    hq = login("hq")
    assert hq.get(f"{FUND}/requests/MDA/{row.id}").status_code == 404
    assert hq.get(f"{FUND}/requests/KHM/{row.id}").status_code == 404  # THA's request, asked as KHM's
    menu = text(hq.get("/m/THA/beneficiaries"))
    assert FUND in menu
    assert FUND + '"' not in text(caseworker.get("/m/THA/beneficiaries"))


def test_the_currency_refused_once_the_fund_holds_entries_is_said_on_the_page(w: World, login):  # noqa: ANN001
    hq = login("hq")
    assert 'data-form="currency"' in text(hq.get(FUND))
    top_up = {"amount": "1000", "donor": "ECHO", "project_code": "GEF-1", "on_date": "2026-11-02"}
    assert hq.post(f"{FUND}/top-ups", top_up).status_code == 303
    assert 'data-form="currency"' not in text(hq.get(FUND))
    refused = hq.post(f"{FUND}/currency", {"currency": "EUR"})
    assert refused.status_code == 422 and error_on(text(refused), "currency", "currency")
    assert "can only change while the fund holds no entries" in text(refused)
    assert w.one(Fund, id=FUND_ID).currency == "USD"


def test_hq_sets_the_largest_request_and_the_request_form_says_it(w: World, login):  # noqa: ANN001
    w.open()
    hq = login("hq")
    assert 'data-value="max-request"' in text(hq.get(FUND))
    bad = hq.post(f"{FUND}/largest-request", {"max_request": "0"})
    assert bad.status_code == 422 and error_on(text(bad), "max_request", "max_request")
    assert hq.post(f"{FUND}/largest-request", {"max_request": "250"}).status_code == 303
    assert w.one(Fund, id=FUND_ID).max_request == Decimal(250)
    caseworker = login("caseworker")
    tab = text(caseworker.get(THA_ASSISTANCE))
    assert "up to $250.00" in tab
    refused = caseworker.post(f"{THA_ASSISTANCE}/fund", {**REQUEST, "version": version(tab)})
    assert refused.status_code == 422 and error_on(text(refused), "fund", "amount")


def test_the_requester_is_not_offered_the_decision_on_their_own_request(w: World, login):  # noqa: ANN001
    w.open()
    with transaction(w.rt.factory) as s:
        grant(s, s.scalar(sa.select(User).where(User.username == "hq")), "THA", "ctm.caseworker")
    hq = login("hq")
    tab = text(hq.get(THA_ASSISTANCE))
    assert hq.post(f"{THA_ASSISTANCE}/fund", {**REQUEST, "version": version(tab)}).status_code == 303
    [row] = w.all(FundRequest)
    page = text(hq.get(f"{FUND}/requests/THA/{row.id}"))
    assert 'data-form="decision"' not in page and 'data-note="own-request"' in page
    forced = hq.post(f"{FUND}/requests/THA/{row.id}/decision", {"decision": "approve", "version": str(row.version)})
    assert forced.status_code == 409 and "You made this request" in text(forced)
    assert w.one(FundRequest, id=row.id).state == "requested"
