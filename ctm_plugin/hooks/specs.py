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
    from ctm_plugin.security.keys import KeyStore

PROJECT = "ctm"
ENTRY_POINTS = "ctm.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def ctm_mapping_converters() -> Sequence[Converter]:
    """Converters mapping files may name, besides the built-in ones; a name may not be taken twice."""


@hookspec(firstresult=True)
def ctm_key_store() -> KeyStore | None:
    """Where the CTM's keys live when not in its key file: a KMS, say (see docs/administrators.md).

    The first plugin that answers wins; the store is asked for keys on every seal and unseal, so it
    should cache them for the process's life, and it must keep a key until it is retired or erased."""
