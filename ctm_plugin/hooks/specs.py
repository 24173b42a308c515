"""Hooks of the CTM's own extension points, for other plugins to implement.

They are not the host's hooks: the project name is ``ctm``, hook names start with ``ctm_``,
and a plugin offers its implementations through the ``ctm.plugins`` entry point group,
marking them with :data:`hookimpl`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ctm_plugin.mappings.converters import Converter

PROJECT = "ctm"
ENTRY_POINTS = "ctm.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ctm_mapping_converters() -> Sequence[Converter]:
    """Converters mapping files may name, besides the built-in ones; a name may not be taken twice."""
