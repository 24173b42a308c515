"""Fixtures for the host's tests."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest


@pytest.fixture
def install_plugin(tmp_path, monkeypatch) -> Iterator[Callable[[str, str], Callable[[], ModuleType]]]:  # noqa: ANN001
    """Install a module as a distribution with a ``mimosa.plugins`` entry point next to the CTM.

    It stands in for a third-party plugin package; ``install_plugin(name, source)`` returns a
    function that gives the module once the host has imported it.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def _install(name: str, source: str) -> Callable[[], ModuleType]:
        module = f"mimosa_test_plugin_{name}"
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        dist = site / f"{module}-0.1.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
        (dist / "entry_points.txt").write_text(f"[mimosa.plugins]\n{name} = {module}\n", encoding="utf-8")
        modules.append(module)
        importlib.invalidate_caches()
        return lambda: sys.modules[module]

    yield _install
    for module in modules:
        sys.modules.pop(module, None)
