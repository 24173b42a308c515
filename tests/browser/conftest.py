"""Browser fixtures: the host app over real HTTP, one Chromium per session, a fresh context per test.

The browser is Debian's Chromium (Playwright's own download is not used). When it or
Playwright is missing the browser tests skip, unless ``CTM_REQUIRE_BROWSER=1`` (CI),
which turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CTM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
REQUIRE_ENV = "CTM_REQUIRE_BROWSER"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
GUIDE_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
GUIDE_ENV = "CTM_GUIDE_SCREENSHOTS"
"""Set to 1 to rewrite the guide's screenshots in docs/screenshots (``make screenshots``)."""
TIMEOUT_MS = 15_000  # generous: the machine may be busy with other test runs


def _missing(part: str, require_env: str, reason: str) -> None:
    """As in ``tests/conftest.py``: skip, or fail when the run requires ``part``."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{part} is required in this run ({require_env}=1) but {reason}")
    pytest.skip(f"{part} not available: {reason}")


@pytest.fixture
def live_server(live_host) -> str:  # noqa: ANN001 - tests/conftest.py's LiveHost
    """The base URL of the host app on the demo data, served on 127.0.0.1 at an ephemeral port."""
    return live_host.base_url


@pytest.fixture
def soap_here(live_server: str, demo):  # noqa: ANN001, ANN201 - the demo's runtime
    """The demo's CTM missions reach the SOAP services of the host the browser talks to."""
    import sqlalchemy as sa

    from mimosa_host.models import PluginEnablement

    with demo.factory() as s, s.begin():
        for state in s.scalars(sa.select(PluginEnablement).filter_by(plugin_name="ctm")):
            state.settings = {**state.settings, "soap_base_url": live_server + "/"}
    return demo


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless Chromium for the whole session (a ``playwright.sync_api.Browser``)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        _missing("Playwright", REQUIRE_ENV, f"it cannot be imported ({exc})")
    if not os.access(CHROMIUM, os.X_OK):
        _missing("Chromium", REQUIRE_ENV, f"{CHROMIUM} is missing or not executable")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # pragma: no cover - only if some plugin runs the tests inside a loop
        pytest.fail("the sync Playwright API cannot run inside a running asyncio loop")

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except PlaywrightError as exc:
            _missing("Chromium", REQUIRE_ENV, f"it does not start: {exc.message.splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(chromium, live_server) -> Iterator[Callable[[], object]]:  # noqa: ANN001
    """``new_page()`` → a page in a fresh browser context (its own cookies): a second user, say.

    ``new_page(locale="fr-FR", width=390)``: a phone's width in another language."""
    contexts = []

    def _new_page(locale: str = "en-US", width: int = 1280):  # noqa: ANN202 - a playwright Page
        context = chromium.new_context(base_url=live_server, locale=locale, viewport={"width": width, "height": 800})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):  # noqa: ANN001, ANN201 - a playwright Page
    """A page in a new context (locale en-US), closed after the test."""
    return new_page()


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[object, str], Path]:
    """``shot(page, "step")`` saves a full-page screenshot as ``<test name>-<step>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")

    def _shot(page, step: str) -> Path:  # noqa: ANN001
        path = SCREENSHOTS / f"{test_name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot


@pytest.fixture
def guide_shot(database_url: str) -> Callable[..., Path | None]:
    """``guide_shot(page, "name")`` takes a screenshot for the caseworkers' guide; ``guide_shot(page, "name",
    of=locator)`` only of that part of the page (a box at the foot of a long page, say), ``top=True`` of its first
    screenful only (a long page's beginning).

    With ``CTM_GUIDE_SCREENSHOTS=1`` (``make screenshots``) it replaces ``docs/screenshots/<name>.png``;
    otherwise it goes to ``test-artifacts/screenshots/guide-<name>.png``, so that a test run leaves the
    committed pictures alone. Taken on the SQLite run only: the pages are the same on PostgreSQL.
    """
    folder, prefix = (GUIDE_SCREENSHOTS, "") if os.environ.get(GUIDE_ENV) == "1" else (SCREENSHOTS, "guide-")

    def _shot(page, name: str, of=None, top: bool = False) -> Path | None:  # noqa: ANN001 - a playwright Page and Locator
        if not database_url.startswith("sqlite"):
            return None
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}{name}.png"
        if of is None:
            page.screenshot(path=str(path), full_page=True)
        elif top:  # the part's head only, as far down as a screen's height: a long page's beginning
            box = of.bounding_box()
            height = min(box["height"], page.viewport_size["height"])
            page.screenshot(path=str(path), full_page=True, clip={**box, "height": height})
        else:
            of.screenshot(path=str(path))
        return path

    return _shot
