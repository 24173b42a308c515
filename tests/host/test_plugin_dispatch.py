"""pluggy's own dispatch per mission: firstresult, tryfirst/trylast, wrappers, tracing, warn_on_impl.

Each behaviour is shown with two small plugins registered on a host as an installed plugin
would be. ``call_mission`` is what the web layer calls for a record page's tabs and the menu
(with the plugins enabled in the request's mission); ``hook`` is the pluggy hook caller behind it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from mimosa_host import enablement
from mimosa_host.context import build_context
from mimosa_host.db import transaction
from mimosa_host.models import Mission
from mimosa_host.plugin_api import (
    MissionRef,
    PluginInfo,
    RequestContext,
    Tab,
    Translations,
    hookimpl,
    hookspec,
)
from mimosa_host.plugins import PluginHost

TAB_ARGS = {"record_type": "beneficiary", "record_ref": "BEN-1"}


def _ctx() -> RequestContext:
    return RequestContext(MissionRef("THA", "Thailand", "THA"), "en", frozenset(), session_factory=lambda: None)


class Small:
    """Stands in for a third-party plugin: a tab and a translation domain, counting its calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[str] = []

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", self.name, "A test plugin.", ">=1.0,<2")

    @hookimpl
    def mimosa_record_tabs(self, record_ref: str) -> list[Tab]:
        self.calls.append("tabs")
        return [Tab(f"{self.name}.tab", f"Tab of {self.name}", f"/x/{self.name}/{record_ref}")]

    @hookimpl
    def mimosa_translations(self) -> Translations | None:
        self.calls.append("translations")
        return Translations(self.name, f"/catalogs/{self.name}")


def _host(*plugins: Small) -> PluginHost:
    host = PluginHost()
    for plugin in plugins:
        assert host.register(plugin, plugin.name).compatible
    return host


def _tab_owners(host: PluginHost, enabled: set[str]) -> list[tuple[str | None, str]]:
    return [(owner, tab.id) for owner, tab in host.call_mission("mimosa_record_tabs", enabled, ctx=_ctx(), **TAB_ARGS)]


# -- firstresult ---------------------------------------------------------------------------


def test_a_firstresult_hook_stops_at_the_first_plugin_that_answers() -> None:
    alpha, beta = Small("alpha"), Small("beta")
    host = _host(alpha, beta)

    answer = host.hook("mimosa_translations", {"alpha", "beta"})()

    assert answer == Translations("beta", "/catalogs/beta")  # one answer, not a list: the last registered
    assert (alpha.calls, beta.calls) == ([], ["translations"])  # alpha was never asked


def test_a_firstresult_hook_passes_on_when_a_plugin_answers_none() -> None:
    class Silent(Small):
        @hookimpl
        def mimosa_translations(self) -> None:
            self.calls.append("translations")

    alpha, beta = Small("alpha"), Silent("beta")
    host = _host(alpha, beta)

    assert host.hook("mimosa_translations", {"alpha", "beta"})() == Translations("alpha", "/catalogs/alpha")
    assert (alpha.calls, beta.calls) == (["translations"], ["translations"])


# -- tryfirst / trylast ----------------------------------------------------------------------


def test_tryfirst_puts_a_plugin_first_whatever_the_registration_order() -> None:
    class Eager(Small):
        @hookimpl(tryfirst=True)
        def mimosa_record_tabs(self, record_ref: str) -> list[Tab]:
            return super().mimosa_record_tabs(record_ref)

        @hookimpl(tryfirst=True)
        def mimosa_translations(self) -> Translations | None:
            return super().mimosa_translations()

    eager, late = Eager("eager"), Small("late")
    host = _host(eager, late)  # without tryfirst, the last registered (late) comes first

    assert _tab_owners(host, {"eager", "late"}) == [("eager", "eager.tab"), ("late", "late.tab")]
    assert host.hook("mimosa_translations", {"eager", "late"})().domain == "eager"
    assert late.calls == ["tabs"]


def test_trylast_puts_a_plugin_last_whatever_the_registration_order() -> None:
    class Patient(Small):
        @hookimpl(trylast=True)
        def mimosa_record_tabs(self, record_ref: str) -> list[Tab]:
            return super().mimosa_record_tabs(record_ref)

    first, patient = Small("first"), Patient("patient")
    host = _host(first, patient)  # without trylast, the last registered (patient) comes first

    assert _tab_owners(host, {"first", "patient"}) == [("first", "first.tab"), ("patient", "patient.tab")]
    # Plain LIFO order between two ordinary plugins, for comparison.
    assert _tab_owners(_host(Small("a"), Small("b")), {"a", "b"}) == [("b", "b.tab"), ("a", "a.tab")]


# -- hook wrappers ---------------------------------------------------------------------------


class Curator(Small):
    """A plugin whose new-style wrapper hides the other plugins' tabs named ``*.hidden`` and puts its own last."""

    @hookimpl(wrapper=True)
    def mimosa_record_tabs(self, record_ref: str) -> Iterator[None]:
        self.calls.append("wrapper")
        results = yield
        kept = [[tab for tab in tabs if not tab.id.endswith(".hidden")] for tabs in results]
        return [*kept, [Tab("curator.note", "Made by the wrapper", f"/x/curator/{record_ref}")]]


class Chatty(Small):
    @hookimpl
    def mimosa_record_tabs(self, record_ref: str) -> list[Tab]:
        return [*super().mimosa_record_tabs(record_ref), Tab("chatty.hidden", "Hidden", "/x/chatty/hidden")]


def test_a_hook_wrapper_sees_and_changes_the_results_of_the_plugins_enabled_in_the_mission() -> None:
    curator, chatty = Curator("curator"), Chatty("chatty")
    host = _host(curator, chatty)

    # The items the plugins returned keep their plugin (for their labels' catalog), filtered or
    # not; the item the wrapper made itself has none.
    assert _tab_owners(host, {"curator", "chatty"}) == [("chatty", "chatty.tab"), (None, "curator.note")]
    assert curator.calls == ["wrapper"]


def test_a_hook_wrapper_of_a_plugin_disabled_in_the_mission_does_not_run() -> None:
    curator, chatty = Curator("curator"), Chatty("chatty")
    host = _host(curator, chatty)

    assert _tab_owners(host, {"chatty"}) == [("chatty", "chatty.tab"), ("chatty", "chatty.hidden")]
    assert curator.calls == []


# -- tracing and call monitoring ----------------------------------------------------------------


def test_call_monitoring_sees_the_per_mission_call_with_only_the_enabled_plugins() -> None:
    alpha, beta = Small("alpha"), Small("beta")
    host = _host(alpha, beta)
    seen: list[tuple[str, list[str]]] = []
    undo = host.pm.add_hookcall_monitoring(
        lambda hook_name, impls, _kwargs: seen.append((hook_name, [impl.plugin_name for impl in impls])),
        lambda outcome, hook_name, _impls, _kwargs: seen.append(
            (hook_name, [tab.id for tab in outcome.get_result()[0]])
        ),
    )
    try:
        host.call_mission("mimosa_record_tabs", {"beta"}, ctx=_ctx(), **TAB_ARGS)
    finally:
        undo()

    assert seen == [("mimosa_record_tabs", ["beta"]), ("mimosa_record_tabs", ["beta.tab"])]
    assert alpha.calls == []


def test_pluggy_tracing_writes_each_call_the_host_makes() -> None:
    alpha, beta = Small("alpha"), Small("beta")
    host = _host(alpha, beta)
    lines: list[str] = []
    host.pm.trace.root.setwriter(lines.append)
    undo = host.pm.enable_tracing()
    try:
        host.call_mission("mimosa_record_tabs", {"alpha", "beta"}, ctx=_ctx(), **TAB_ARGS)
        host.call_one("alpha", "mimosa_translations")
    finally:
        undo()

    trace = "".join(lines)
    assert "mimosa_record_tabs" in trace and "BEN-1" in trace
    assert "finish mimosa_translations" in trace and "/catalogs/alpha" in trace


# -- warn_on_impl --------------------------------------------------------------------------------


class RetiringSpecs:
    """A hook the host is retiring, marked as pluggy marks one."""

    @hookspec(warn_on_impl=DeprecationWarning("mimosa_old_tabs is retired: implement mimosa_record_tabs"))
    def mimosa_old_tabs(self, record_ref: str) -> list[Tab]:
        """Tabs, the old way."""


class OldStyle(Small):
    @hookimpl
    def mimosa_old_tabs(self, record_ref: str) -> list[Tab]:
        return []


def test_registering_a_plugin_that_implements_a_retired_hook_warns_and_the_others_do_not() -> None:
    host = PluginHost()
    host.pm.add_hookspecs(RetiringSpecs)

    with pytest.warns(DeprecationWarning, match="mimosa_old_tabs is retired") as caught:
        assert host.register(OldStyle("old"), "old").compatible
    assert {w.filename for w in caught} == {__file__}  # pluggy points the warning at the plugin's function
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert host.register(Small("new"), "new").compatible


# -- per-mission: a plugin disabled in the mission takes no part ----------------------------------


def test_a_plugin_disabled_in_the_mission_is_not_called_and_a_later_registration_does_not_slip_in() -> None:
    alpha, beta = Small("alpha"), Small("beta")
    host = _host(alpha, beta)

    assert _tab_owners(host, {"alpha"}) == [("alpha", "alpha.tab")]
    assert _tab_owners(host, set()) == []
    assert beta.calls == []

    # A plugin registered after the mission's caller was cached is not enabled there either.
    gamma = Small("gamma")
    host.register(gamma, "gamma")
    assert _tab_owners(host, {"alpha"}) == [("alpha", "alpha.tab")]
    assert gamma.calls == []


def test_the_record_page_calls_only_the_plugins_enabled_in_its_mission(demo, login) -> None:  # noqa: ANN001
    curator, chatty = Curator("curator"), Chatty("chatty")
    for plugin in (curator, chatty):
        demo.host.register(plugin, plugin.name)
    with transaction(demo.factory) as s:
        ctx, _ = build_context(s, demo.host, demo.factory, s.get(Mission, "THA"), None, "en")
        enablement.enable(s, demo.host, "THA", "chatty", {}, ctx)
        enablement.enable(s, demo.host, "THA", "curator", {}, ctx)
        enablement.enable(s, demo.host, "KHM", "chatty", {}, ctx)
    browser = login("caseworker")

    tha = browser.get("/m/THA/beneficiaries/BEN-1000001").get_data(as_text=True)
    assert "Tab of chatty" in tha and "Made by the wrapper" in tha
    assert 'data-tab="chatty.hidden"' not in tha  # the curator's wrapper hid it
    assert "/plugins/ctm/records/beneficiary/BEN-1000001/case" in tha  # the CTM's tabs pass through it

    khm = browser.get("/m/KHM/beneficiaries/BEN-2000001").get_data(as_text=True)
    assert 'data-tab="chatty.hidden"' in khm and "Made by the wrapper" not in khm
    assert curator.calls == ["wrapper"]
