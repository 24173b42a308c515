"""The plugin manager of the CTM's own extension points (:mod:`ctm_plugin.hooks.specs`)."""

from __future__ import annotations

from functools import cache

import pluggy

from . import specs


@cache
def plugin_manager() -> pluggy.PluginManager:
    """Built on first use, with the plugins the ``ctm.plugins`` entry points name."""
    manager = pluggy.PluginManager(specs.PROJECT)
    manager.add_hookspecs(specs)
    manager.load_setuptools_entrypoints(specs.ENTRY_POINTS)
    return manager
