"""Every declared permission is checked where it belongs, or awaits the issue that brings its pages."""

import ast
import re
from pathlib import Path

from ctm_plugin.security import permissions

PACKAGE = Path(permissions.__file__).parents[1]
CONSTANTS = {
    name: value
    for name, value in vars(permissions).items()
    if name.isupper() and isinstance(value, str) and value.startswith("ctm.")
}


def names_used_by_the_code() -> set[str]:
    """The permission constants the plugin's code and templates read (imports alone do not count)."""
    used: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name.endswith("_test.py") or path == Path(permissions.__file__):
            continue
        used |= {node.id for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Name)}
    for path in PACKAGE.rglob("*.html"):
        used |= set(re.findall(r"\bperm\.([A-Z_]+)\b", path.read_text()))
    return used & set(CONSTANTS)


def test_every_declared_permission_is_checked_or_awaits_its_issue():
    declared = {p.name for p in permissions.PERMISSIONS}
    checked = {CONSTANTS[name] for name in names_used_by_the_code()}
    awaited = set(permissions.AWAITED)
    assert declared == checked | awaited
    assert checked & awaited == set(), "a permission the code checks no longer awaits its issue"
    assert set(CONSTANTS.values()) == declared  # no constant without its declaration


def test_roles_bundle_only_declared_permissions():
    declared = {p.name for p in permissions.PERMISSIONS}
    assert all(set(role.permissions) <= declared for role in permissions.ROLES)
