"""Every action the CTM records reads as words on the audit trail."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import ctm_plugin
from ctm_plugin import i18n
from ctm_plugin.security.audit_actions import ACTIONS, action_label

RECORDING = {"record", "add_to_case", "edit_row", "_audit_here", "_manageable", "viewing"}
"""``audit.record`` and the helpers that pass an action code on to it."""
CODE = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def recorded_codes() -> set[str]:
    """Every literal action code given to ``audit.record`` or its helpers anywhere in ctm_plugin."""
    found: set[str] = set()
    for path in Path(ctm_plugin.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name not in RECORDING:
                continue
            values = [*node.args, *(k.value for k in node.keywords)]
            found |= {v.value for v in values if isinstance(v, ast.Constant) and CODE.fullmatch(str(v.value))}
    return found


def test_every_recorded_action_code_has_a_label():
    codes = recorded_codes()
    assert {"case.open", "case.print", "audit.export", "screening.record"} <= codes  # the scan finds them
    assert codes - set(ACTIONS) == set()


def test_a_label_reads_in_the_readers_language():  # every msgid's translation: tests/test_catalogs.py
    assert i18n.translations("fr").gettext(ACTIONS["case.view"]) == "A consulté le dossier"


def test_an_unknown_code_reads_as_itself():
    assert action_label("case.future_thing") == "case.future_thing"
