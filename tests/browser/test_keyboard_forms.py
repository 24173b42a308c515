"""The CT forms with the keyboard alone: long lists to choose from, and the error summary after a refusal."""

from __future__ import annotations

from a11y import PHONE, check_page
from playwright.sync_api import Page, expect
from steps import BASE, open_case


def person_form(page: Page):  # noqa: ANN201 - a playwright Locator
    page.goto(f"{BASE}/case")
    return page.locator('form[data-form="person"]')


def test_languages_and_citizenships_are_chosen_with_the_keyboard_and_saved(page: Page, live_server: str) -> None:
    open_case(page)
    form = person_form(page)
    expect(form.locator('select[name="languages"]')).to_be_hidden()  # the filter and its checkboxes stand in
    form.locator('select[name="education"]').focus()
    page.keyboard.press("Tab")
    languages = page.get_by_role("searchbox", name="Languages")
    expect(languages).to_be_focused()
    page.keyboard.type("khme")
    expect(form.get_by_role("group", name="Languages").locator("label:visible")).to_have_count(1)
    page.keyboard.press("Enter")  # the one option left is ticked; the form is not sent
    expect(form.get_by_role("checkbox", name="Khmer")).to_be_checked()
    page.keyboard.press("Control+A")
    page.keyboard.type("burm")
    page.keyboard.press("Tab")  # to Burmese (ticked ones stay in sight, Khmer after it), ticked with the space bar
    expect(form.get_by_role("checkbox", name="Burmese")).to_be_focused()
    page.keyboard.press("Space")
    citizenships = page.get_by_role("searchbox", name="Citizenships")
    citizenships.focus()
    page.keyboard.type("cambo")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # Cambodia
    page.keyboard.press("Tab")  # the number of children
    expect(form.locator('[name="number_of_children"]')).to_be_focused()
    page.keyboard.type("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main .flash.success")).to_be_visible()
    form = page.locator('form[data-form="person"]')
    expect(form.locator('select[name="languages"]')).to_have_values(["mya", "khm"])
    expect(form.locator('select[name="citizenships"]')).to_have_values(["KHM"])
    expect(form.get_by_role("checkbox", name="Cambodia")).to_be_checked()


def test_a_refused_form_focuses_its_error_summary_whose_links_lead_to_the_fields(new_page, live_server: str) -> None:  # noqa: ANN001
    page = new_page(width=PHONE)
    open_case(page)
    form = person_form(page)
    form.locator('[name="number_of_children"]').fill("99")
    with page.expect_navigation() as navigation:
        form.locator('[name="number_of_children"]').press("Enter")
    assert navigation.value.status == 422
    summary = page.locator('form[data-form="person"] [data-error-summary]')
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    link = summary.get_by_role("link", name="Number of children: Enter a number from 0 to 30.")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator('form[data-form="person"] [name="number_of_children"]')).to_be_focused()
    check_page(page, "the refused person form")


def test_the_first_tab_offers_to_skip_to_the_content(page: Page, live_server: str) -> None:
    open_case(page)
    page.goto(f"{BASE}/consent")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown once reached
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()
