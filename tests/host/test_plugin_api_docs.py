"""Every hook and every type of the plugin API is documented in docs/plugin-api.md.

Modelled on datasette's ``test_plugin_hooks_are_documented``.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import pluggy
import pytest

import mimosa_host.plugin_api as plugin_api

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugin-api.md"


def _hooks() -> dict[str, pluggy.HookCaller]:
    pm = pluggy.PluginManager(plugin_api.PROJECT)
    pm.add_hookspecs(plugin_api)
    return {
        name: caller
        for name, caller in pm.hook.__dict__.items()
        if isinstance(caller, pluggy.HookCaller) and caller.spec is not None
    }


HOOKS = _hooks()

DATACLASSES = sorted(
    name
    for name, obj in vars(plugin_api).items()
    if not name.startswith("_")
    and inspect.isclass(obj)
    and obj.__module__ == plugin_api.__name__
    and dataclasses.is_dataclass(obj)
)


@pytest.fixture(scope="module")
def docs() -> str:
    return DOCS.read_text(encoding="utf-8")


def _section(docs: str, name: str) -> str | None:
    """The text from the ``### name`` heading to the next ``### `` heading."""
    match = re.search(rf"^### {re.escape(name)}[ \t]*$", docs, re.MULTILINE)
    if match is None:
        return None
    rest = docs[match.end() :]
    following = re.search(r"^### ", rest, re.MULTILINE)
    return rest if following is None else rest[: following.start()]


def test_there_are_hooks_and_dataclasses_to_check() -> None:
    assert HOOKS
    assert DATACLASSES


@pytest.mark.parametrize("hook_name", sorted(HOOKS))
def test_plugin_hook_is_documented(docs: str, hook_name: str) -> None:
    heading = "### {}({})".format(hook_name, ", ".join(HOOKS[hook_name].spec.argnames))
    assert re.search(rf"^{re.escape(heading)}[ \t]*$", docs, re.MULTILINE), f"{DOCS.name} lacks the heading {heading!r}"


@pytest.mark.parametrize("class_name", DATACLASSES)
def test_dataclass_is_documented(docs: str, class_name: str) -> None:
    section = _section(docs, class_name)
    assert section is not None, f"{DOCS.name} lacks the heading '### {class_name}'"
    cls = getattr(plugin_api, class_name)
    missing = [f.name for f in dataclasses.fields(cls) if f"`{f.name}`" not in section]
    assert not missing, f"the {class_name} section of {DOCS.name} does not mention {missing}"


CONTEXT_METHODS = sorted(
    name
    for name, obj in vars(plugin_api.RequestContext).items()
    if not name.startswith("_")
    and inspect.isfunction(obj)
    and name not in {f.name for f in dataclasses.fields(plugin_api.RequestContext)}  # a field's default
)


@pytest.mark.parametrize("method", CONTEXT_METHODS)
def test_request_context_method_is_documented(docs: str, method: str) -> None:
    """What a plugin calls on its context is part of the contract, said in the RequestContext section."""
    section = _section(docs, "RequestContext")
    assert section is not None
    assert re.search(rf"`{re.escape(method)}\(", section), f"{DOCS.name} does not describe RequestContext.{method}()"
