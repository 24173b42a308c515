"""Loading plugins, checking they fit this host, and calling them per mission.

Plugins come from the ``mimosa.plugins`` entry points. ``MIMOSA_BLOCKED_PLUGINS``
(comma-separated names) keeps named plugins from loading at all. A plugin that
declares a host range this host is outside of, that lacks ``mimosa_plugin_info``,
or that implements hooks the host does not know, is reported and never called.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Iterable, Iterator
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
        return entry

    def _info(self, name: str, problems: list[Problem]) -> plugin_api.PluginInfo | None:
        impl = self._impl(name, "mimosa_plugin_info")
        if impl is None:
            problems.append(Problem(N_("It has no mimosa_plugin_info hook.")))
            return None
        try:
            info = impl.function()
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not keep the host down
            problems.append(Problem(N_("Its mimosa_plugin_info hook failed: %(error)s"), {"error": repr(exc)}))
            return None
        if not isinstance(info, plugin_api.PluginInfo):
            problems.append(Problem(N_("Its mimosa_plugin_info hook did not return a PluginInfo.")))
            return None
        return info

    # -- calling ---------------------------------------------------------------------

    @property
    def active_names(self) -> list[str]:
        return sorted(name for name, entry in self.installed.items() if entry.compatible)

    def _impl(self, plugin_name: str, hook_name: str) -> pluggy.HookImpl | None:
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            if impl.plugin_name == plugin_name:
                return impl
        return None

    def call_one(self, plugin_name: str, hook_name: str, **kwargs: Any) -> Any:
        """Call one active plugin's implementation of a hook; ``None`` when it has none or is not active."""
        if plugin_name not in self.active_names:
            return None
        impl = self._impl(plugin_name, hook_name)
        if impl is None:
            return None
        return impl.function(*(kwargs[arg] for arg in impl.argnames))

    def call_each(self, hook_name: str, names: Iterable[str] | None = None, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """(plugin name, result) for each active plugin (or each of ``names``) implementing the hook."""
        wanted = set(self.active_names if names is None else names) & set(self.active_names)
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            if impl.plugin_name in wanted:
                yield impl.plugin_name, impl.function(*(kwargs[arg] for arg in impl.argnames))
