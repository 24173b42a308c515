"""Plugins' machine routes (:func:`~mimosa_host.plugin_api.mimosa_machine_routes`): a WSGI application the web
shell mounts at ``/machine``, beside ``/soap``, before Flask sees the request.

``POST /machine/<plugin name><path>``: no session is read, no cookie set, no CSRF token asked for; each request
authenticates itself to the plugin. In order: the route (404, 405), the size and encoding refusals (before any
plugin code reads a byte), the plugin's ``authenticate`` in its plugin-wide context, the principal's mission
(the plugin enabled there, else 403), then the plugin's ``handler`` acting for the plugin in that mission. A
failure is logged by its type and frames, never its message, and answered by the route's ``refuse(500, ...)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from ..context import acting_for, acting_for_plugin
from ..logs import exception_summary
from ..plugin_api import MachinePrincipal, MachineRequest, MachineResponse, MachineRoute
from ..runtime import Runtime

log = logging.getLogger(__name__)

HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
ROUTE_PATH = re.compile(r"\A(?:/[A-Za-z0-9._-]+)+\Z")


def _plain(status: int, reason: str) -> MachineResponse:
    return MachineResponse(f"{reason}\n".encode(), status, "text/plain; charset=utf-8")


def _response(answer: MachineResponse, extra: dict[str, str] | None = None) -> Response:
    return Response(answer.body, answer.status, headers={**HEADERS, **(extra or {})}, content_type=answer.content_type)


class MachineApp:
    """Every active plugin's machine routes, by plugin name and path, read once when the app is made."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.routes: dict[tuple[str, str], MachineRoute] = {}
        for plugin, routes in rt.host.call_each("mimosa_machine_routes"):
            for route in routes or ():
                if not ROUTE_PATH.match(route.path) or route.max_bytes <= 0:
                    log.warning("plugin %s: machine route %r refused (its path or size)", plugin, route.path)
                    continue
                self.routes[(plugin, route.path)] = route

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.route(Request(environ))(environ, start_response)

    def route(self, request: Request) -> Response:
        plugin, _, rest = request.path.lstrip("/").partition("/")
        route = self.routes.get((plugin, "/" + rest))
        if route is None:
            return _response(_plain(404, "Not found"))
        if request.method not in route.methods:
            return _response(_plain(405, "Method not allowed"), {"Allow": ", ".join(route.methods)})
        refuse = route.refuse or _plain
        body = _read(request, route.max_bytes)
        if isinstance(body, tuple):
            return _response(refuse(*body))
        asked = MachineRequest(request.method, route.path, dict(request.headers), body, request.remote_addr)
        try:
            return _response(self._serve(plugin, route, asked, refuse))
        except Exception as exc:  # noqa: BLE001 - answered by the route's refusal, logged without its text
            log.error("machine route %s %s failed: %s", plugin, route.path, exception_summary(exc))
            return _response(refuse(500, "The request could not be processed"))

    def _serve(
        self, plugin: str, route: MachineRoute, asked: MachineRequest, refuse: Callable[[int, str], MachineResponse]
    ) -> MachineResponse:
        with acting_for_plugin(self.rt, plugin) as everywhere:
            principal = route.authenticate(everywhere, asked)
            enabled = {m.code for m in everywhere.plugin_missions}
        if not isinstance(principal, MachinePrincipal):
            return principal
        if principal.mission_code not in enabled:
            return refuse(403, "The plugin is not enabled in the principal's mission")
        with acting_for(self.rt, plugin, principal.mission_code) as ctx:
            return route.handler(ctx, asked, principal)


def _read(request: Request, max_bytes: int) -> bytes | tuple[int, str]:
    """The body, or (status, reason) refusing it: compressed, or larger than ``max_bytes`` (said or read)."""
    if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        return 400, "Content-Encoding not allowed"
    too_large = (413, f"The request is larger than {max_bytes} bytes")
    if (request.content_length or 0) > max_bytes:
        return too_large
    data = request.stream.read(max_bytes + 1)
    return too_large if len(data) > max_bytes else data
