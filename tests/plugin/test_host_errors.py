"""Errors a person can act on: the command line, the synchronisation page, "Test the connection" on
the mission's settings, and opening a case, each told what is wrong with the exchange with the host
(address, credentials, missions, codes the mapping cannot read), in one translated sentence.

Against the live host over HTTP on loopback; a host that is down is a real closed port.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from page_parts import text
from world import OPENED, THA_PERSON, World

from ctm_plugin import i18n
from ctm_plugin.domain.sync import JobOutcome
from ctm_plugin.services import host, people
from ctm_plugin.services.host import MISMATCH, PROBLEMS
from mimosa_host import enablement
from mimosa_host.cli import main as host_cli
from mimosa_host.context import system_context
from mimosa_host.demo import api_credentials
from mimosa_host.jobs import JobRunner
from mimosa_host.models import Mission
from mimosa_host.runtime import default_database_url

CLOSED_PORT = "http://127.0.0.1:9/"
"""The discard port: nothing listens there."""
UNREADABLE_GENDER = (
    '[beneficiary]\nversion = 2\n\n[beneficiary.fields.gender]\nxpath = ["m:Sex"]\ncardinality = "required"\n'
    'converter = "codes"\ncodes = { Q = "Masculine" }\n'
)
"""An override that validates but reads none of the host's codes for the person's sex."""
ADMIN = "/m/THA/admin/plugins/ctm"
SYNC = "/m/THA/plugins/ctm/sync"


def settings_of(rt, mission: str = "THA") -> dict:  # noqa: ANN001
    with rt.factory() as s:
        return enablement.plugin_settings(s, mission, "ctm")


def reconfigure(rt, mission: str = "THA", **changes: str) -> None:  # noqa: ANN001
    """The mission's CTM settings changed as an administrator would change them."""
    with rt.factory() as s, s.begin():
        ctx = system_context(s, rt.host, rt.factory, s.get(Mission, mission))
        enablement.enable(s, rt.host, mission, "ctm", {**settings_of(rt, mission), **changes}, ctx)


def wrong(kind: str, live_host) -> dict[str, str]:  # noqa: ANN001
    """The setting changes that make the exchange fail in the way ``kind`` names (none for ``MAPPING``:
    see :func:`break_exchange`)."""
    khm_user, khm_password = api_credentials("KHM")
    return {
        "UNAUTHORIZED": {"soap_password": "not-the-password"},
        "UNREACHABLE": {"soap_base_url": CLOSED_PORT},
        "FORBIDDEN_MISSION": {"soap_username": khm_user, "soap_password": khm_password},
        "PROTOCOL": {"soap_base_url": f"{live_host.base_url}/login/"},
        "MAPPING": {},
    }[kind]


def break_exchange(w: World, kind: str, live_host) -> None:  # noqa: ANN001
    """Make the mission's exchange fail as ``kind`` names: its settings changed by an administrator,
    or (``MAPPING``) an override saved by an integrator on the Mappings page."""
    if kind == "MAPPING":
        host.save_overrides(w.ctx("integrator"), UNREADABLE_GENDER)
    else:
        reconfigure(w.rt, **wrong(kind, live_host))


CODES = {
    "UNAUTHORIZED": "UNAUTHORIZED",
    "UNREACHABLE": "CONNECT_FAILED",
    "FORBIDDEN_MISSION": "FORBIDDEN_MISSION",
    "PROTOCOL": "PROTOCOL",
}
KINDS = [*CODES, "MAPPING"]


def expected(kind: str, locale: str = "en") -> str:
    params = {"code": CODES.get(kind, "MAPPING"), "fields": "gender"}
    return i18n.translations(locale).gettext(PROBLEMS[kind]) % params


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_command_says_what_is_wrong_with_the_host_in_one_translated_line(
    w: World, connected, database_url: str, kind: str
):  # noqa: ANN001
    people.open_from_host(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED})
    break_exchange(w, kind, connected)
    for locale in ("en", "fr"):
        result = CliRunner().invoke(
            host_cli,
            ["--database", database_url, "ctm", "sync", "pull", "--mission", "THA"],
            env={"MIMOSA_LOCALE": locale},
        )
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert errors == [f"Error: {expected(kind, locale)}"]


def test_a_database_not_migrated_says_to_run_db_upgrade(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    for command in (["plugins", "list"], ["ctm", "sync", "status", "--mission", "THA"], ["users", "roles"]):
        result = CliRunner().invoke(host_cli, ["--database", url, *command])
        if command == ["users", "roles"]:  # reads no table
            assert result.exit_code == 0
            continue
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert result.output.strip().splitlines() == [
            f"Error: The database {url} is not migrated to this version: run “mimosa-host db upgrade” first."
        ]


def test_a_database_that_cannot_be_reached_is_one_line_without_the_password():
    url = "postgresql+psycopg://someone:s3cret@127.0.0.1:9/nothing"
    result = CliRunner().invoke(host_cli, ["--database", url, "plugins", "list"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "s3cret" not in result.output and "cannot be used (OperationalError)" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_the_command_line_and_the_demo_use_the_same_database_by_default(monkeypatch):
    monkeypatch.delenv("MIMOSA_DATABASE_URL", raising=False)
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    demo = re.search(r"^DEMO_DB \?= sqlite:///\$\(CURDIR\)/(\S+)$", makefile, re.MULTILINE)
    assert demo and default_database_url() == f"sqlite:///{Path(demo.group(1)).resolve()}"


# -- the synchronisation page --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["UNAUTHORIZED", "UNREACHABLE"])
def test_failing_jobs_need_attention_until_they_work_again(w: World, connected, login_to, caplog, kind: str):  # noqa: ANN001
    integrator = login_to(connected.app, "integrator")
    assert "Nothing needs attention." in text(integrator.get(SYNC))
    working = settings_of(w.rt)
    break_exchange(w, kind, connected)
    caplog.set_level(logging.WARNING)
    JobRunner(w.rt).run_due(force=True)
    JobRunner(w.rt).run_due(force=True)  # still failing: said once, not on every run
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged.count(f"job movement-status in mission THA: {expected(kind)}") == 1
    assert not any("not-the-password" in line or "Traceback" in line for line in logged)

    page = text(integrator.get(SYNC))
    assert "Nothing needs attention." not in page
    jobs = re.findall(r'<tr data-job="([^"]+)" data-code="([^"]+)">', page)
    assert ("movement-status", CODES[kind]) in jobs and ("pull-beneficiaries", CODES[kind]) in jobs
    assert expected(kind).replace("'", "&#39;") in page
    outcome = w.one(JobOutcome, mission_code="THA", job="movement-status")
    assert "not-the-password" not in repr(vars(outcome)) and outcome.failing_since is not None

    if kind == "MAPPING":
        host.save_overrides(w.ctx("integrator"), "")  # back to the default mappings
    else:
        reconfigure(w.rt, **working)
    JobRunner(w.rt).run_due(force=True)
    assert "Nothing needs attention." in text(integrator.get(SYNC))
    assert w.one(JobOutcome, mission_code="THA", job="movement-status").code is None


# -- "Test the connection" on the mission's settings ---------------------------------------------


def check(admin, **form: str):  # noqa: ANN001, ANN201
    admin.get(ADMIN)
    return admin.post(ADMIN, {**form, "action": "check"})


def findings(page: str) -> list[tuple[str, str, str]]:
    """(ok yes/no, setting or "", text) of each finding the page lists."""
    section = page[page.index('data-section="check"') :]
    return [
        (ok, setting or "", re.sub(r"\s+", " ", body).strip())
        for ok, setting, body in re.findall(
            r'<li class="flash \w+" data-ok="(yes|no)"(?: data-setting="([^"]+)")?>(.*?)</li>', section, re.DOTALL
        )
    ]


def form_of(settings: dict) -> dict[str, str]:
    """The settings as the page's form posts them: the password blank (the stored one stands)."""
    return {k: v for k, v in settings.items() if k != "soap_password" and v is not None}


def test_test_the_connection_says_it_works_and_saves_nothing(w: World, connected, login_to):  # noqa: ANN001
    admin = login_to(connected.app, "admin")
    before = settings_of(w.rt)
    page = text(admin.get(ADMIN))
    assert 'data-action="check"' in page
    response = check(admin, **form_of(before))
    assert response.status_code == 200
    found = findings(text(response))
    assert found and all(ok == "yes" for ok, _setting, _text in found), found
    assert any("accepts the API user for mission THA" in finding for _ok, _setting, finding in found)
    assert settings_of(w.rt) == before


@pytest.mark.parametrize("kind", KINDS)
def test_test_the_connection_names_what_is_wrong(w: World, connected, login_to, kind: str):  # noqa: ANN001
    admin = login_to(connected.app, "admin")
    before = settings_of(w.rt)
    if kind == "MAPPING":  # the override in force, saved on the Mappings page
        host.save_overrides(w.ctx("integrator"), UNREADABLE_GENDER)
    response = check(admin, **{**form_of(before), **wrong(kind, connected)})
    assert response.status_code == 200
    page = text(response)
    failed = [(setting, finding) for ok, setting, finding in findings(page) if ok == "no"]
    assert failed, page
    if kind == "MAPPING":  # the field, where it was read, the host's code and why it could not be read
        assert all(setting == "" for setting, _finding in failed)  # no setting of this page: the mapping
        assert any(
            finding.startswith("gender cannot be read from the host&#39;s records (m:Sex): F is not in")
            for _setting, finding in failed
        )
    else:
        setting, finding = failed[0]
        assert finding.startswith(expected(kind).replace("'", "&#39;"))
        assert setting == {"UNAUTHORIZED": "soap_password", "FORBIDDEN_MISSION": "soap_username"}.get(
            kind, "soap_base_url"
        )
    assert settings_of(w.rt) == before  # nothing saved
    assert "not-the-password" not in page


def test_test_the_connection_refuses_invalid_values_like_saving_does(w: World, connected, login_to):  # noqa: ANN001
    admin = login_to(connected.app, "admin")
    before = settings_of(w.rt)
    response = check(admin, **form_of({**before, "soap_base_url": "not an address"}))
    assert response.status_code == 422
    assert 'data-section="check"' not in text(response) and 'aria-invalid="true"' in text(response)
    assert settings_of(w.rt) == before


def test_test_the_connection_answers_in_the_administrators_language(w: World, connected, login_to):  # noqa: ANN001
    admin = login_to(connected.app, "admin")
    french = {"Accept-Language": "fr"}
    admin.get(ADMIN, headers=french)
    form = {**form_of(settings_of(w.rt)), "soap_password": "not-the-password"}
    response = admin.post(ADMIN, {**form, "action": "check"}, headers=french)
    assert expected("UNAUTHORIZED", "fr").replace("'", "&#39;") in text(response)


# -- a mapping that does not fit, where it bites -------------------------------------------------


def test_opening_a_case_on_a_record_the_mapping_cannot_read_names_the_field_and_saves_nothing(
    w: World, connected, login_to
):  # noqa: ANN001
    host.save_overrides(w.ctx("integrator"), UNREADABLE_GENDER)
    caseworker = login_to(connected.app, "caseworker")
    overview = f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}/case"
    caseworker.get(overview)
    before = w.snapshot()
    response = caseworker.post(f"{overview}/open", {"opened_on": OPENED})
    assert response.status_code == 422
    page = text(response)
    assert i18n.translations("en").gettext(MISMATCH) in page
    assert re.search(r'data-value="host-message">gender \(m:Sex\): [^<]+</q>', page), page
    after = w.snapshot()
    seen = before.pop("ctm_audit_event")
    assert [row[3] for row in after.pop("ctm_audit_event") if row not in seen] == ["case.view"]  # the page again
    before.pop("ctm_audit_chain_head"), after.pop("ctm_audit_chain_head")  # the chain's end moves with the view
    assert after == before and not after["ctm_case"]


AUDIT_CHAIN = {"ctm_audit_event", "ctm_audit_chain_head"}
"""The page shown again is audited: its event, and the chain's end that moves with it."""


def test_a_refresh_the_mapping_cannot_read_names_the_field_and_changes_nothing(w: World, connected, login_to):  # noqa: ANN001
    people.open_from_host(w.ctx("caseworker"), THA_PERSON, {"opened_on": OPENED})
    host.save_overrides(w.ctx("integrator"), UNREADABLE_GENDER)
    caseworker = login_to(connected.app, "caseworker")
    overview = f"/m/THA/plugins/ctm/records/beneficiary/{THA_PERSON}/case"
    page = text(caseworker.get(overview))
    before = {table: rows for table, rows in w.snapshot().items() if table not in AUDIT_CHAIN}
    response = caseworker.post(f"{overview}/refresh", {"version": re.search(r'name="version" value="(\d+)"', page)[1]})
    assert response.status_code == 422
    assert re.search(r'data-value="host-message">gender \(m:Sex\): [^<]+</q>', text(response))
    assert {table: rows for table, rows in w.snapshot().items() if table not in AUDIT_CHAIN} == before
