"""The case list's pages: who may open them (404 otherwise), what a bad query parameter shows (a message by the
field, never a 500), a next page's link, a search by a person's terms that never enters an address, and the menu's
entries."""

from __future__ import annotations

import re

import pytest
from page_parts import error_on, text
from world import World

from ctm_plugin.services import case_list

CASES = "/m/THA/plugins/ctm/cases"


def test_a_khm_only_caseworker_and_a_user_without_the_permission_get_404(w: World, login):  # noqa: ANN001
    w.open()
    assert login("khm.caseworker").get(CASES).status_code == 404
    assert login("khm.caseworker").get("/m/KHM/plugins/ctm/cases").status_code == 200
    assert login("researcher").get(CASES).status_code == 404
    assert login("auditor").get(CASES + "/mine").status_code == 404  # no cases of their own
    assert login("caseworker").get(CASES + "/awaiting-determination").status_code == 404


def test_the_list_links_each_case_to_its_tabs_and_the_menu_offers_it(w: World, login):  # noqa: ANN001
    case_id = w.open()
    number = w.one(case_list.Case, id=case_id).case_number
    page = text(login("caseworker").get(CASES))
    assert f'data-case="{number}"' in page
    assert "/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case" in page
    assert 'href="/m/THA/plugins/ctm/cases/mine"' in page  # the menu and the tab
    assert 'href="/m/THA/plugins/ctm/cases/awaiting-determination"' not in page
    assert 'href="/m/THA/plugins/ctm/cases/awaiting-determination"' in text(login("hq").get(CASES))


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=lost", "status"), ("number=THA%25", "number"), ("opened_from=2026-02-30", "opened_from")],
)
def test_a_bad_parameter_is_shown_by_its_field_not_a_500(w: World, login, query: str, field: str):  # noqa: ANN001
    response = login("caseworker").get(f"{CASES}?{query}")
    assert response.status_code == 400
    assert error_on(text(response), "filter", field)


FORGED = (
    "after=x",
    "sort=updated&after=0001-01-01T00:00:00%2B14:00_1",  # no moment in UTC: year 0
    "sort=updated&after=9999-12-31T23:59:59-14:00_1",  # no moment in UTC: year 10000
    "sort=opened&after=9999-12-31_1",
)


def test_an_unknown_parameter_or_a_forged_cursor_says_so(w: World, login):  # noqa: ANN001
    browser = login("caseworker")
    unknown = browser.get(f"{CASES}?colour=red")
    assert unknown.status_code == 400 and 'data-error="colour"' in text(unknown)
    for after in FORGED:
        forged = browser.get(f"{CASES}?{after}")
        assert forged.status_code == 400 and 'data-error="after"' in text(forged), after
        assert "go back to the first page" in text(forged)
    auditor = login("auditor")
    auditor.get(CASES)
    by_name = auditor.post(CASES, {"name": "Somchai"})  # may not see names: the host is not asked
    assert by_name.status_code == 400 and 'data-error="name"' in text(by_name)
    assert login("caseworker").get(f"{CASES}/mine?owner=supervisor").status_code == 400


def test_the_next_page_link_carries_the_filters(w: World, login, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001
    monkeypatch.setattr(case_list, "PAGE_SIZE", 1)
    for ref in ("BEN-1000001", "BEN-1000002"):
        w.open(ref)
    browser = login("caseworker")
    first = text(browser.get(f"{CASES}?status=open&sort=number&order=asc"))
    link = first.split('data-action="next-page"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "status=open" in link and "after=" in link
    second = text(browser.get(link))
    assert second.count("data-case=") == 1 and 'data-action="next-page"' not in second


def test_a_search_by_document_is_posted_and_pages_without_the_number_in_any_address(
    w: World,
    login,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(case_list, "PAGE_SIZE", 1)
    numbers = []
    for ref in ("BEN-1000001", "BEN-1000002"):
        case_id = w.open(ref)
        w.prepare(case_id, document_number="PAGEDOC 4711")  # the same passport number, typed twice
        numbers.append(w.one(case_list.Case, id=case_id).case_number)
    browser = login("caseworker")
    assert '<form method="post" action="/m/THA/plugins/ctm/cases" class="ctm-form" data-form="filter"' in text(
        browser.get(CASES)
    )

    first = browser.post(CASES, {"document": "pagedoc-4711", "sort": "number", "order": "asc"})
    assert first.status_code == 200 and text(first).count("data-case=") == 1
    page = text(first)
    assert 'data-action="next-page"' in page and not re.search(r'(href|action)="[^"]*4711', page)  # no address
    nxt = page.split('data-form="next-page"')[1].split("</form>")[0]
    fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', nxt))
    assert fields["document"] == "pagedoc-4711" and fields["after"]

    second = text(browser.post(CASES, {name: value for name, value in fields.items() if name != "csrf_token"}))
    assert [f'data-case="{number}"' in second for number in numbers] == [False, True]
    assert 'data-form="first-page"' in second

    typed = browser.get(f"{CASES}?document=PAGEDOC4711")  # typed into the address: refused, nothing searched
    assert typed.status_code == 400 and error_on(text(typed), "filter", "document")
    assert "data-case=" not in text(typed)
    assert browser.post(CASES, {"document": "PAGEDOC4711"}, csrf=False).status_code == 400  # the host's CSRF check
