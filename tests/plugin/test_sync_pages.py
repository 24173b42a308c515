"""The CT pages about the host: the return tab (booking and cancelling), the host record on the case
overview, finding and registering a person, and the integrators' synchronisation page, with the
Flask test client.

Rows the relay and the change feed would write (outbox messages, returns with the host's
statuses, host links) are written here directly, through a mission session, so each state
can be shown without a SOAP host. The host that cannot be reached is a real closed port;
the flows over SOAP are tested with the host's services elsewhere. Runs on SQLite, and on
PostgreSQL when configured.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from markupsafe import Markup, escape
from page_parts import error_on, field, text, version
from world import set_ctm_settings

from ctm_plugin import i18n
from ctm_plugin.domain.assistance import Consent
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import OUTBOX_STATUSES, HostLink, OutboxMessage
from ctm_plugin.schemas.returns import CANCEL_REASONS
from ctm_plugin.services.returns import NO_PROJECTS
from ctm_plugin.web import exchanges
from ctm_plugin.web.exchanges import FAILED_WITH_MESSAGE, HOST_STATUSES, OUTBOX_STATES
from mimosa_host.context import build_context
from mimosa_host.models import Mission, User
from mimosa_host.plugin_api import RequestContext

MISSION = "THA"
REF = "BEN-1000001"
MISSION_BASE = f"/m/{MISSION}/plugins/ctm"
BASE = f"{MISSION_BASE}/records/beneficiary/{REF}"
SYNC = f"{MISSION_BASE}/sync"
FIND = f"{MISSION_BASE}/people/find"
LOCALES = ("en", "fr", "es")
HOST_SAYS = "Beneficiary <BEN-1000001> has an open movement & cannot travel"
"""A host fault's message, with markup in it: pages show it escaped."""
CLOSED_PORT = "http://127.0.0.1:9/"
"""The discard port: nothing listens there, so the host cannot be reached."""


def words(locale: str, msgid: str, **params: object) -> str:
    """What a template's ``_()`` shows for ``msgid`` in ``locale``: the catalog's text as is, the values escaped."""
    return str(Markup(i18n.translations(locale).gettext(msgid)) % params)


def said(locale: str, msgid: str, **params: object) -> str:
    """What the page shows for ``msgid`` translated in Python (a label, a state in words): all of it escaped."""
    translated = i18n.translations(locale).gettext(msgid)
    return str(escape(translated % params if params else translated))


def context(demo, username: str, mission: str = MISSION) -> RequestContext:  # noqa: ANN001
    with demo.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == username))
        ctx, _enabled = build_context(s, demo.host, demo.factory, s.get(Mission, mission), user, "en", plugin="ctm")
    return ctx


def set_host_address(demo, url: str | None) -> None:  # noqa: ANN001
    set_ctm_settings(demo, MISSION, soap_base_url=url)


def audit_actions(demo) -> list[str]:  # noqa: ANN001
    with demo.factory() as s:
        return list(s.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def case_id(login, demo) -> int:  # noqa: ANN001
    """The beneficiary's case, opened in THA by the caseworker."""
    browser = login("caseworker")
    browser.get(f"{BASE}/case")
    response = browser.post(f"{BASE}/case/open", {"opened_on": "2024-01-10"})
    assert response.status_code == 303, text(response)
    with demo.factory() as s:
        return s.scalar(sa.select(Case.id).where(Case.beneficiary_id == REF))


class Rows:
    """Writes what the relay and the change feed would, through a THA mission session."""

    def __init__(self, demo, case_id: int) -> None:  # noqa: ANN001
        self.ctx = context(demo, "caseworker")
        self.case_id = case_id
        self.serial = 0

    def message(self, status: str, operation: str = "BookMovement", **values: object) -> int:
        self.serial += 1
        with mission_session(self.ctx) as s, s.begin():
            row = OutboxMessage(
                mission_code=MISSION,
                case_id=self.case_id,
                operation=operation,
                client_reference=f"ctm-test-{self.serial:04d}",
                payload=values.pop("payload", "<MovementRequest/>"),
                mapping_id="movement",
                mapping_version="1",
                status=status,
                created_by="movement",
                **values,
            )
            s.add(row)
            s.flush()
            return row.id

    def booking(self, status: str | None = None, outbox: str = "done", **values: object) -> int:
        message_id = self.message(outbox, **({"error": values.pop("error")} if "error" in values else {}))
        with mission_session(self.ctx) as s, s.begin():
            row = ReturnBooking(
                mission_code=MISSION,
                case_id=self.case_id,
                outbox_id=message_id,
                origin_country="THA",
                origin_location="BKK",
                destination_country="KHM",
                destination_location="PNH",
                earliest_departure=date.today() + timedelta(days=10),
                escort="MEDICAL",
                fit_to_travel=True,
                status=status,
                booked_by="movement",
                **values,
            )
            s.add(row)
            s.flush()
            return row.id

    def link(self, **values: object) -> None:
        with mission_session(self.ctx) as s, s.begin():
            s.add(
                HostLink(
                    mission_code=MISSION,
                    case_id=self.case_id,
                    mapping_id=values.pop("mapping_id", "beneficiary"),
                    mapping_version=values.pop("mapping_version", "3"),
                    **values,
                )
            )

    def prepared(self) -> None:
        """The return's checklist complete, as the mission's default settings require it."""
        self.consent_to_return()
        with mission_session(self.ctx) as s, s.begin():
            s.add(
                ReturnPreparation(
                    mission_code=MISSION,
                    case_id=self.case_id,
                    counselled_on=date(2024, 1, 11),
                    document_kind="PASSPORT",
                    document_number="SYN7654321",
                    document_expiry=date.today() + timedelta(days=400),
                    fit_to_travel=True,
                    risk_level="LOW",
                    risk_reason="No threat known.",
                    updated_by="caseworker",
                )
            )

    def consent_to_return(self) -> None:
        with mission_session(self.ctx) as s, s.begin():
            s.add(
                Consent(
                    mission_code=MISSION,
                    case_id=self.case_id,
                    purpose="Return",
                    items=["ConsentedToInterview"],
                    given_on=date(2024, 1, 11),
                    method="Written",
                    recorded_by="caseworker",
                )
            )


@pytest.fixture
def rows(demo, case_id) -> Rows:  # noqa: ANN001
    return Rows(demo, case_id)


# -- who may open what ------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_from_every_new_page(web, case_id):  # noqa: ARG001
    web.get("/login")
    for url in (SYNC, FIND, f"{BASE}/return", f"{MISSION_BASE}/people/registered/{case_id}"):
        response = web.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    for url in (f"{SYNC}/1/retry", f"{SYNC}/1/discard", f"{MISSION_BASE}/people/search", f"{BASE}/return/book"):
        response = web.post(url, {})
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_permission_matrix_of_the_new_pages(login, case_id, rows):
    message = rows.message("failed", error_code="VALIDATION", error="Bad airport")
    expected = {
        # user: (sync page, find page, return tab, booking form shown, retry/discard buttons)
        "caseworker": (404, 200, 200, False, False),
        "movement": (404, 404, 200, True, False),
        "integrator": (200, 404, 404, False, True),
        "admin": (200, 404, 404, False, False),
        "auditor": (404, 404, 200, False, False),
    }
    for username, (sync, find, tab, form, buttons) in expected.items():
        browser = login(username)
        sync_page = browser.get(SYNC)
        assert sync_page.status_code == sync, username
        assert browser.get(FIND).status_code == find, username
        return_tab = browser.get(f"{BASE}/return")
        assert return_tab.status_code == tab, username
        assert ('data-form="book"' in text(return_tab)) is form, username
        if sync == 200:
            assert (f'data-form="retry-{message}"' in text(sync_page)) is buttons, username
        if not buttons:
            # The buttons are not only hidden: whoever may not manage the outbox is refused (404).
            browser.get(f"/m/{MISSION}/beneficiaries")
            assert browser.post(f"{SYNC}/{message}/retry").status_code == 404, username
            assert browser.post(f"{SYNC}/{message}/discard").status_code == 404, username
    assert login("researcher").get(SYNC).status_code == 404


def test_the_menu_offers_only_what_the_user_may_use(login):
    menus = {
        "caseworker": (True, False),
        "integrator": (False, True),
        "admin": (False, True),
        "movement": (False, False),
    }
    for username, (find, sync) in menus.items():
        page = text(login(username).get(f"/m/{MISSION}/beneficiaries"))
        assert ('data-menu="ctm.people"' in page) is find, username
        assert ('data-menu="ctm.sync"' in page) is sync, username
    page = text(login("caseworker").get(f"/m/{MISSION}/beneficiaries"))
    assert re.search(rf'href="{FIND}" data-menu="ctm.people">Find a person<', page)
    # Not in a mission where the CTM is disabled.
    assert 'data-menu="ctm.' not in text(login("caseworker").get("/m/MDA/beneficiaries"))


def test_the_return_tab_follows_the_other_tabs(login, case_id):  # noqa: ARG001
    page = text(login("caseworker").get(f"/m/{MISSION}/beneficiaries/{REF}"))
    tabs = ["ctm.case", "ctm.screening", "ctm.process", "ctm.assistance", "ctm.consent", "ctm.return"]
    positions = [page.index(f'data-tab="{tab}"') for tab in tabs]
    assert positions == sorted(positions)
    assert re.search(r'data-tab="ctm.return"[^>]*>\s*Return', page)


# -- the return tab ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_returns_show_the_outbox_state_until_the_host_accepts(login, rows, locale):
    made = {state: rows.booking(None, outbox=state) for state in OUTBOX_STATUSES if state != "failed"}
    made["failed"] = rows.booking(None, outbox="failed", error=HOST_SAYS)
    page = text(login("caseworker").get(f"{BASE}/return", headers={"Accept-Language": locale}))
    for state, booking in made.items():
        card = page[page.index(f'data-return="{booking}"') :]
        status = card[: card.index("</span>")]
        assert f'data-outbox="{state}"' in status
        if state == "failed":
            assert said(locale, FAILED_WITH_MESSAGE, reason=HOST_SAYS) in status
            assert "<BEN-1000001>" not in page  # the host's words are escaped
        else:
            assert said(locale, OUTBOX_STATES[state]) in status, (state, status)
    assert words(locale, "Not yet given by the host") in page


@pytest.mark.parametrize("locale", LOCALES)
def test_returns_show_the_host_status_and_the_legs(login, rows, locale):
    made = {status: rows.booking(status, movement_id=f"MOV-{index}") for index, status in enumerate(HOST_STATUSES)}
    legs = [
        {"sequence": 2, "carrier": "KH", "flight_number": "KH 101", "from": "BKK", "to": "PNH",
         "departure": "2024-03-02T14:00:00+00:00", "arrival": "2024-03-02T15:10:00+00:00"},
        {"sequence": 1, "carrier": "TG", "flight_number": "TG 580", "from": "CNX", "to": "BKK",
         "departure": "2024-03-02T08:00:00+00:00", "arrival": "2024-03-02T09:10:00+00:00"},
    ]  # fmt: skip
    with_legs = rows.booking("CONFIRMED", movement_id="MOV-LEGS", legs=legs)
    page = text(login("movement").get(f"{BASE}/return", headers={"Accept-Language": locale}))
    for index, (status, booking) in enumerate(made.items()):
        card = page[page.index(f'data-return="{booking}"') :]
        assert f'data-status="{status}">{said(locale, HOST_STATUSES[status])}</span>' in card[: card.index("</h4>")]
        assert f"MOV-{index}" in card[: card.index("</article>")]
    card = page[page.index(f'data-return="{with_legs}"') :]
    card = card[: card.index("</article>")]
    assert card.index('data-leg="1"') < card.index('data-leg="2"')  # in their order, not as stored
    assert "TG 580" in card and "KH 101" in card and "CNX" in card
    assert said(locale, "Medical escort") in card


def audit_rows(demo) -> list[tuple[str, str, list[str]]]:  # noqa: ANN001
    with demo.factory() as s:
        query = sa.select(AuditEvent.action, AuditEvent.username, AuditEvent.field_groups).order_by(AuditEvent.id)
        return [tuple(row) for row in s.execute(query)]


def test_the_return_tabs_refresh_reads_its_bookings_alone_and_is_audited_once_per_view(login, rows, demo):
    booking = rows.booking(None, outbox="pending")  # queued: under way, so the tab refreshes itself
    movement = login("movement")
    seen = len(audit_rows(demo))
    page = text(movement.get(f"{BASE}/return"))
    viewed = [("case.view", "movement", ["identity", "return"])]
    assert audit_rows(demo)[seen:] == viewed
    refresh = re.search(r'id="ctm-returns" data-refresh="10" data-refresh-from="([^"]+)"', page)
    assert refresh and refresh.group(1) == f"{BASE}/return/bookings"

    for _poll in range(3):
        response = movement.get(refresh.group(1))
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert audit_rows(demo)[seen:] == viewed  # the polls write nothing: the page view was audited
    fragment = text(response)
    assert fragment.lstrip().startswith('<section class="ctm-section" id="ctm-returns" data-refresh="10"')
    assert f'data-return="{booking}"' in fragment and 'data-outbox="pending"' in fragment
    # The bookings and nothing else: no checklist, no booking form, no host frame with the person's name.
    assert fragment.count("<section") == 1 and 'data-section="checklist"' not in fragment
    assert 'data-form="book"' not in fragment and "<h1" not in fragment and "<html" not in fragment

    with mission_session(rows.ctx) as s, s.begin():
        s.get(ReturnBooking, booking).status = "CONFIRMED"
    fragment = text(movement.get(refresh.group(1)))
    assert 'data-status="CONFIRMED"' in fragment and "data-refresh" not in fragment  # booked: the refresh stops

    # Checked as the tab is: the permission in the mission, the mission's own record.
    assert login("integrator").get(refresh.group(1)).status_code == 404
    assert login("khm.caseworker").get(refresh.group(1)).status_code == 404
    elsewhere = refresh.group(1).replace(f"/m/{MISSION}/", "/m/KHM/")
    assert login("caseworker").get(elsewhere).status_code == 404
    assert audit_rows(demo)[seen:] == viewed


def test_booking_a_return_queues_it_for_the_host(login, rows, demo):
    rows.link(beneficiary_id=REF, sync_status="synced", synced_at=datetime(2024, 1, 10, tzinfo=UTC))
    rows.prepared()
    movement = login("movement")
    page = text(movement.get(f"{BASE}/return"))
    assert "No return has been booked yet." in page
    assert 'value="THA" selected' in field(page, "book", "origin_country")  # the mission's country first
    projects = field(page, "book", "project_code")  # the mission's projects, its default first
    assert 'value="THA-CT-01" selected' in projects and 'value="THA-AVRR-02">' in projects
    departure = (date.today() + timedelta(days=14)).isoformat()
    booking = {
        "version": version(page),
        "origin_country": "THA",
        "origin_location": "bkk",  # capitals or not
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": departure,
        "escort": "CHILD",
        "fit_to_travel": "on",
        "project_code": "THA-AVRR-02",
    }
    response = movement.post(f"{BASE}/return/book", booking)
    assert response.status_code == 303, text(response)
    page = text(movement.get(f"{BASE}/return"))
    assert 'data-outbox="pending">Queued: waiting for the host</span>' in page
    assert "Thailand (BKK)" in page and "Cambodia (PNH)" in page and "Child escort" in page
    assert 'data-value="project">THA-AVRR-02</dd>' in page
    with demo.factory() as s:
        message = s.scalars(sa.select(OutboxMessage)).one()
    assert message.operation == "BookMovement" and message.status == "pending"
    assert "ProjectCode>THA-AVRR-02</" in message.payload
    assert "return.book" in audit_actions(demo)


def test_booking_form_errors_show_next_to_their_fields(login, rows, demo):
    movement = login("movement")
    page = text(movement.get(f"{BASE}/return"))
    bad = {
        "version": version(page),
        "origin_country": "XXX",
        "origin_location": "BANGKOK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": "1 March",
        "escort": "NONE",
        "project_code": "THA-CT-01",
    }
    response = movement.post(f"{BASE}/return/book", bad)
    assert response.status_code == 422
    page = text(response)
    for name in ("origin_country", "origin_location", "earliest_departure"):
        assert error_on(page, "book", name), name
    assert not error_on(page, "book", "destination_location")
    assert 'value="BANGKOK"' in page  # what the user typed stays
    assert "Enter a three-letter IATA airport code, e.g. BKK." in field(page, "book", "origin_location")
    past = {**bad, "origin_country": "THA", "origin_location": "BKK", "earliest_departure": "2020-01-01"}
    french = text(movement.post(f"{BASE}/return/book", past, headers={"Accept-Language": "fr"}))
    assert words("fr", "The date cannot be in the past.") in field(french, "book", "earliest_departure")
    assert not error_on(french, "book", "origin_location")

    # Without the person's consent to return, no booking: said on the form, nothing saved.
    good = {**bad, "origin_country": "THA", "origin_location": "BKK", "earliest_departure": "2099-01-01"}
    response = movement.post(f"{BASE}/return/book", good)
    assert response.status_code == 422
    consent = field(text(response), "book", "consent")  # at the form's consent line, with the Consent tab's link
    assert 'data-value="consent_return">No<' in consent and "/BEN-1000001/consent" in consent
    assert "consent to a voluntary return is not in force." in consent
    assert 'href="#book-consent"' in text(response)  # the error summary leads to it
    stale = movement.post(f"{BASE}/return/book", {**good, "version": str(int(good["version"]) - 1)})
    assert stale.status_code == 409
    with demo.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ReturnBooking)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_return_is_booked_only_under_one_of_the_missions_project_codes(login, rows, demo):  # noqa: ARG001
    movement = login("movement")
    form = {
        "version": version(text(movement.get(f"{BASE}/return"))),
        "origin_country": "THA",
        "origin_location": "BKK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": (date.today() + timedelta(days=14)).isoformat(),
    }
    missing = text(movement.post(f"{BASE}/return/book", form))
    assert "This field is required." in field(missing, "book", "project_code")
    spanish = {"Accept-Language": "es"}
    other = movement.post(f"{BASE}/return/book", {**form, "project_code": "KHM-CT-01"}, headers=spanish)
    assert other.status_code == 422
    assert words("es", "Choose one of the mission's project codes.") in field(text(other), "book", "project_code")
    set_ctm_settings(demo, MISSION, project_codes=None, default_project_code=None)  # settings from before codes
    page = text(movement.get(f"{BASE}/return"))
    assert 'data-note="no-projects"' in page
    none = text(movement.post(f"{BASE}/return/book", {**form, "project_code": "THA-CT-01"}))
    assert words("en", NO_PROJECTS) in field(none, "book", "project_code")
    with demo.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ReturnBooking)) == 0


def test_a_caseworker_cannot_book(login, rows):  # noqa: ARG001
    caseworker = login("caseworker")
    page = text(caseworker.get(f"{BASE}/return"))
    assert 'data-form="book"' not in page and "No return has been booked yet." in page
    assert caseworker.post(f"{BASE}/return/book", {"version": "1"}).status_code == 404


# -- the host record on the case overview -------------------------------------------------------


def host_record(page: str) -> str:
    start = page.index('data-section="host-record"')
    return page[start : page.index("</section>", start)]


def test_the_overview_shows_the_host_record_and_the_last_changes(login, rows):
    caseworker = login("caseworker")
    section = host_record(text(caseworker.get(f"{BASE}/case")))
    assert f'data-value="beneficiary_id">{REF}<' in section
    assert "Never synchronised with the host" in section
    assert 'data-form="refresh"' in section

    rows.link(
        beneficiary_id=REF,
        sync_status="synced",
        synced_at=datetime(2024, 2, 1, 9, 30, tzinfo=UTC),
        changes=[
            {"field": "gender", "before": None, "after": "Feminine"},
            {"field": "citizenships", "before": ["MMR"], "after": ["MMR", "THA"]},
            {"field": "birth_date", "before": "1990-05-01", "after": "1991-05-01"},
        ],
    )
    for locale in LOCALES:
        section = host_record(text(caseworker.get(f"{BASE}/case", headers={"Accept-Language": locale})))
        assert said(locale, "Up to date with the host") in section
        assert words(locale, "%(mapping)s, version %(version)s", mapping="beneficiary", version="3") in section
        changes = section[section.index('data-table="changes"') :]
        assert said(locale, "Gender") in changes and said(locale, "Citizenships") in changes
        assert said(locale, "Feminine") in changes
    english = host_record(text(caseworker.get(f"{BASE}/case")))
    assert re.search(r'data-side="after">Myanmar[^<]*, Thailand<', english)
    assert "May 1, 1991" in english and "Feb 1, 2024" in english


def test_a_conflict_shows_both_versions_and_that_nothing_was_overwritten(login, rows):
    rows.link(
        beneficiary_id=REF,
        sync_status="conflict",
        error="RecordVersion 4 is stale",
        conflict={
            "ours": {"gender": "Masculine", "languages": ["khm"]},
            "host": {"gender": "Feminine", "languages": ["khm"]},
        },
    )
    section = host_record(text(login("caseworker").get(f"{BASE}/case")))
    box = section[section.index('data-box="conflict"') :]
    assert "Nothing was overwritten." in box
    gender = box[box.index('data-field="gender"') :]
    gender = gender[: gender.index("</tr>")]
    assert 'class="ctm-differs"' in gender
    assert 'data-side="ours">Masculine<' in gender and 'data-side="host">Feminine<' in gender
    assert "RecordVersion 4 is stale" in section


def test_case_readers_who_may_not_edit_see_the_host_record_but_cannot_refresh_it(login, rows):
    rows.link(beneficiary_id=REF, sync_status="synced")
    page = text(login("auditor").get(f"{BASE}/case"))
    assert 'data-section="host-record"' in page and 'data-value="sync_status" data-status="synced"' in page
    assert "ctm.refresh_from_host" not in page and "/case/refresh" not in page


@pytest.mark.parametrize(
    ("address", "status", "message"),
    [(CLOSED_PORT, 503, exchanges.UNREACHABLE), (None, 503, exchanges.NOT_CONNECTED)],
)
def test_refresh_says_so_when_the_host_cannot_be_reached(login, rows, demo, address, status, message):
    rows.link(
        beneficiary_id=REF, sync_status="synced", changes=[{"field": "gender", "before": None, "after": "Masculine"}]
    )
    set_host_address(demo, address)
    caseworker = login("caseworker")
    page = text(caseworker.get(f"{BASE}/case"))
    response = caseworker.post(f"{BASE}/case/refresh", {"version": version(page)})
    assert response.status_code == status
    refresh = text(response)
    refresh = refresh[refresh.index('data-form="refresh"') :]
    assert words("en", message) in refresh[: refresh.index("</form>")]
    assert "Traceback" not in text(response)
    french = caseworker.post(f"{BASE}/case/refresh", {"version": version(page)}, headers={"Accept-Language": "fr"})
    assert words("fr", message) in text(french)
    with demo.factory() as s:  # nothing changed
        assert s.get(HostLink, rows.case_id).changes == [{"field": "gender", "before": None, "after": "Masculine"}]


def test_refresh_needs_the_edit_permission(login, rows):  # noqa: ARG001
    auditor = login("auditor")
    auditor.get(f"{BASE}/case")
    assert auditor.post(f"{BASE}/case/refresh", {"version": "1"}).status_code == 404


# -- finding and registering a person -----------------------------------------------------------


def test_find_page_shows_both_forms_and_refuses_an_empty_search(login):
    caseworker = login("caseworker")
    page = text(caseworker.get(FIND))
    assert 'data-form="search"' in page and 'data-form="register"' in page
    response = caseworker.post(f"{MISSION_BASE}/people/search", {})
    assert response.status_code == 422
    assert "Give a name, a birth date or a document number." in field(text(response), "search", "family_name")


def test_search_says_so_when_the_host_cannot_be_reached(login, demo):
    set_host_address(demo, CLOSED_PORT)
    caseworker = login("caseworker")
    caseworker.get(FIND)
    response = caseworker.post(f"{MISSION_BASE}/people/search", {"family_name": "Sok"})
    assert response.status_code == 503
    page = text(response)
    assert words("en", exchanges.UNREACHABLE) in page and 'value="Sok"' in page
    assert 'data-section="results"' not in page


def test_register_refuses_invalid_forms_next_to_their_fields(login, demo):
    caseworker = login("caseworker")
    caseworker.get(FIND)
    response = caseworker.post(
        f"{MISSION_BASE}/people/register",
        {"family_name": "", "given_name": "Bopha", "gender": "Unknown-code", "opened_on": "2024-01-10"},
    )
    assert response.status_code == 422
    page = text(response)
    for name in ("family_name", "gender", "consent_given_on", "consent_method"):
        assert error_on(page, "register", name), name
    assert not error_on(page, "register", "given_name")
    assert 'value="Bopha"' in page
    assert '<details class="ctm-add" open>' in page  # the form stays open on its errors
    with demo.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 0


def test_registering_a_person_opens_a_case_queued_for_the_host(login, demo):
    caseworker = login("caseworker")
    caseworker.get(FIND)
    person = {
        "family_name": "Srey",
        "given_name": "Malai",
        "gender": "Feminine",
        "birth_date": "1998-04-02",
        "nationality": "KHM",
        "languages": ["khm"],
        "opened_on": "2024-01-10",
        "consent_given_on": "2024-01-10",
        "consent_method": "Written",
    }
    response = caseworker.post(f"{MISSION_BASE}/people/register", person)
    assert response.status_code == 303, text(response)
    page = text(caseworker.get(response.headers["Location"]))
    with demo.factory() as s:
        case = s.scalars(sa.select(Case)).one()
    assert case.case_number in page and "queued for creation in the host" in page
    assert 'data-outbox="pending">Queued: waiting for the host<' in page
    assert "Srey" not in page  # the names went to the outbox, not to this page
    assert login("integrator").get(response.headers["Location"]).status_code == 404


# -- the synchronisation page --------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_sync_page_counts_states_and_lists_what_needs_attention(login, rows, locale):
    made = {state: rows.message(state) for state in OUTBOX_STATUSES}
    failed = rows.message("failed", error_code="VALIDATION", error=HOST_SAYS, attempts=1)
    page = text(login("integrator").get(SYNC, headers={"Accept-Language": locale}))
    for state in OUTBOX_STATUSES:
        expected = 2 if state == "failed" else 1
        assert f'data-count="{state}">{expected}<' in page, state
        assert said(locale, OUTBOX_STATES[state]) in page, state
    attention = page[page.index('data-section="attention"') :]
    attention = attention[: attention.index("</section>")]
    listed = re.findall(r'data-message="(\d+)" data-status="(\w+)"', attention)
    assert [status for _id, status in listed] == ["failed", "failed", "dead", "unknown"]
    assert int(listed[0][0]) == failed  # newest first within a state
    row = attention[attention.index(f'data-message="{failed}"') :]
    row = row[: row.index("</tr>")]
    assert "<code>VALIDATION</code>" in row and str(escape(HOST_SAYS)) in row
    assert said(locale, "Book a return") in row
    recent = page[page.index('data-section="recent"') :]
    for state in ("pending", "sending", "done", "discarded"):
        assert f'data-message="{made[state]}" data-status="{state}"' in recent


def test_sync_page_shows_no_case_details_but_the_number(login, rows, demo):
    rows.message("failed", error_code="VALIDATION", error="Bad airport")
    with demo.factory() as s:
        number = s.scalar(sa.select(Case.case_number))
    page = text(login("integrator").get(SYNC))
    assert f'data-value="case">{number}</td>' in page  # no link: the integrator may not view cases
    assert REF not in page and "<MovementRequest" not in page and "&lt;MovementRequest" not in page


def test_reading_the_sync_page_is_audited(login, rows, demo):
    rows.message("failed", error_code="VALIDATION", error="Bad airport")
    assert login("integrator").get(SYNC).status_code == 200
    assert "outbox.view" in audit_actions(demo)


def test_retry_and_discard_change_the_state_and_are_audited(login, rows, demo):
    failed = rows.message("failed", error_code="VALIDATION", error="Bad airport", attempts=1)
    dead = rows.message("dead", error_code="UNREACHABLE", attempts=8)
    done = rows.message("done")
    integrator = login("integrator")
    page = text(integrator.get(SYNC))
    assert f'data-form="discard-{dead}"' in page and f'data-form="retry-{done}"' not in page

    response = integrator.post(f"{SYNC}/{failed}/retry")
    assert response.status_code == 303 and response.headers["Location"].endswith(SYNC)
    set_host_address(demo, CLOSED_PORT)  # a dead message may be at the host: it is asked about first
    response = integrator.post(f"{SYNC}/{dead}/discard")
    assert response.status_code == 503 and "could not be asked whether it already holds" in text(response)
    with demo.factory() as s:
        assert s.get(OutboxMessage, dead).status == "dead"
    set_host_address(demo, None)
    with demo.factory() as s, s.begin():  # (one the host never had is discarded without asking)
        s.get(OutboxMessage, dead).status = "pending"
    response = integrator.post(f"{SYNC}/{dead}/discard")
    assert response.status_code == 303
    with demo.factory() as s:
        assert s.get(OutboxMessage, failed).status == "pending"
        assert s.get(OutboxMessage, failed).attempts == 0
        assert s.get(OutboxMessage, dead).status == "discarded"
    assert {"outbox.retry", "outbox.discard"} <= set(audit_actions(demo))
    page = text(integrator.get(SYNC))
    assert f'data-message="{failed}" data-status="pending"' in page
    assert f'data-message="{dead}" data-status="discarded"' in page
    assert "The message is discarded" in page  # the flash after the redirect

    # What no longer applies is refused with a message, nothing changed.
    refused = integrator.post(f"{SYNC}/{done}/retry")
    assert refused.status_code == 409
    assert "This message cannot be sent again" in text(refused)
    assert integrator.post(f"{SYNC}/{dead}/discard").status_code == 409
    assert integrator.post(f"{SYNC}/999999/retry").status_code == 404
    with demo.factory() as s:
        assert s.get(OutboxMessage, done).status == "done"


def test_another_missions_messages_are_not_found(login, demo, rows):
    message = rows.message("failed", error_code="VALIDATION", error="Bad airport")
    integrator = login("integrator")
    assert f'data-message="{message}"' not in text(integrator.get("/m/KHM/plugins/ctm/sync"))
    assert integrator.post(f"/m/KHM/plugins/ctm/sync/{message}/retry").status_code == 404
    with demo.factory() as s:
        assert s.get(OutboxMessage, message).status == "failed"


# -- over the live host (SOAP on loopback): the search, opening a case from it, refreshing ----------


def host_person(demo):  # noqa: ANN001, ANN201
    from mimosa_host.models import Beneficiary

    with demo.factory() as s:
        return s.get(Beneficiary, REF)


def test_search_lists_the_host_records_and_opens_a_case_from_one(login, demo, connected):  # noqa: ARG001
    person = host_person(demo)
    caseworker = login("caseworker")
    caseworker.get(FIND)
    response = caseworker.post(f"{MISSION_BASE}/people/search", {"family_name": person.family_name})
    assert response.status_code == 200, text(response)
    page = text(response)
    row = page[page.index(f'data-beneficiary="{REF}"') :]
    row = row[: row.index("</tr>")]
    assert person.family_name in row and person.given_name in row
    assert 'data-form="import"' in row and 'data-action="open"' in row

    opened = caseworker.post(f"{BASE}/case/import", {"opened_on": date.today().isoformat()})
    assert opened.status_code == 303, text(opened)
    assert opened.headers["Location"].endswith(f"{BASE}/case")
    overview = text(caseworker.get(f"{BASE}/case"))
    assert "The case is open, with what the host" in overview
    section = host_record(overview)
    assert 'data-status="synced"' in section and "Up to date with the host" in section

    # Found again, the person now leads to their case.
    page = text(caseworker.post(f"{MISSION_BASE}/people/search", {"family_name": person.family_name}))
    row = page[page.index(f'data-beneficiary="{REF}"') :]
    row = row[: row.index("</tr>")]
    assert f'href="{BASE}/case" data-action="case"' in row and 'data-form="import"' not in row

    # Opening it twice is refused with a message, not a second case.
    again = caseworker.post(f"{BASE}/case/import", {"opened_on": date.today().isoformat()})
    assert again.status_code == 422
    assert "This beneficiary already has a case in this mission." in text(again)


def test_refreshing_from_the_host_shows_what_changed(login, demo, connected):  # noqa: ARG001
    from mimosa_host.models import Beneficiary

    caseworker = login("caseworker")
    caseworker.get(FIND)
    assert caseworker.post(f"{BASE}/case/import", {"opened_on": date.today().isoformat()}).status_code == 303
    with demo.factory() as s, s.begin():
        record = s.get(Beneficiary, REF)
        record.nationality = "LAO" if record.nationality != "LAO" else "MMR"
        after = record.nationality
    page = text(caseworker.get(f"{BASE}/case"))
    response = caseworker.post(f"{BASE}/case/refresh", {"version": version(page)})
    assert response.status_code == 303, text(response)
    page = text(caseworker.get(f"{BASE}/case"))
    assert "Refreshed from the host. Fields changed: 1" in page
    changes = host_record(page)
    changes = changes[changes.index('data-table="changes"') :]
    assert 'data-field="citizenships"' in changes and "Citizenships" in changes
    assert ("Laos" if after == "LAO" else "Myanmar") in changes


def test_a_host_fault_is_shown_in_the_hosts_words(login, demo, connected):  # noqa: ARG001
    set_ctm_settings(demo, MISSION, soap_password="not-the-password")  # noqa: S106
    caseworker = login("caseworker")
    caseworker.get(FIND)
    response = caseworker.post(f"{MISSION_BASE}/people/search", {"family_name": "Sok"})
    assert response.status_code == 502
    page = text(response)
    assert words("en", exchanges.REFUSED) in page
    assert 'data-value="host-message">Authentication failed</q>' in page


def test_opening_from_the_ct_tab_fills_the_case_from_the_host_and_links_it(login, demo, connected):  # noqa: ARG001
    caseworker = login("caseworker")
    caseworker.get(f"{BASE}/case")
    response = caseworker.post(f"{BASE}/case/open", {"opened_on": "2026-02-03"})
    assert response.status_code == 303
    page = text(caseworker.get(f"{BASE}/case"))
    assert "The case is open, with what the host&#39;s record holds." in page
    assert 'data-value="sync_status" data-status="synced"' in page
    with demo.factory() as s:
        link = s.scalars(sa.select(HostLink)).one()
    assert (link.beneficiary_id, link.mapping_id, link.mapping_version) == (REF, "beneficiary", "1")


def test_opening_while_the_host_is_down_opens_the_case_unlinked_and_says_so(login, demo):
    set_host_address(demo, CLOSED_PORT)
    caseworker = login("caseworker")
    caseworker.get(f"{BASE}/case")
    assert caseworker.post(f"{BASE}/case/open", {"opened_on": "2026-02-03"}).status_code == 303
    page = text(caseworker.get(f"{BASE}/case"))
    assert "The host could not be asked for its record: refresh from the host later." in page
    assert 'data-status="none"' in page


def person_rows(demo) -> list[tuple]:  # noqa: ANN001
    """The case's person profile and host link as stored, to show a refusal changed neither."""
    from ctm_plugin.domain.case import PersonProfile

    with demo.engine.connect() as conn:
        return [
            tuple(row)
            for table in (PersonProfile.__table__, HostLink.__table__)
            for row in conn.execute(sa.select(table).order_by(*table.primary_key))
        ]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_refresh_answered_with_another_persons_record_changes_nothing_and_says_why(login, demo, connected, locale):  # noqa: ANN001
    caseworker = login("caseworker")
    caseworker.get(FIND)
    assert caseworker.post(f"{BASE}/case/import", {"opened_on": date.today().isoformat()}).status_code == 303
    before = person_rows(demo)
    connected.faults.beneficiary_answered_as = "BEN-2000001"  # Cambodia's person
    page = text(caseworker.get(f"{BASE}/case", headers={"Accept-Language": locale}))
    response = caseworker.post(f"{BASE}/case/refresh", {"version": version(page)}, headers={"Accept-Language": locale})
    assert response.status_code == 502
    assert words(locale, exchanges.ANSWER_MISMATCH, asked=REF, got="BEN-2000001") in text(response)
    assert person_rows(demo) == before


# -- retrying and discarding many at once ------------------------------------------------------------


def test_bulk_retry_names_how_many_before_acting_and_then_acts_on_those(login, rows, demo):
    failed = [rows.message("failed", error_code="VALIDATION", error="Bad airport") for _ in range(3)]
    other = rows.message("failed", operation="SaveBeneficiary", error_code="VALIDATION")
    done = rows.message("done")
    integrator = login("integrator")
    page = text(integrator.get(SYNC))
    assert 'data-section="bulk"' in page
    confirm = integrator.post(
        f"{SYNC}/bulk/confirm", {"action": "retry", "status": ["failed"], "operation": ["BookMovement"]}
    )
    screen = text(confirm)
    assert confirm.status_code == 200 and 'data-count="3"' in screen and "Send 3 messages again?" in screen
    assert set(map(int, re.findall(r'name="message" value="(\d+)"', screen))) == set(failed)
    with demo.factory() as s:  # nothing done yet
        assert {s.get(OutboxMessage, m).status for m in failed} == {"failed"}
    ids = re.findall(r'name="message" value="(\d+)"', screen)
    response = integrator.post(f"{SYNC}/bulk", {"action": "retry", "message": [*ids, str(done)]})
    assert response.status_code == 303
    with demo.factory() as s:
        assert {s.get(OutboxMessage, m).status for m in failed} == {"pending"}
        assert (s.get(OutboxMessage, other).status, s.get(OutboxMessage, done).status) == ("failed", "done")
    page = text(integrator.get(SYNC))
    assert "Done: 3 sent again, 0 discarded" in page and "1 no longer applicable" in page
    assert audit_actions(demo).count("outbox.retry") == 3


def test_bulk_filters_are_checked_and_an_empty_selection_does_nothing(login, rows):
    rows.message("failed", error_code="VALIDATION")
    integrator = login("integrator")
    integrator.get(SYNC)
    refused = integrator.post(
        f"{SYNC}/bulk/confirm", {"action": "discard", "older_than_hours": "0", "status": ["gone"]}
    )
    assert refused.status_code == 422
    page = text(refused)
    assert error_on(page, "bulk", "older_than_hours") and error_on(page, "bulk", "status")
    empty = text(integrator.post(f"{SYNC}/bulk/confirm", {"action": "discard", "case": "NO-SUCH-CASE"}))
    assert 'data-count="0"' in empty and "No message matches" in empty and 'data-action="confirm"' not in empty
    assert integrator.post(f"{SYNC}/bulk", {"action": "explode"}).status_code == 400


def test_only_integrators_who_manage_may_act_on_many(login, rows):
    message = rows.message("failed", error_code="VALIDATION")
    assert 'data-section="bulk"' not in text(login("admin").get(SYNC))  # may read the page, not act
    for username in ("caseworker", "admin"):
        browser = login(username)
        browser.get(f"/m/{MISSION}/beneficiaries")
        assert browser.post(f"{SYNC}/bulk/confirm", {"action": "retry"}).status_code == 404
        assert browser.post(f"{SYNC}/bulk", {"action": "retry", "message": [str(message)]}).status_code == 404


# -- cancelling a return ---------------------------------------------------------------------


def cancellation(rows: Rows, booking: int, status: str, movement_id: str | None = "MOV-1", **values: object) -> int:
    """A cancellation message of ``booking`` in ``status``, as the Return tab asked for it."""
    payload = json.dumps({"return_id": booking, "movement_id": movement_id, "reason": "SECURITY"})
    return rows.message(status, "CancelMovement", payload=payload, payload_kind="json", **values)


def card_of(page: str, booking: int) -> str:
    card = page[page.index(f'data-return="{booking}"') :]
    return card[: card.index("</article>")]


def test_a_movement_officer_cancels_a_return_after_confirming_with_a_reason(login, rows, demo):  # noqa: ANN001
    booking = rows.booking("BOOKED", movement_id="MOV-1")
    movement = login("movement")
    page = text(movement.get(f"{BASE}/return"))
    form = f"cancel-{booking}"
    reasons = field(page, form, "reason")
    assert all(f'value="{code}"' in reasons for code in CANCEL_REASONS)
    target = f"{BASE}/return/{booking}/cancel"
    refused = movement.post(target, {"version": version(page), "reason": ""})
    assert refused.status_code == 422 and error_on(text(refused), form, "reason")
    with demo.factory() as s:
        assert s.scalar(sa.select(sa.func.count()).where(OutboxMessage.operation == "CancelMovement")) == 0
    response = movement.post(target, {"version": version(page), "reason": "NOT_FIT_TO_TRAVEL"})
    assert response.status_code == 303, text(response)
    card = card_of(text(movement.get(f"{BASE}/return")), booking)
    assert 'data-cancellation="pending"' in card and "Not fit to travel" in card
    assert f'data-form="{form}"' not in card  # one cancellation at a time
    assert "return.cancel" in audit_actions(demo)
    sync = text(login("integrator").get(SYNC))
    assert "Cancel a return" in sync and "ctm-cancel" not in sync  # listed under its own reference


def test_a_cancellation_refused_after_the_page_was_read_says_why(login, rows, demo):  # noqa: ANN001
    booking = rows.booking("BOOKED", movement_id="MOV-1")
    movement = login("movement")
    page = text(movement.get(f"{BASE}/return"))
    with mission_session(rows.ctx) as s, s.begin():  # the feed brings DEPARTED meanwhile
        s.get(ReturnBooking, booking).status = "DEPARTED"
    response = movement.post(f"{BASE}/return/{booking}/cancel", {"version": version(page), "reason": "OTHER"})
    assert response.status_code == 422
    assert "it can no longer be cancelled" in card_of(text(response), booking)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_return_tab_shows_each_cancellation_as_it_stands(login, rows, locale):  # noqa: ANN001
    waiting = rows.booking(None, outbox="unknown")
    cancellation(rows, waiting, "pending", movement_id=None)
    done = rows.booking("CANCELLED", movement_id="MOV-2")
    cancellation(rows, done, "done", movement_id="MOV-2")
    refused = rows.booking("BOOKED", movement_id="MOV-3")
    cancellation(
        rows, refused, "failed", movement_id="MOV-3", error_code="INVALID_STATE", result={"status": "DEPARTED"}
    )
    no_show = rows.booking("NO_SHOW", movement_id="MOV-4")
    page = text(login("movement").get(f"{BASE}/return", headers={"Accept-Language": locale}))
    card = card_of(page, waiting)
    assert 'data-cancellation="pending"' in card
    assert (
        words(
            locale,
            "Cancellation asked (%(reason)s): it waits until the host has confirmed the booking "
            "and given its movement, then goes to the host.",
            reason=said(locale, "Security"),
        )
        in card
    )
    card = card_of(page, done)
    assert f'data-status="CANCELLED">{said(locale, HOST_STATUSES["CANCELLED"])}</span>' in card
    assert 'data-cancellation="done"' in card and "data-form" not in card
    card = card_of(page, refused)
    assert words(locale, "The host refused the cancellation: the movement is %(status)s.",
                 status=said(locale, "Departed")) in card  # fmt: skip
    assert f'data-form="cancel-{refused}"' in card  # the feed has not said DEPARTED yet: it may be asked again
    card = card_of(page, no_show)
    assert f'data-status="NO_SHOW">{said(locale, HOST_STATUSES["NO_SHOW"])}</span>' in card
    assert "data-form" not in card


def test_a_caseworker_sees_the_cancellation_but_cannot_cancel(login, rows):  # noqa: ANN001
    booking = rows.booking("BOOKED", movement_id="MOV-1")
    cancellation(rows, booking, "pending")
    caseworker = login("caseworker")
    page = text(caseworker.get(f"{BASE}/return"))
    assert 'data-cancellation="pending"' in card_of(page, booking) and "data-form" not in card_of(page, booking)
    response = caseworker.post(f"{BASE}/return/{booking}/cancel", {"version": "1", "reason": "OTHER"})
    assert response.status_code == 404


def test_bulk_retry_of_cancellations_selects_them_by_operation(login, rows, demo):  # noqa: ANN001
    booking = rows.booking("CONFIRMED", movement_id="MOV-1")
    refused = cancellation(rows, booking, "failed", error_code="INVALID_STATE", result={"status": "DEPARTED"})
    rows.message("failed", error_code="VALIDATION")  # a booking: not selected
    integrator = login("integrator")
    assert 'value="CancelMovement"' in field(text(integrator.get(SYNC)), "bulk", "operation")
    screen = text(
        integrator.post(
            f"{SYNC}/bulk/confirm", {"action": "retry", "status": ["failed"], "operation": ["CancelMovement"]}
        )
    )
    assert re.findall(r'name="message" value="(\d+)"', screen) == [str(refused)] and "Cancel a return" in screen
    assert integrator.post(f"{SYNC}/bulk", {"action": "retry", "message": [str(refused)]}).status_code == 303
    with demo.factory() as s:
        assert s.get(OutboxMessage, refused).status == "pending"
    assert "return.cancel.pending" in audit_actions(demo)  # the case's trail says the cancellation goes again
