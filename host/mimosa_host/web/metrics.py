"""``GET /metrics``: the plugins' metrics in Prometheus' text format, for a monitoring system to scrape.

The host asks each plugin's :func:`~mimosa_host.plugin_api.mimosa_metrics` once per mission where it is
enabled (acting for the mission as for a job) and renders what they return with ``prometheus_client``,
each sample labelled with its mission's code; ``mimosa_plugin_metrics_up{plugin, mission}`` says whether
that call worked (0: it failed, logged by the exception's type).

Not public. Without ``MIMOSA_METRICS_TOKEN``, only a client on this machine (loopback) may read it, and a
request that came through a proxy the host does not trust (``X-Forwarded-For`` while ``MIMOSA_TRUSTED_PROXIES``
is 0) is refused, whatever its socket's address: the proxy's own loopback address says nothing of its client.
With the token set, the request must carry ``Authorization: Bearer <token>``, from wherever it comes.
Refused: 403, and nothing read.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import re
from collections.abc import Iterator
from typing import Any

import flask
from flask import Blueprint, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .. import plugin_api
from ..context import acting_for
from ..enablement import enabled_missions
from ..logs import exception_summary

log = logging.getLogger(__name__)

TOKEN_ENV = "MIMOSA_METRICS_TOKEN"  # noqa: S105 - the setting's name
NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

bp = Blueprint("metrics", __name__)


def allowed(token: str) -> bool:
    """May this request read the metrics? (See the module's docstring.)"""
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if not int(flask.current_app.config["TRUSTED_PROXIES"]) and (
        "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
    ):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> flask.Response:
    if not allowed(str(flask.current_app.config.get("METRICS_TOKEN") or "")):
        flask.abort(403)
    from . import runtime

    registry = CollectorRegistry(auto_describe=False)
    registry.register(PluginMetrics(runtime()))
    return flask.Response(generate_latest(registry), mimetype=None, content_type=CONTENT_TYPE_LATEST)


class PluginMetrics:
    """A ``prometheus_client`` collector over the plugins' :func:`mimosa_metrics`, made for one scrape."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        up = GaugeMetricFamily(
            "mimosa_plugin_metrics_up",
            "1 when the plugin's metrics of the mission were read, 0 when reading them failed.",
            labels=["plugin", "mission"],
        )
        for plugin in self.rt.host.active_names:
            if not any(impl.plugin_name == plugin for impl in self.rt.host.pm.hook.mimosa_metrics.get_hookimpls()):
                continue
            with self.rt.factory() as s:
                missions = enabled_missions(s, plugin)
            for code in missions:
                try:
                    reported = self._ask(plugin, code)
                except Exception as exc:  # noqa: BLE001 - one plugin's failure must not hide the other figures
                    log.error("metrics of plugin %s in mission %s failed: %s", plugin, code, exception_summary(exc))
                    up.add_metric([plugin, code], 0)
                    continue
                up.add_metric([plugin, code], 1)
                for metric in reported or ():
                    self._add(families, plugin, code, metric)
        yield up
        yield from families.values()

    def _ask(self, plugin: str, code: str) -> Any:
        with acting_for(self.rt, plugin, code) as ctx:
            return self.rt.host.call_one(plugin, "mimosa_metrics", ctx=ctx)

    @staticmethod
    def _add(families: dict[str, Metric], plugin: str, code: str, metric: plugin_api.Metric) -> None:
        if (
            not isinstance(metric, plugin_api.Metric)
            or not metric.name.startswith(f"{plugin}_")
            or not NAME.match(metric.name)
            or metric.type not in plugin_api.METRIC_TYPES
        ):
            log.warning("plugin %s reported a metric the host cannot show: dropped", plugin)
            return
        for labels, value in metric.samples:
            names = ("mission", *sorted(labels))
            family = families.get(metric.name)
            if family is None:
                kind = GaugeMetricFamily if metric.type == "gauge" else CounterMetricFamily
                family = families[metric.name] = kind(metric.name, metric.help, labels=names)
            if "mission" in labels or tuple(family._labelnames) != names:  # type: ignore[attr-defined]
                log.warning("plugin %s reported metric %s with other labels: sample dropped", plugin, metric.name)
                continue
            family.add_metric([code, *(str(labels[name]) for name in names[1:])], float(value))  # type: ignore[attr-defined]


def configure(app: flask.Flask) -> None:
    app.config.setdefault("METRICS_TOKEN", os.environ.get(TOKEN_ENV, ""))
    app.register_blueprint(bp)
