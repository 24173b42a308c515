"""The server errors issue 8 found, each as its own example: every one is now a refusal that names
the field (or a page that works), and nothing is saved."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from property_helpers import snapshot

from ctm_plugin.cli import main as ctm
from mimosa_host.cli import main as host_cli
from mimosa_host.models import PluginEnablement, SignInThrottle

NESTED = "x = " + "[" * 5000 + "]" * 5000
SETTINGS = {
    "soap_base_url": "https://mimosa.example/",
    "soap_username": "ctm-tha",
    "soap_password": "p",
    "case_number_prefix": "THA-CT",
}


def test_bad_settings_are_refused_naming_the_field_and_the_mission_keeps_working(app, login) -> None:  # noqa: ANN001
    engine = app.extensions["mimosa"].engine
    admin = login("admin")
    admin.get("/m/THA/admin/plugins/ctm")
    with engine.connect() as conn:
        stored = conn.scalar(sa.select(PluginEnablement.settings).filter_by(mission_code="THA", plugin_name="ctm"))
    for field, value, message in [
        ("soap_username", "ctm\x00tha", "Remove the control characters from this value."),
        ("soap_username", "ctm-tha\uffff", "Remove the control characters from this value."),
        ("soap_password", "secret\x00", "Remove the control characters from this value."),
    ]:
        before = snapshot(engine)
        response = admin.post("/m/THA/admin/plugins/ctm", {**SETTINGS, field: value})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, (field, value)
        assert f'id="e-{field}"' in page and message in page, (field, value)
        assert snapshot(engine) == before
    with engine.connect() as conn:
        assert conn.scalar(sa.select(PluginEnablement.settings).filter_by(mission_code="THA", plugin_name="ctm")) == (
            stored
        )
    # The password is whatever the host issued: one character is enough.
    assert admin.post("/m/THA/admin/plugins/ctm", {**SETTINGS, "soap_password": "p"}).status_code == 302


def test_bad_mapping_overrides_are_refused_naming_the_line_and_the_mission_keeps_working(app, login) -> None:  # noqa: ANN001
    engine = app.extensions["mimosa"].engine
    integrator = login("integrator")
    page = "/m/THA/plugins/ctm/mappings"
    integrator.get(page)
    for document, message in [
        (NESTED, "mapping_overrides:1: Tables and lists are nested more than 16 deep."),
        ("[beneficiary]\nversion = " + "6" * 60, "The version is a whole number from 1 to"),
    ]:
        before = snapshot(engine)
        response = integrator.post(page, {"document": document})
        assert response.status_code == 422, document[:40]
        assert message in response.get_data(as_text=True), document[:40]
        assert snapshot(engine) == before


def test_the_beneficiary_list_takes_any_page_and_says_what_is_wrong_with_a_search(login) -> None:  # noqa: ANN001
    browser = login("caseworker")
    last = browser.get("/m/THA/beneficiaries?page=" + "9" * 30)
    assert last.status_code == 200 and "BEN-1" in last.get_data(as_text=True)  # the last page
    for q, message in [("x" * 50_000, "Search: enter at most 120 characters."), ("a\x00b", "Search: remove the")]:
        response = browser.get("/m/THA/beneficiaries", query_string={"q": q})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert browser.get("/m/%00/beneficiaries").status_code == 404
    assert browser.get("/m/THA/beneficiaries/BEN-%00").status_code == 404
    assert browser.get("/m/THA/plugins/ctm/records/beneficiary/BEN-%00/case").status_code == 404


def test_a_ct_form_refuses_a_nul_naming_the_field_and_login_refuses_it_as_a_wrong_name(app, login, web) -> None:  # noqa: ANN001
    engine = app.extensions["mimosa"].engine
    caseworker = login("caseworker")
    caseworker.get("/m/THA/beneficiaries")
    case = "/m/THA/plugins/ctm/records/beneficiary/BEN-1000001"
    assert caseworker.post(f"{case}/case/open", {"opened_on": "2026-02-03"}).status_code == 303
    before = snapshot(engine)
    form = {"version": "1", "type": "Shelter", "provider": "Safe\x00House", "status": "Planned"}
    response = caseworker.post(f"{case}/assistance/services", form)
    assert response.status_code == 422
    assert 'id="err-service-provider"' in response.get_data(as_text=True)
    assert snapshot(engine) == before

    web.get("/login")
    before = snapshot(engine, skip=frozenset({SignInThrottle.__tablename__}))
    assert web.post("/login", {"username": "case\x00worker", "password": "x"}).status_code == 401
    assert snapshot(engine, skip=frozenset({SignInThrottle.__tablename__})) == before


def test_ctm_mappings_validate_names_the_file_and_line_of_a_document_nested_too_deep(tmp_path: Path) -> None:
    nested = tmp_path / "tha.toml"
    nested.write_text(f"[beneficiary]\nversion = 2\n{NESTED}\n", encoding="utf-8")
    result = CliRunner().invoke(ctm, ["mappings", "validate", str(nested)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.strip() == f"{nested}:3: Tables and lists are nested more than 16 deep."


def test_the_command_line_refuses_control_characters_before_any_query(demo, database_url: str) -> None:  # noqa: ANN001
    before = snapshot(demo.engine)
    for args in (
        ["plugins", "disable", "ctm", "--mission", "TH\x00A"],
        ["users", "grant", "case\x00worker", "ctm.caseworker", "--mission", "MDA"],
        ["movements", "advance", "MOV-\x00", "BOOKED"],
        ["ctm", "sync", "status", "--mission", "THA\uffff"],
        ["ctm", "outbox", "retry", "--mission", "THA", "9" * 60],
    ):
        result = CliRunner().invoke(host_cli, ["--database", database_url, *args])
        assert result.exit_code == 2, (args, result.output)
        assert isinstance(result.exception, SystemExit), args
    refused = CliRunner().invoke(
        host_cli, ["--database", database_url, "api-users", "add", "ctm-x", "--mission", "THA", "--password", "a\x85b"]
    )
    assert refused.exit_code == 1 and "none of them control" in refused.output
    assert snapshot(demo.engine) == before
