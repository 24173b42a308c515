"""The error summary at the top of a refused form: each field in error, linked to it, in the reader's language."""

from __future__ import annotations

import re

from ctm_plugin.testing import in_locale
from ctm_plugin.web import templates
from ctm_plugin.web.forms import FormState

SUMMARY = templates.from_string('{% import "_form.html" as f with context %}{{ f.error_summary("consent") }}')


def render(form: FormState) -> str:
    return SUMMARY.render(form=form)


def test_each_field_in_error_is_linked_from_the_summary():
    form = FormState("consent", {"purpose": ["Missing data for required field."], "given_on": ["Not a valid date."]})
    with in_locale("en"):
        html = render(form)
    assert "data-error-summary" in html and 'role="alert"' in html and 'tabindex="-1"' in html
    assert "There is a problem" in html
    links = re.findall(r'<a href="#([^"]+)" data-for="([^"]+)"><span data-label>([^<]*)</span>: ([^<]*)</a>', html)
    assert links == [
        ("consent-purpose", "purpose", "Purpose", "Missing data for required field."),
        ("consent-given_on", "given_on", "Given on", "Not a valid date."),
    ]


def test_the_summary_speaks_the_readers_language():
    with in_locale("fr"):
        html = render(FormState("consent", {"currency": ["Choose a currency from the list."]}))
    assert "Il y a un problème" in html
    assert "Choisissez une devise dans la liste." in html


def test_no_summary_without_errors_or_for_another_form():
    assert "data-error-summary" not in render(FormState())
    assert "data-error-summary" not in render(FormState("checklist", {"purpose": ["Not a valid date."]}))
    # a stale version or a whole-form error is said above the form, not as a field to go to
    assert "data-error-summary" not in render(FormState("consent", {"version": ["x"], "_schema": ["y"]}))


def test_errors_of_a_lists_items_are_said_once_for_the_field():
    with in_locale("en"):
        html = render(FormState("consent", {"items": {0: ["Not a valid choice."], 2: ["Not a valid choice."]}}))
    assert html.count("<li>") == 1 and 'data-for="items"' in html and "The form is not valid." in html
