"""A person identified again, in Chromium: the matching job found THA's case of a year ago and KHM's of now (the
demo's person, the same passport, the KHM case's consent to another mission learning of it). While the match is
open THA's caseworker sees no flag: HQ confirms it on its page, with what it checked, and only then does THA's
case show the flag."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from steps import case_url, log_in, send

from ctm_plugin import demo as story
from ctm_plugin.hooks.jobs import MATCHING
from ctm_plugin.services import retrafficking
from mimosa_host.context import acting_for, acting_for_plugin
from mimosa_host.runtime import Runtime


def with_a_match_found(rt: Runtime) -> None:
    """The demo's two cases (``ctm demo retrafficking`` without HQ's confirmation) and one run of the job."""
    with acting_for(rt, "ctm", "THA") as ctx:
        story.earlier_case(ctx)
    with acting_for(rt, "ctm", "KHM") as ctx:
        story.later_case(ctx)
    with acting_for_plugin(rt, "ctm", job=MATCHING) as ctx:
        assert retrafficking.match(ctx) == 1


pytestmark = [pytest.mark.browser, pytest.mark.database.with_args(with_a_match_found)]

THA_CASE = case_url("THA", story.RETRAFFICKED[0], "case")
FLAG = '[data-flag="retrafficking"]'


def test_thas_caseworker_sees_the_flag_only_once_hq_confirmed_the_match(new_page) -> None:  # noqa: ANN001
    caseworker = new_page()
    log_in(caseworker, "caseworker")
    caseworker.goto(THA_CASE)
    expect(caseworker.locator(FLAG)).to_have_count(0)

    hq = new_page()
    log_in(hq, "hq")
    hq.goto("/m/THA/plugins/ctm/retrafficking")
    match = hq.locator("[data-match]")
    expect(match).to_have_count(1)
    expect(match.locator('[data-value="shared"]')).to_contain_text("Once you confirm it")
    form = match.locator("form").get_attribute("data-form")
    assert form is not None
    match.locator('select[name="decision"]').select_option("confirmed")
    match.locator('textarea[name="reason"]').fill("The same passport on both return checklists.")
    send(hq, form)
    expect(hq.locator('[data-match] [data-value="shared"]')).to_contain_text("Yes: the person consented")

    caseworker.goto(THA_CASE)
    expect(caseworker.locator(FLAG)).to_contain_text("mission KHM")
