"""The CTM reaches the host only through ``mimosa_host.plugin_api`` (and SOAP, later)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import ctm_plugin

PACKAGE = Path(ctm_plugin.__file__).parent
ALLOWED = "mimosa_host.plugin_api"


def host_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "mimosa_host"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "mimosa_host":
            found.append(node.module)
            if node.module == "mimosa_host":  # from mimosa_host import x: names a submodule or attribute
                found += [f"mimosa_host.{alias.name}" for alias in node.names]
    return found


def test_source_imports_nothing_of_the_host_but_the_plugin_api():
    offenders = {
        str(path.relative_to(PACKAGE)): bad
        for path in sorted(PACKAGE.rglob("*.py"))
        if (bad := [name for name in host_imports(path) if name != ALLOWED])
    }
    assert offenders == {}


def test_the_checker_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from mimosa_host.models import Beneficiary\nimport mimosa_host.db\nfrom mimosa_host import web\n")
    assert host_imports(bad) == ["mimosa_host.models", "mimosa_host.db", "mimosa_host", "mimosa_host.web"]


def test_importing_every_ctm_module_loads_no_other_host_module():
    # A fresh interpreter, so that modules the tests themselves imported do not count.
    script = (
        "import importlib, pkgutil, sys, ctm_plugin\n"
        "for m in pkgutil.walk_packages(ctm_plugin.__path__, 'ctm_plugin.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(n for n in sys.modules if n.split('.')[0] == 'mimosa_host')))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout.split()
    assert set(loaded) == {"mimosa_host", ALLOWED}


def test_services_handle_no_xml_and_the_host_namespace_is_spelt_once():
    """XML stays in the adapter (and the mapping engine): services get records and values."""
    services = {
        str(path.relative_to(PACKAGE)): [
            name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in ([node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names])
            if name and (name.split(".")[0] == "lxml" or name == "ctm_plugin.security.xml")
        ]
        for path in sorted((PACKAGE / "services").glob("*.py"))
    }
    assert {path: names for path, names in services.items() if names} == {}
    spelt = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if not path.name.endswith("_test.py") and path.name != "testing.py" and "urn:mimosa:host:v1" in path.read_text()
    ]
    assert spelt == ["mappings/records.py"]
    services_text = "".join(path.read_text() for path in (PACKAGE / "services").glob("*.py"))
    assert "HOST_NS" not in services_text
