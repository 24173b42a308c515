"""What a user does in the CT pages, step by step, for the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from mimosa_host.demo import password_for

REF = "BEN-1000001"
BASE = f"/m/THA/plugins/ctm/records/beneficiary/{REF}"


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    form = page.locator("form.login")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password_for(username))
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()


def submit(page: Page, form: str, button: str) -> None:
    with page.expect_navigation() as navigation:
        page.locator(f'form[data-form="{form}"]').get_by_role("button", name=button).click()
    assert navigation.value.status == 200, navigation.value.status  # after the 303
    expect(page.locator("main .flash.success")).to_be_visible()


def open_case(page: Page) -> None:
    log_in(page, "caseworker")
    page.goto(f"{BASE}/case")
    submit(page, "open", "Open a case")
    for tab in ("ctm.screening", "ctm.process", "ctm.assistance", "ctm.consent"):
        expect(page.locator(f'nav.tabs a[data-tab="{tab}"]')).to_be_visible()


def unfold(page: Page, form: str) -> None:
    """Open the folded ``<details>`` that holds ``form``, unless it is open already."""
    details = page.locator("details", has=page.locator(f'form[data-form="{form}"]'))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
