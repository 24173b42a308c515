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

log = logging.getLogger(__name__)

BLOCK_ENV = "MIMOSA_BLOCKED_PLUGINS"


@dataclass
class InstalledPlugin:
    """A plugin the host found, with the reasons it cannot be used, if any."""

    name: str
    info: plugin_api.PluginInfo | None
    problems: list[str] = field(default_factory=list)

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
                self.installed[ep.name] = InstalledPlugin(ep.name, None, [f"cannot be imported: {exc!r}"])
                log.warning("plugin %s refused: cannot be imported: %r", ep.name, exc)
                continue
            self.register(plugin, ep.name)

    def register(self, plugin: object, name: str) -> InstalledPlugin:
        """Register an in-process plugin (tests, built-ins) through the same checks as entry points."""
        if self.pm.is_blocked(name):
            raise ValueError(f"plugin {name!r} is blocked by {BLOCK_ENV}")
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            self.installed[name] = InstalledPlugin(name, None, [f"invalid hook implementation: {exc}"])
            log.warning("plugin %s refused: invalid hook implementation: %s", name, exc)
            return self.installed[name]
        return self._admit(name, plugin)

    def unregister(self, name: str) -> None:
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.installed.pop(name, None)

    def _admit(self, name: str, plugin: object) -> InstalledPlugin:
        problems: list[str] = []
        info = None
        unknown = [caller.name for caller in self.pm.get_hookcallers(plugin) or () if caller.spec is None]
        if unknown:
            problems.append("unknown hooks: " + ", ".join(sorted(unknown)))
        impl = self._impl(name, "mimosa_plugin_info")
        if impl is None:
            problems.append("no mimosa_plugin_info hook")
        else:
            info = impl.function()
            if info.name != name:
                problems.append(f"entry point name {name!r} differs from plugin name {info.name!r}")
            try:
                spec = SpecifierSet(info.requires_host)
            except InvalidSpecifier:
                problems.append(f"invalid host version range {info.requires_host!r}")
            else:
                if not spec.contains(self.host_version, prereleases=True):
                    problems.append(f"requires host {info.requires_host}, this host is {self.host_version}")
        entry = InstalledPlugin(name, info, problems)
        self.installed[name] = entry
        if problems:
            log.warning("plugin %s refused: %s", name, "; ".join(problems))
            self.pm.unregister(name=name)
        return entry

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
        """Call one plugin's implementation of a hook; ``None`` when it has none."""
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
