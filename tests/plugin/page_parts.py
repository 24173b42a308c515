"""Reading the CT pages in tests: a response's text, a form's case version, one field of a form."""

from __future__ import annotations

import re


def text(response) -> str:  # noqa: ANN001 - a Flask test response
    return response.get_data(as_text=True)


def version(page: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, "the page has no form with the case version"
    return match.group(1)


def field(page: str, form: str, name: str) -> str:
    """The markup of one field of one form (from its data-field to the next field)."""
    start = page.index(f'data-form="{form}"')
    end = page.find("</form>", start)
    body = page[start:end]
    at = body.index(f'data-field="{name}"')
    following = body.find("data-field=", at + 1)
    return body[at : following if following != -1 else len(body)]


def error_on(page: str, form: str, name: str) -> bool:
    return 'class="ctm-error"' in field(page, form, name)


def problem(page: str, form: str, kind: str) -> str:
    """The markup of what a form says about itself as a whole (its ``data-problem``, e.g. ``checklist``)."""
    start = page.index(f'data-form="{form}"')
    at = page.index(f'data-problem="{kind}"', start, page.find("</form>", start))
    return page[at : page.index("</div>", at)]
