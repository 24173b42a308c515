"""What ``ctm mappings validate|test|diff`` do; each returns (exit code, lines to print).

A FILE is a mapping file (it has a ``[mapping]`` table) or a mission's override document
(one section per mapping id), which is checked against the default mappings it overrides.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lxml import etree

from ctm_plugin.i18n import N_, _
from ctm_plugin.security.xml import HostileXML, parse

from . import diff as diffs
from .engine import DEFAULT_DIR, Mapping, effective_mappings, map_in, parse_mapping
from .problems import MappingError, Source, read_toml
from .records import NS

Result = tuple[int, list[str]]

VALID = N_("%(file)s: the %(id)s mapping, version %(version)s, is valid.")
UNREADABLE = N_("%(file)s: cannot be read (%(error)s).")
MAPPED = N_("%(file)s: the %(id)s mapping, version %(version)s, read the sample's %(element)s:")
NO_RECORD = N_("The sample holds no %(elements)s element.")
REFUSED = N_("The sample was refused: %(reason)s")
FIELD_FAILED = N_("error: %(error)s")
ONLY_IN = N_("%(id)s: only in %(file)s")
SAME = N_("No differences.")
NONE = "—"


def validate(paths: Sequence[str | Path] | None = None) -> Result:
    """Check mapping files or override documents; without paths, the default mappings."""
    code, lines = 0, []
    for path in paths or sorted(DEFAULT_DIR.glob("*.toml")):
        try:
            lines += [_(VALID, file=str(path), id=m.id, version=m.version) for m in _load(path)]
        except (OSError, UnicodeDecodeError) as error:
            code, lines = 1, [*lines, _(UNREADABLE, file=str(path), error=error.__class__.__name__)]
        except MappingError as error:
            code, lines = 1, [*lines, *map(str, error.problems)]
    return code, lines


def test(path: str | Path, sample: bytes) -> Result:
    """Map the record a sample of host XML holds (bare, in a response, or in a SOAP envelope)."""
    try:
        mappings = _load(path)
        root = parse(sample)
    except (OSError, UnicodeDecodeError) as error:
        return 1, [_(UNREADABLE, file=str(path), error=error.__class__.__name__)]
    except MappingError as error:
        return 1, list(map(str, error.problems))
    except HostileXML as error:
        return 1, [_(REFUSED, reason=error.message)]
    lines: list[str]
    code, lines = 0, []
    for mapping in mappings:
        names = (mapping.record.element_in, mapping.record.element_out)
        element = next((e for e in root.iter(*(f"{{{NS}}}{name}" for name in names))), None)
        if element is None:
            code, lines = 1, [*lines, _(NO_RECORD, elements=" / ".join(dict.fromkeys(names)))]
            continue
        mapped = map_in(mapping, element)
        element_name = etree.QName(element).localname
        lines.append(_(MAPPED, file=str(path), id=mapping.id, version=mapping.version, element=element_name))
        lines += sorted(_lines(mapped.values))
        lines += [_(FIELD_FAILED, error=str(error)) for error in mapped.errors]
        code = code or (1 if mapped.errors else 0)
    return code, lines


def diff(a_path: str | Path, b_path: str | Path) -> Result:
    """0: the same; 1: different (the lines say how); 2: a file could not be loaded."""
    try:
        a = {mapping.id: mapping for mapping in _load(a_path)}
        b = {mapping.id: mapping for mapping in _load(b_path)}
    except (OSError, UnicodeDecodeError) as error:
        return 2, [_(UNREADABLE, file=str(getattr(error, "filename", None) or ""), error=error.__class__.__name__)]
    except MappingError as error:
        return 2, list(map(str, error.problems))
    if len(a) == len(b) == 1:  # two files of one mapping each: compare them whatever their ids
        lines = diffs.diff(next(iter(a.values())), next(iter(b.values())))
    else:
        lines = []
        for mapping_id in [*a, *(key for key in b if key not in a)]:
            if mapping_id not in b or mapping_id not in a:
                lines.append(_(ONLY_IN, id=mapping_id, file=str(a_path if mapping_id in a else b_path)))
            else:
                lines += [f"{mapping_id}: {line}" for line in diffs.diff(a[mapping_id], b[mapping_id])]
    return (1, lines) if lines else (0, [_(SAME)])


def _load(path: str | Path) -> list[Mapping]:
    """A mapping file's mapping, or the mappings an override document changes."""
    text = Path(path).read_text(encoding="utf-8")
    data = read_toml(Source(str(path), text))
    if "mapping" in data:
        return [parse_mapping(text, str(path))]
    mappings = effective_mappings(text, str(path))
    return [mappings[mapping_id] for mapping_id in data if mapping_id in mappings]


def _lines(values: dict[str, Any]) -> list[str]:
    lines = []
    for name, value in values.items():
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for n, item in enumerate(value, 1):
                lines += [f"{name}[{n}].{part} = {_show(v)}" for part, v in item.items()]
        else:
            lines.append(f"{name} = {_show(value)}")
    return lines


def _show(value: Any) -> str:
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(_show, value)) + "]"
    return str(value)
