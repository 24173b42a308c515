"""Plugins' machine routes (``mimosa_machine_routes``, host 1.4.0): served at ``/machine/<plugin><path>`` with no
session, cookie or CSRF token; the body limited before any plugin code runs; the plugin's ``authenticate`` names the
mission, which must be one where the plugin is enabled; the handler acts for the plugin there, with no user."""

from __future__ import annotations

import logging

import pytest

from mimosa_host import enablement
from mimosa_host.context import system_context
from mimosa_host.db import transaction
from mimosa_host.models import Mission
from mimosa_host.plugin_api import (
    MachinePrincipal,
    MachineRequest,
    MachineResponse,
    MachineRoute,
    PluginInfo,
    RequestContext,
    hookimpl,
)
from mimosa_host.web import create_app

CANARY = "Jane Roe canary-5d1e"


class EchoPlugin:
    """A plugin with one machine route: ``X-Mission`` names the principal's mission, ``X-Refuse`` refuses."""

    name = "echo"

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", "Echo", "A test plugin.", ">=1.4,<2")

    @hookimpl
    def mimosa_machine_routes(self) -> list[MachineRoute]:
        return [
            MachineRoute("/echo", ("POST",), 64, self.authenticate, self.handle, self.refuse),
            MachineRoute("../escape", ("POST",), 64, self.authenticate, self.handle),  # refused: not a path
        ]

    def authenticate(self, ctx: RequestContext, request: MachineRequest) -> MachinePrincipal | MachineResponse:
        self.seen.append(("authenticate", (ctx.mission.code, ctx.user, sorted(m.code for m in ctx.plugin_missions))))
        if "X-Refuse" in request.headers:
            return MachineResponse(b"refused by the plugin", 401, "text/plain")
        return MachinePrincipal(request.headers.get("X-Mission", "THA"), "partner-1")

    def handle(self, ctx: RequestContext, request: MachineRequest, principal: MachinePrincipal) -> MachineResponse:
        self.seen.append(("handle", (ctx.mission.code, ctx.user, principal.name, request.body)))
        if request.body == b"fail":
            raise RuntimeError(CANARY)
        return MachineResponse(b"echo:" + request.body, 200, "text/plain")

    def refuse(self, status: int, reason: str) -> MachineResponse:
        return MachineResponse(f"refused {status}: {reason}".encode(), status, "text/plain")


@pytest.fixture
def echo(demo):  # noqa: ANN001, ANN201
    plugin = EchoPlugin()
    demo.host.register(plugin, plugin.name)
    with transaction(demo.factory) as s:
        for code in ("THA", "KHM"):
            ctx = system_context(s, demo.host, demo.factory, s.get(Mission, code))
            enablement.enable(s, demo.host, code, plugin.name, {}, ctx)
    return plugin, create_app(demo, {"TESTING": True}).test_client()


def test_a_machine_request_is_authenticated_then_handled_in_the_principals_mission_with_no_session(echo) -> None:  # noqa: ANN001
    plugin, client = echo
    answer = client.post("/machine/echo/echo", data=b"hello", headers={"X-Mission": "KHM"})
    assert (answer.status_code, answer.data) == (200, b"echo:hello")
    assert "Set-Cookie" not in answer.headers and answer.headers["Cache-Control"] == "no-store"
    assert plugin.seen == [
        ("authenticate", ("", None, ["KHM", "THA"])),  # the plugin-wide context: no mission, no user
        ("handle", ("KHM", None, "partner-1", b"hello")),
    ]


def test_the_body_over_the_limit_is_refused_before_any_plugin_code_runs(echo) -> None:  # noqa: ANN001
    plugin, client = echo
    declared = client.post("/machine/echo/echo", data=b"x" * 65)
    assert (declared.status_code, declared.data) == (413, b"refused 413: The request is larger than 64 bytes")
    compressed = client.post("/machine/echo/echo", data=b"x", headers={"Content-Encoding": "gzip"})
    assert compressed.status_code == 400
    assert plugin.seen == []


def test_the_plugins_refusal_stops_the_request_and_a_mission_where_it_is_off_is_refused(echo) -> None:  # noqa: ANN001
    plugin, client = echo
    refused = client.post("/machine/echo/echo", data=b"x", headers={"X-Refuse": "1"})
    assert (refused.status_code, refused.data) == (401, b"refused by the plugin")
    elsewhere = client.post("/machine/echo/echo", data=b"x", headers={"X-Mission": "MDA"})
    assert elsewhere.status_code == 403
    assert [step for step, _ in plugin.seen] == ["authenticate", "authenticate"]


def test_unknown_routes_and_methods_and_a_failure_answer_without_the_plugins_text(echo, caplog) -> None:  # noqa: ANN001
    _plugin, client = echo
    assert client.post("/machine/echo/other", data=b"x").status_code == 404
    assert client.post("/machine/echo/../escape", data=b"x").status_code == 404
    assert client.post("/machine/nobody/echo", data=b"x").status_code == 404
    assert client.get("/machine/echo/echo").status_code == 405
    with caplog.at_level(logging.ERROR):
        failed = client.post("/machine/echo/echo", data=b"fail")
    assert (failed.status_code, failed.data) == (500, b"refused 500: The request could not be processed")
    assert "RuntimeError" in caplog.text and CANARY not in caplog.text
