"""Accessibility checks for the browser tests: axe-core's rules and the phone's width.

``check_page(page)`` injects the vendored axe-core (tests/browser/vendor, see its README) into the
page and fails on any serious or critical violation, naming the rule and the elements; at a phone's
width (390 px) it also fails when the page scrolls sideways.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
AXE_VERSION = "4.10.3"
PHONE = 390
"""A phone's width in CSS pixels: no page may be wider."""
BLOCKING = ("serious", "critical")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's violations of the page as it is now, serious or critical ones only."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # add_script_tag would be refused by the Content-Security-Policy; evaluate is not.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))"
    )
    return [v for v in results if v["impact"] in BLOCKING]


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its window (0: no sideways scrolling)."""
    return page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")


def widest(page: Page) -> list[str]:
    """The elements that stick out of the window on the right, for the failure message."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(-5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                 + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')"""
    )


def problems(page: Page) -> list[str]:
    """What keeps the page from being accessible: serious or critical axe violations, not exactly one h1
    and, at a phone's width (390 px or less), sideways scrolling. Empty when all is well."""
    found = [f"[{v['impact']}] {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in axe_violations(page)]
    headings = page.locator("h1").count()
    if headings != 1:
        found.append(f"{headings} h1 headings: a page has one")
    phone = page.viewport_size is not None and page.viewport_size["width"] <= PHONE
    if phone and not page.evaluate(f"document.documentElement.scrollWidth <= {PHONE}"):
        found.append(f"{overflow(page)} px wider than the phone: {widest(page)}")
    return found


def check_page(page: Page, where: str = "") -> None:
    """No serious or critical axe violation, one h1; at 390 px, no sideways scrolling."""
    found = problems(page)
    assert not found, f"{where or page.url}:\n" + "\n".join(found)
