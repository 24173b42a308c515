"""What changed between two mappings, as lines an integrator reads (and a reviewer diffs)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ctm_plugin.i18n import N_, _

from .engine import Mapping
from .schema import FieldMapping

ID = N_("id: %(before)s → %(after)s")
VERSION = N_("version: %(before)s → %(after)s")
ADDED = N_("+ %(field)s: added")
REMOVED = N_("- %(field)s: removed")
CHANGED = N_("~ %(field)s.%(key)s: %(before)s → %(after)s")
ABSENT = "—"


def diff(a: Mapping, b: Mapping) -> list[str]:
    """Empty when ``a`` and ``b`` map the same way under the same id and version."""
    lines = []
    if a.id != b.id:
        lines.append(_(ID, before=a.id, after=b.id))
    if a.version != b.version:
        lines.append(_(VERSION, before=a.version, after=b.version))
    for name in [*a.fields, *(name for name in b.fields if name not in a.fields)]:
        if name not in b.fields:
            lines.append(_(REMOVED, field=name))
        elif name not in a.fields:
            lines.append(_(ADDED, field=name))
        else:
            lines += [
                _(CHANGED, field=name, key=key, before=_show(before), after=_show(after))
                for key, before, after in _changes(a.fields[name], b.fields[name])
            ]
    return lines


def _changes(a: FieldMapping, b: FieldMapping, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    spec_a, spec_b = a.spec(), b.spec()
    for key in [*spec_a, *(key for key in spec_b if key not in spec_a)]:
        before, after = spec_a.get(key, ABSENT), spec_b.get(key, ABSENT)
        if before != after:
            yield f"{prefix}{key}", before, after
    parts_a, parts_b = {part.name: part for part in a.parts}, {part.name: part for part in b.parts}
    for name in [*parts_a, *(name for name in parts_b if name not in parts_a)]:
        key = f"{prefix}parts.{name}"
        if name not in parts_a or name not in parts_b:
            yield (
                key,
                parts_a[name].spec() if name in parts_a else ABSENT,
                parts_b[name].spec() if name in parts_b else ABSENT,
            )
        else:
            yield from _changes(parts_a[name], parts_b[name], f"{key}.")


def _show(value: Any) -> str:
    return value if value is ABSENT else json.dumps(value, ensure_ascii=False, sort_keys=True)
