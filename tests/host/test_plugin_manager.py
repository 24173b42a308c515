"""The host's plugin manager: which plugins load, which are refused and why, and who gets called.

The small classes below stand in for third-party plugins. They are registered with
``PluginHost.register`` (or installed as a real distribution on ``sys.path``) exactly as
an installed plugin would be, and they count the calls the host makes to them.
"""

from __future__ import annotations

import pytest

import ctm_plugin
import mimosa_host
from mimosa_host import enablement
from mimosa_host.context import build_context
from mimosa_host.db import transaction
from mimosa_host.models import Mission
from mimosa_host.plugin_api import MissionRef, PluginInfo, RequestContext, Tab, hookimpl
from mimosa_host.plugins import BLOCK_ENV, InstalledPlugin, PluginHost, Problem


class TabPlugin:
    """Stands in for a third-party plugin: it shows one tab on beneficiaries and counts the calls."""

    def __init__(self, name: str, requires_host: str = ">=1.0,<2", restricted: bool = False) -> None:
        self.name = name
        self.requires_host = requires_host
        self.restricted = restricted
        self.tab_calls: list[tuple[str, str, str]] = []

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", f"{self.name} title", "A test plugin.", self.requires_host, self.restricted)

    @hookimpl
    def mimosa_record_tabs(self, record_type: str, record_ref: str, ctx: RequestContext) -> list[Tab]:
        self.tab_calls.append((record_type, record_ref, ctx.mission.code))
        return [Tab(f"{self.name}.tab", f"Tab of {self.name}", f"/x/{self.name}/{record_ref}")]


class UnknownHookPlugin(TabPlugin):
    """Stands in for a third-party plugin written against a hook this host does not have."""

    @hookimpl
    def mimosa_frobnicate(self) -> None:
        raise AssertionError("an unknown hook must never be called")


class NoInfoPlugin:
    """Stands in for a third-party plugin that forgot ``mimosa_plugin_info``."""

    def __init__(self) -> None:
        self.tab_calls: list[tuple[str, str, str]] = []

    @hookimpl
    def mimosa_record_tabs(self, record_type: str, record_ref: str, ctx: RequestContext) -> list[Tab]:
        self.tab_calls.append((record_type, record_ref, ctx.mission.code))
        return []


class BadSignaturePlugin(TabPlugin):
    """Stands in for a third-party plugin whose hook asks for an argument the spec does not have."""

    @hookimpl
    def mimosa_menu_items(self, ctx: RequestContext, colour: str) -> list:
        raise AssertionError("never called")


def texts(entry: InstalledPlugin) -> list[str]:
    """The problems as the command line prints them (in English)."""
    return [str(problem) for problem in entry.problems]


def _ctx(code: str = "THA") -> RequestContext:
    return RequestContext(MissionRef(code, code, code), "en", frozenset(), session_factory=lambda: None)


def _tabs(host: PluginHost, names=None, code: str = "THA") -> dict[str, list[Tab]]:  # noqa: ANN001
    return dict(
        host.call_each("mimosa_record_tabs", names=names, record_type="beneficiary", record_ref="BEN-1", ctx=_ctx(code))
    )


# -- loading from entry points -----------------------------------------------------------


def test_entry_points_load_the_ctm_with_its_plugin_info() -> None:
    host = PluginHost()
    host.load_entry_points()

    ctm = host.installed["ctm"]
    assert ctm.compatible, ctm.problems
    assert ctm.info.name == "ctm"
    assert ctm.info.version == ctm_plugin.__version__
    assert ctm.info.requires_host == ">=1.4,<2"
    assert ctm.info.restricted is False
    assert ctm.info.title == "Counter-trafficking"
    assert "ctm" in host.active_names
    # Its hooks are live: the host sees the CTM's permissions and its database.
    permissions = dict(host.call_each("mimosa_permissions"))["ctm"]
    assert "ctm.case.view" in {p.name for p in permissions}
    assert host.call_one("ctm", "mimosa_database").version_table == "alembic_version_ctm"


def test_a_host_before_1_4_refuses_the_ctm_whose_matching_job_and_partner_service_it_would_not_serve() -> None:
    host = PluginHost(host_version="1.3.0")
    host.load_entry_points()
    assert texts(host.installed["ctm"]) == ["It requires host >=1.4,<2; this host is 1.3.0."]
    assert "ctm" not in host.active_names


def test_a_host_outside_the_ctms_range_refuses_it_and_never_calls_it() -> None:
    host = PluginHost(host_version="2.0.0")
    host.load_entry_points()

    ctm = host.installed["ctm"]
    assert not ctm.compatible
    assert texts(ctm) == ["It requires host >=1.4,<2; this host is 2.0.0."]
    assert "ctm" not in host.active_names
    assert dict(host.call_each("mimosa_permissions")) == {}
    assert host.call_one("ctm", "mimosa_database") is None


def test_blocked_plugin_is_not_loaded_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BLOCK_ENV, "someother, ctm")
    host = PluginHost()
    host.load_entry_points()

    assert "ctm" not in host.installed
    assert host.active_names == []
    assert host.pm.get_plugin("ctm") is None
    assert dict(host.call_each("mimosa_roles")) == {}
    with pytest.raises(ValueError, match="blocked"):
        host.register(TabPlugin("ctm"), "ctm")


def test_a_broken_installed_plugin_is_reported_and_the_others_still_load(install_plugin) -> None:  # noqa: ANN001
    install_plugin("aaa_import_error", "import a_module_that_is_not_installed\n")
    install_plugin(
        "aaa_bad_signature",
        """
        from mimosa_host.plugin_api import PluginInfo, hookimpl

        @hookimpl
        def mimosa_plugin_info():
            return PluginInfo("aaa_bad_signature", "0.1", "t", "d", ">=1.0,<2")

        @hookimpl
        def mimosa_record_tabs(record_type, colour):
            raise AssertionError("never called")
        """,
    )
    host = PluginHost()
    host.load_entry_points()

    assert host.installed["ctm"].compatible
    assert host.active_names == ["ctm"]
    assert "cannot be imported" in texts(host.installed["aaa_import_error"])[0]
    assert "a_module_that_is_not_installed" in texts(host.installed["aaa_import_error"])[0]
    assert "colour" in texts(host.installed["aaa_bad_signature"])[0]
    assert host.pm.get_plugin("aaa_bad_signature") is None


def test_an_installed_plugin_whose_name_differs_from_its_entry_point_is_refused(install_plugin) -> None:  # noqa: ANN001
    install_plugin(
        "hello",
        """
        from mimosa_host.plugin_api import PluginInfo, hookimpl

        @hookimpl
        def mimosa_plugin_info():
            return PluginInfo("goodbye", "0.1", "t", "d", ">=1.0,<2")
        """,
    )
    host = PluginHost()
    host.load_entry_points()

    assert texts(host.installed["hello"]) == ["Its entry point is named hello but the plugin calls itself goodbye."]
    assert host.active_names == ["ctm"]


# -- refusals ---------------------------------------------------------------------------


def test_plugin_outside_its_host_range_is_reported_and_its_hooks_never_called() -> None:
    host = PluginHost()
    plugin = TabPlugin("future", requires_host=">=2.0")
    entry = host.register(plugin, "future")

    assert not entry.compatible
    assert entry.info.requires_host == ">=2.0"
    assert texts(entry) == [f"It requires host >=2.0; this host is {mimosa_host.__version__}."]
    assert "future" not in host.active_names
    # Not even when a caller names it explicitly (as the web layer does with a mission's plugins).
    assert _tabs(host) == {}
    assert _tabs(host, names={"future"}) == {}
    assert host.call_one("future", "mimosa_record_tabs", record_type="beneficiary", record_ref="B", ctx=_ctx()) is None
    assert plugin.tab_calls == []


def test_plugin_with_an_invalid_host_range_is_refused() -> None:
    entry = PluginHost().register(TabPlugin("sloppy", requires_host="version one"), "sloppy")
    assert texts(entry) == ["Its host version range version one is not valid."]


def test_plugin_implementing_an_unknown_hook_is_refused_and_never_called() -> None:
    host = PluginHost()
    plugin = UnknownHookPlugin("strange")
    entry = host.register(plugin, "strange")

    assert texts(entry) == ["It implements unknown hooks: mimosa_frobnicate"]
    assert _tabs(host, names={"strange"}) == {}
    assert plugin.tab_calls == []


def test_plugin_without_plugin_info_is_refused_and_never_called() -> None:
    host = PluginHost()
    plugin = NoInfoPlugin()
    entry = host.register(plugin, "anonymous")

    assert entry.info is None
    assert texts(entry) == ["It has no mimosa_plugin_info hook."]
    assert _tabs(host, names={"anonymous"}) == {}
    assert plugin.tab_calls == []


def test_plugin_with_a_hook_signature_the_spec_lacks_is_refused_and_never_called() -> None:
    host = PluginHost()
    plugin = BadSignaturePlugin("twisted")
    entry = host.register(plugin, "twisted")

    assert not entry.compatible
    assert "colour" in texts(entry)[0]
    assert _tabs(host, names={"twisted"}) == {}
    assert plugin.tab_calls == []


def test_a_refused_plugin_does_not_stop_a_good_one() -> None:
    host = PluginHost()
    good, bad = TabPlugin("good"), UnknownHookPlugin("bad")
    host.register(bad, "bad")
    host.register(good, "good")

    assert host.active_names == ["good"]
    assert list(_tabs(host)) == ["good"]
    assert bad.tab_calls == []


# -- calling ----------------------------------------------------------------------------


def test_call_each_with_names_calls_only_the_named_plugins() -> None:
    host = PluginHost()
    alpha, beta = TabPlugin("alpha"), TabPlugin("beta")
    host.register(alpha, "alpha")
    host.register(beta, "beta")

    assert list(_tabs(host, names={"alpha"})) == ["alpha"]
    assert (len(alpha.tab_calls), len(beta.tab_calls)) == (1, 0)
    assert _tabs(host, names=set()) == {}
    assert _tabs(host, names={"not-installed"}) == {}
    assert (len(alpha.tab_calls), len(beta.tab_calls)) == (1, 0)
    # Without names, every active plugin.
    assert set(_tabs(host)) == {"alpha", "beta"}
    assert (len(alpha.tab_calls), len(beta.tab_calls)) == (2, 1)


def _add_missions(rt) -> None:  # noqa: ANN001
    with transaction(rt.factory) as s:
        for code, name in (("THA", "Thailand"), ("KHM", "Cambodia"), ("MDA", "Moldova")):
            s.add(Mission(code=code, name=name, country=code))


def _enable(rt, code: str, name: str) -> None:  # noqa: ANN001
    with transaction(rt.factory) as s:
        ctx, _ = build_context(s, rt.host, rt.factory, s.get(Mission, code), None, "en")
        enablement.enable(s, rt.host, code, name, {}, ctx)


def _tabs_in_mission(rt, code: str) -> dict[str, list[Tab]]:  # noqa: ANN001
    """What the web layer does for a record page: the mission's enabled plugins, then their tab hooks."""
    with rt.factory() as s:
        ctx, enabled = build_context(s, rt.host, rt.factory, s.get(Mission, code), None, "en")
    tabs: dict[str, list[Tab]] = {}
    for plugin, tab in rt.host.call_mission(
        "mimosa_record_tabs", enabled, record_type="beneficiary", record_ref="BEN-1", ctx=ctx
    ):
        tabs.setdefault(plugin, []).append(tab)
    return tabs


def test_record_tabs_reach_only_the_plugins_enabled_in_the_mission(rt) -> None:  # noqa: ANN001
    _add_missions(rt)
    alpha, beta = TabPlugin("alpha"), TabPlugin("beta")
    rt.host.register(alpha, "alpha")
    rt.host.register(beta, "beta")
    _enable(rt, "THA", "alpha")
    _enable(rt, "KHM", "beta")

    # The CTM is installed but enabled nowhere: it is never asked (outside a request its
    # tab hook could not even build its URL).
    assert list(_tabs_in_mission(rt, "THA")) == ["alpha"]
    assert list(_tabs_in_mission(rt, "KHM")) == ["beta"]
    assert _tabs_in_mission(rt, "MDA") == {}
    assert alpha.tab_calls == [("beneficiary", "BEN-1", "THA")]
    assert beta.tab_calls == [("beneficiary", "BEN-1", "KHM")]

    with transaction(rt.factory) as s:
        enablement.disable(s, rt.host, "THA", "alpha", _ctx("THA"))
    assert _tabs_in_mission(rt, "THA") == {}
    assert alpha.tab_calls == [("beneficiary", "BEN-1", "THA")]


def test_a_beneficiary_page_calls_tab_hooks_only_where_the_plugin_is_enabled(demo, login) -> None:  # noqa: ANN001
    counter = TabPlugin("counter")
    demo.host.register(counter, "counter")
    with transaction(demo.factory) as s:
        ctx, _ = build_context(s, demo.host, demo.factory, s.get(Mission, "THA"), None, "en")
        enablement.enable(s, demo.host, "THA", "counter", {}, ctx)
    browser = login("caseworker")

    tha = browser.get("/m/THA/beneficiaries/BEN-1000001")
    assert tha.status_code == 200
    assert counter.tab_calls == [("beneficiary", "BEN-1000001", "THA")]
    assert "Tab of counter" in tha.get_data(as_text=True)
    assert "/plugins/ctm/records/beneficiary/BEN-1000001/case" in tha.get_data(as_text=True)

    mda = browser.get("/m/MDA/beneficiaries/BEN-3000001")
    assert mda.status_code == 200
    assert counter.tab_calls == [("beneficiary", "BEN-1000001", "THA")]
    page = mda.get_data(as_text=True)
    assert "Tab of counter" not in page
    assert "/plugins/ctm/" not in page
    # A plugin's route is not served where the plugin is disabled.
    assert browser.get("/m/MDA/plugins/ctm/records/beneficiary/BEN-3000001/case").status_code == 404


def test_a_plugin_enabled_in_a_mission_but_refused_by_the_host_is_not_called_there(rt) -> None:  # noqa: ANN001
    _add_missions(rt)
    alpha = TabPlugin("alpha")
    rt.host.register(alpha, "alpha")
    _enable(rt, "THA", "alpha")

    upgraded = PluginHost(host_version="2.0.0")  # the same plugin after a host upgrade it does not support
    upgraded.register(alpha, "alpha")
    with rt.factory() as s:
        assert enablement.enabled_plugins(s, "THA") == {"alpha"}  # the mission's choice is kept ...
        ctx, enabled = build_context(s, upgraded, rt.factory, s.get(Mission, "THA"), None, "en")
    assert enabled == set()  # ... but a refused plugin gets no dispatch
    tabs = upgraded.call_mission("mimosa_record_tabs", {"alpha"}, record_type="beneficiary", record_ref="B", ctx=ctx)
    assert tabs == []
    assert alpha.tab_calls == []


def test_plugin_whose_info_hook_fails_is_refused_and_the_host_keeps_running() -> None:
    class Broken:  # stands in for a third-party plugin with a bug in its info hook
        @hookimpl
        def mimosa_plugin_info(self) -> PluginInfo:
            raise RuntimeError("boom")

    class Liar:  # stands in for a third-party plugin returning the wrong type
        @hookimpl
        def mimosa_plugin_info(self) -> dict:
            return {"name": "liar"}

    host = PluginHost()
    assert "boom" in texts(host.register(Broken(), "broken"))[0]
    assert texts(host.register(Liar(), "liar")) == ["Its mimosa_plugin_info hook did not return a PluginInfo."]
    assert host.active_names == []


def test_call_one_does_not_call_a_plugin_the_host_has_refused_since_loading() -> None:
    host = PluginHost()
    alpha = TabPlugin("alpha")
    host.register(alpha, "alpha")
    assert host.call_one("alpha", "mimosa_record_tabs", record_type="beneficiary", record_ref="B", ctx=_ctx())
    assert len(alpha.tab_calls) == 1

    # A problem found after loading (the web shell refuses its blueprints, say) makes it inactive.
    host.installed["alpha"].problems.append(Problem("Found unfit."))
    assert host.call_one("alpha", "mimosa_record_tabs", record_type="beneficiary", record_ref="B", ctx=_ctx()) is None
    assert host.call_one("alpha", "mimosa_plugin_info") is None
    assert _tabs(host) == {}
    assert len(alpha.tab_calls) == 1


def test_refusing_a_loaded_plugin_reports_it_and_stops_calling_it() -> None:
    host = PluginHost()
    alpha = TabPlugin("alpha")
    host.register(alpha, "alpha")

    host.refuse("alpha", Problem("Its blueprint %(blueprint)s has a name already in use.", {"blueprint": "auth"}))

    assert texts(host.installed["alpha"]) == ["Its blueprint auth has a name already in use."]
    assert host.active_names == []
    assert host.call_one("alpha", "mimosa_record_tabs", record_type="beneficiary", record_ref="B", ctx=_ctx()) is None
    assert _tabs(host, names={"alpha"}) == {}
    assert alpha.tab_calls == []
