"""Loading plugins, checking they fit this host, and calling them per mission.

Plugins come from the ``mimosa.plugins`` entry points. ``MIMOSA_BLOCKED_PLUGINS``
(comma-separated names) keeps named plugins from loading at all. A plugin that
declares a host range this host is outside of, that lacks ``mimosa_plugin_info``,
or that implements hooks the host does not know, is reported and never called.
"""

from __future__ import annotations

import contextvars
import functools
import importlib.metadata
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from . import __version__, plugin_api
from .i18n import N_

log = logging.getLogger(__name__)

BLOCK_ENV = "MIMOSA_BLOCKED_PLUGINS"


@dataclass(frozen=True)
class Problem:
    """Why a plugin cannot be used: a host msgid with its parameters, translated where shown."""

    message: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message % self.params


@dataclass
class InstalledPlugin:
    """A plugin the host found, with the reasons it cannot be used, if any."""

    name: str
    info: plugin_api.PluginInfo | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not self.problems


class PluginHost:
    """The host's plugin manager: a pluggy manager plus the host's view of each plugin."""

    def __init__(self, host_version: str = __version__) -> None:
        self.host_version = Version(host_version)
        self.pm = pluggy.PluginManager(plugin_api.PROJECT)
        self.pm.add_hookspecs(plugin_api)
        self.installed: dict[str, InstalledPlugin] = {}
        self._callers: dict[tuple[str, frozenset[str]], pluggy.HookCaller] = {}
        for name in filter(None, (n.strip() for n in os.environ.get(BLOCK_ENV, "").split(","))):
            self.pm.set_blocked(name)

    # -- loading ---------------------------------------------------------------------

    def load_entry_points(self) -> None:
        """Load every plugin of the entry-point group; one that fails to import is reported, not fatal."""
        for ep in importlib.metadata.entry_points(group=plugin_api.ENTRY_POINT_GROUP):
            if self.pm.has_plugin(ep.name) or self.pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not keep the host or other plugins down
                problem = Problem(N_("The plugin cannot be imported: %(error)s"), {"error": repr(exc)})
                self.installed[ep.name] = InstalledPlugin(ep.name, None, [problem])
                log.warning("plugin %s refused: %s", ep.name, problem)
                continue
            self.register(plugin, ep.name)

    def register(self, plugin: object, name: str) -> InstalledPlugin:
        """Register an in-process plugin (tests, built-ins) through the same checks as entry points."""
        if self.pm.is_blocked(name):
            raise ValueError(f"plugin {name!r} is blocked by {BLOCK_ENV}")
        self._callers.clear()
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            problem = Problem(
                N_("A hook implementation does not fit its specification: %(error)s"), {"error": str(exc)}
            )
            self.installed[name] = InstalledPlugin(name, None, [problem])
            log.warning("plugin %s refused: %s", name, problem)
            return self.installed[name]
        return self._admit(name, plugin)

    def refuse(self, name: str, problem: Problem) -> None:
        """Refuse a loaded plugin found unfit later (e.g. by the web shell): reported, and never called again."""
        self.installed[name].problems.append(problem)
        log.warning("plugin %s refused: %s", name, problem)
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self._callers.clear()

    def _admit(self, name: str, plugin: object) -> InstalledPlugin:
        problems: list[Problem] = []
        unknown = [caller.name for caller in self.pm.get_hookcallers(plugin) or () if caller.spec is None]
        if unknown:
            problems.append(
                Problem(N_("It implements unknown hooks: %(hooks)s"), {"hooks": ", ".join(sorted(unknown))})
            )
        info = self._info(name, problems)
        if info is not None:
            if info.name != name:
                problems.append(
                    Problem(
                        N_("Its entry point is named %(entry)s but the plugin calls itself %(name)s."),
                        {"entry": name, "name": info.name},
                    )
                )
            try:
                spec = SpecifierSet(info.requires_host)
            except InvalidSpecifier:
                problems.append(
                    Problem(N_("Its host version range %(range)s is not valid."), {"range": info.requires_host})
                )
            else:
                if not spec.contains(self.host_version, prereleases=True):
                    problems.append(
                        Problem(
                            N_("It requires host %(range)s; this host is %(version)s."),
                            {"range": info.requires_host, "version": str(self.host_version)},
                        )
                    )
        entry = InstalledPlugin(name, info, problems)
        self.installed[name] = entry
        if problems:
            log.warning("plugin %s refused: %s", name, " ".join(map(str, problems)))
            self.pm.unregister(name=name)
        else:
            for caller in self.pm.get_hookcallers(plugin) or ():
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and not (impl.wrapper or impl.hookwrapper):
                        # pluggy calls ``impl.function``; noting what it returns is how a result
                        # of a per-mission call keeps the plugin it came from.
                        impl.function = _attributed(impl.function, name)  # type: ignore[misc]
        self._callers.clear()
        return entry

    def _info(self, name: str, problems: list[Problem]) -> plugin_api.PluginInfo | None:
        if self._impl(name, "mimosa_plugin_info") is None:
            problems.append(Problem(N_("It has no mimosa_plugin_info hook.")))
            return None
        try:
            info = self._subset("mimosa_plugin_info", {name})()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not keep the host down
            problems.append(Problem(N_("Its mimosa_plugin_info hook failed: %(error)s"), {"error": repr(exc)}))
            return None
        if not isinstance(info, plugin_api.PluginInfo):
            problems.append(Problem(N_("Its mimosa_plugin_info hook did not return a PluginInfo.")))
            return None
        return info

    # -- calling ---------------------------------------------------------------------
    #
    # Every call goes through pluggy: a per-mission call is one pluggy call in which the plugins
    # not enabled in the mission take no part (``PluginManager.subset_hook_caller``), so
    # ``firstresult``, ``tryfirst``/``trylast``, hook wrappers, tracing and call monitoring behave
    # as pluggy documents them. A per-plugin call is the same with only that plugin taking part.

    @property
    def active_names(self) -> list[str]:
        return sorted(name for name, entry in self.installed.items() if entry.compatible)

    def _impl(self, plugin_name: str, hook_name: str) -> pluggy.HookImpl | None:
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name == plugin_name:
                return impl
        return None

    def _subset(self, hook_name: str, taking_part: AbstractSet[str]) -> pluggy.HookCaller:
        removed = [plugin for name, plugin in self.pm.list_name_plugin() if name not in taking_part]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=removed)

    def hook(self, hook_name: str, plugins: Iterable[str]) -> pluggy.HookCaller:
        """``hook_name`` as pluggy calls it with only ``plugins`` (those of them that are active) taking part.

        Cached per set of plugins (a mission's enabled set, typically); registering or
        refusing a plugin empties the cache, since the callers list the plugins they leave out.
        """
        key = (hook_name, frozenset(plugins).intersection(self.active_names))
        caller = self._callers.get(key)
        if caller is None:
            caller = self._callers[key] = self._subset(hook_name, key[1])
        return caller

    def call_mission(self, hook_name: str, enabled: Iterable[str], **kwargs: Any) -> list[tuple[str | None, Any]]:
        """Call a per-mission hook returning sequences (tabs, menu items) once, through pluggy, with the
        plugins ``enabled`` in the mission: every item of the results, in pluggy's order.

        Each item comes with the plugin whose implementation returned it (the host translates its
        labels with that plugin's catalog), also after a hook wrapper filtered or reordered the
        results; an item a wrapper made itself comes with ``None``.
        """
        caller = self.hook(hook_name, enabled)
        produced: dict[int, tuple[str, object]] = {}
        token = _produced.set(produced)
        try:
            outcome = caller(**kwargs)
        finally:
            _produced.reset(token)
        results = [outcome] if _firstresult(caller) else outcome
        return [(produced.get(id(item), (None,))[0], item) for result in results for item in result or ()]

    def call_one(self, plugin_name: str, hook_name: str, **kwargs: Any) -> Any:
        """The plugin's answer to a hook, called through pluggy with no other plugin taking part.

        ``None`` when the plugin is not active or answers nothing; of a plugin with several
        implementations of a hook that is not ``firstresult``, the first answer in pluggy's order.
        """
        if plugin_name not in self.active_names:
            return None
        caller = self.hook(hook_name, {plugin_name})
        outcome = caller(**kwargs)
        return outcome if _firstresult(caller) else next(iter(outcome), None)

    def call_each(self, hook_name: str, names: Iterable[str] | None = None, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """(plugin name, result) for each active plugin (or each of ``names``) implementing the hook, asked on its own.

        For the hooks the host asks every plugin about its own things (permissions, roles,
        blueprints, jobs, commands, its database): plugins come in pluggy's calling order, and
        each plugin's call is a pluggy call in which no other plugin takes part.
        """
        wanted = set(self.active_names if names is None else names).intersection(self.active_names)
        caller = getattr(self.pm.hook, hook_name)
        in_order = dict.fromkeys(
            impl.plugin_name
            for impl in reversed(caller.get_hookimpls())
            if impl.plugin_name in wanted and not (impl.wrapper or impl.hookwrapper)
        )
        for name in in_order:
            outcome = self.hook(hook_name, {name})(**kwargs)
            for result in [outcome] if _firstresult(caller) else outcome:
                if result is not None:
                    yield name, result


_produced: contextvars.ContextVar[dict[int, tuple[str, object]] | None] = contextvars.ContextVar(
    "mimosa_hook_items", default=None
)
"""During :meth:`PluginHost.call_mission`: (plugin, item) by the item's ``id`` (held, so the id stays its own)."""


def _firstresult(caller: pluggy.HookCaller) -> bool:
    return bool(caller.spec and caller.spec.opts.get("firstresult"))


def _attributed(function: Callable[..., Any], plugin_name: str) -> Callable[..., Any]:
    """``function`` (a plugin's hook implementation) noting, during a per-mission call, whose items it returns.

    A generator is read into a tuple first, so that noting its items does not use it up.
    """

    @functools.wraps(function)
    def call(*args: object) -> Any:
        result = function(*args)
        produced = _produced.get()
        if produced is not None and result is not None:
            if isinstance(result, Iterator):
                result = tuple(result)
            if isinstance(result, Iterable) and not isinstance(result, str | bytes | dict):
                produced.update((id(item), (plugin_name, item)) for item in result)
        return result

    return call
