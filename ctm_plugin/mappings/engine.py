"""Mappings in force, and records mapped through them.

The default mappings ship in ``default/``; a mission's override document (its newest revision
on the integrators' mapping page) replaces some of their fields. A mapping's ``version`` is what
synced records are stamped with: the file's version, followed by ``+m`` and the override
document's version when a mission overrides it ("1+m3"), so an integrator can tell which files a record went through.

``map_in`` reads what the mapping's in-fields say from a host element; ``map_out`` builds the
host element from the out-fields alone, in the XSD's order: a record's other keys never
reach the XML (security.md DP-06).
"""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from ctm_plugin.codelists import CodeList
from ctm_plugin.i18n import N_, _

from .converters import ConversionError
from .problems import MappingError, Problem, Source
from .records import NS, RECORDS, Layout, RecordType
from .schema import NOT_A_CTM_CODE, FieldMapping, check_file, check_overrides, check_record, check_tables

DEFAULT_DIR = Path(__file__).parent / "default"
OVERRIDES = "mapping_overrides"
"""The name problems in a mission's override document give as their file."""

NOT_FOUND = N_("Required, but none of its XPaths found a value.")
NO_VALUE = N_("Required, but the record has no value for it.")
NOT_A_LIST = N_("Expected a list of values.")
NOT_AN_ITEM = N_("Expected each item to be a table of its parts.")


@dataclass(frozen=True)
class Mapping:
    id: str
    version: str
    """The file's version ("3"), and a mission's override version after it ("3+m2")."""
    record: RecordType
    fields: dict[str, FieldMapping]
    source: str
    description: str = ""


@dataclass(frozen=True)
class FieldError:
    """A field that did not map; its message may quote the value: show it, never log it."""

    field: str
    """The field, or ``field[n].part`` for a part of the n-th item."""
    xpath: str
    message: str
    """A msgid; ``params`` fill it."""
    params: abc.Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.field} ({self.xpath}): {_(self.message, **self.params)}"


@dataclass(frozen=True)
class MappedRecord:
    mapping_id: str
    mapping_version: str
    values: dict[str, Any]
    """Every in-field of the mapping: ``None`` (or ``[]``) when the host has no value."""
    errors: tuple[FieldError, ...]


class RecordError(ValueError):
    """A record that cannot be written to the host; ``errors`` say which fields and why."""

    def __init__(self, errors: abc.Sequence[FieldError]) -> None:
        super().__init__(errors[0].message)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


# -- loading ----------------------------------------------------------------------------------


def parse_mapping(text: str, source_name: str = "<mapping>") -> Mapping:
    """Raises :class:`MappingError` with every problem found."""
    source = Source(source_name, text)
    header, tables = check_file(source)
    record = RECORDS[header["id"]]
    fields = check_tables(record, tables, source)
    check_record(record, fields, source)
    return Mapping(header["id"], str(header["version"]), record, fields, source_name, header["description"])


def load_mapping(path: str | Path) -> Mapping:
    return parse_mapping(Path(path).read_text(encoding="utf-8"), str(path))


@cache
def _defaults() -> dict[str, Mapping]:
    found = {}
    for path in sorted(DEFAULT_DIR.glob("*.toml")):
        mapping = parse_mapping(path.read_text(encoding="utf-8"), f"ctm_plugin/mappings/default/{path.name}")
        found[mapping.id] = mapping
    return found


def default_mappings() -> dict[str, Mapping]:
    return dict(_defaults())


def with_overrides(mapping: Mapping, overrides_text: str, source_name: str = OVERRIDES) -> Mapping:
    """``mapping`` with the fields the override document's section for its id replaces."""
    source = Source(source_name, overrides_text)
    section = check_overrides(source).get(mapping.id)
    return mapping if section is None else _override(mapping, section, source)


def effective_mappings(overrides_text: str | None, source_name: str = OVERRIDES) -> dict[str, Mapping]:
    """The defaults with a mission's overrides; :class:`MappingError` if the overrides are bad,
    so that they can be refused when the settings are saved and the mappings in force stay."""
    if not overrides_text or not overrides_text.strip():
        return default_mappings()
    return dict(_effective(overrides_text, source_name))


@lru_cache(maxsize=64)
def _effective(overrides_text: str, source_name: str) -> dict[str, Mapping]:
    source = Source(source_name, overrides_text)
    found = default_mappings()
    problems: list[Problem] = []
    for mapping_id, section in check_overrides(source).items():
        try:
            found[mapping_id] = _override(found[mapping_id], section, source)
        except MappingError as error:
            problems += error.problems
    if problems:
        raise MappingError(problems)
    return found


def _override(mapping: Mapping, section: dict[str, Any], source: Source) -> Mapping:
    within = source.within(mapping.id)
    fields = {**mapping.fields, **check_tables(mapping.record, section["fields_"], within)}
    check_record(mapping.record, fields, within)
    return replace(
        mapping,
        version=f"{mapping.version}+m{section['version']}",
        fields=fields,
        source=f"{mapping.source} + {source.name}",
        description=section["description"] or mapping.description,
    )


# -- in ---------------------------------------------------------------------------------------


def map_in(mapping: Mapping, element: etree._Element) -> MappedRecord:
    """The CTM's values for the mapping's in-fields, read from the host's record ``element``."""
    errors: list[FieldError]
    values, errors = {}, []
    for field in mapping.fields.values():
        if field.goes_in:
            codelist = mapping.record.slots[field.name].codelist
            values[field.name] = _read(field, element, field.name, codelist, errors)
    return MappedRecord(mapping.id, mapping.version, values, tuple(errors))


def _read(field: FieldMapping, node: etree._Element, label: str, codelist: CodeList | None, errors: list) -> Any:
    if field.parts:
        return [
            {part.name: _read(part, item, f"{label}[{n}].{part.name}", None, errors) for part in field.parts}
            for n, item in enumerate(_elements(field, node), 1)
        ]
    xpath, texts = _texts(field, node)
    if not texts and field.cardinality == "required":
        errors.append(FieldError(label, xpath, NOT_FOUND, {}))
    values = []
    for text in texts if field.cardinality == "many" else texts[:1]:
        try:
            value = field.converter.to_ctm(text, field.params)
        except ConversionError as error:
            errors.append(FieldError(label, xpath, error.msgid, error.params))
            continue
        if codelist is not None and value not in codelist:
            errors.append(FieldError(label, xpath, NOT_A_CTM_CODE, {"code": value, "field": field.name}))
            continue
        values.append(value)
    return values if field.cardinality == "many" else (values[0] if values else None)


def _texts(field: FieldMapping, node: etree._Element) -> tuple[str, list[str]]:
    """The first XPath that finds a value, and the (stripped, non-empty) texts it found."""
    for index, (xpath, compiled) in enumerate(zip(field.xpaths, field.compiled, strict=True)):
        texts = [text for text in map(_text_of, compiled(node)) if text]
        if texts:
            return xpath, texts
        if field.default is not None and field.owners[index](node):
            return xpath, [field.default]
    return field.xpaths[0], []


def _text_of(hit: str | etree._Element) -> str:
    return (hit if isinstance(hit, str) else hit.text or "").strip()


def _elements(field: FieldMapping, node: etree._Element) -> list[etree._Element]:
    for compiled in field.compiled:
        if found := [hit for hit in compiled(node) if not isinstance(hit, str)]:
            return found
    return []


# -- out --------------------------------------------------------------------------------------


def map_out(mapping: Mapping, record: abc.Mapping[str, Any]) -> etree._Element:
    """The host element for ``record``, from the mapping's out-fields only; :class:`RecordError`."""
    record_type = mapping.record
    layout = record_type.layout
    root = etree.Element(_tag(record_type.element_out), nsmap={None: NS})
    for path in layout.always:
        _descend(root, (), tuple(path.split("/")), layout, fresh=False)
    errors: list[FieldError] = []
    for field in mapping.fields.values():
        if field.goes_out:
            _write(field, record.get(field.name), root, (), layout, field.name, errors)
    if errors:
        raise RecordError(errors)
    return root


def _write(
    field: FieldMapping,
    value: Any,
    node: etree._Element,
    base: tuple[str, ...],
    layout: Layout,
    label: str,
    errors: list[FieldError],
) -> None:
    xpath = field.xpaths[0]
    if value is None:
        if field.cardinality == "required":
            errors.append(FieldError(label, xpath, NO_VALUE, {}))
        return
    if field.cardinality != "many":
        _put(field, value, node, base, layout, label, errors, fresh=False)
        return
    if not isinstance(value, list | tuple):
        errors.append(FieldError(label, xpath, NOT_A_LIST, {}))
        return
    for n, item in enumerate(value, 1):
        if not field.parts:
            _put(field, item, node, base, layout, label, errors, fresh=True)
        elif not isinstance(item, abc.Mapping):
            errors.append(FieldError(f"{label}[{n}]", xpath, NOT_AN_ITEM, {}))
        else:
            assert field.target is not None  # an out-field's xpath is plain: checked when the mapping loads
            element = _descend(node, base, field.target.steps, layout, fresh=True)
            inner = (*base, *field.target.steps)
            for part in field.parts:
                _write(part, item.get(part.name), element, inner, layout, f"{label}[{n}].{part.name}", errors)


def _put(
    field: FieldMapping,
    value: Any,
    node: etree._Element,
    base: tuple[str, ...],
    layout: Layout,
    label: str,
    errors: list[FieldError],
    *,
    fresh: bool,
) -> None:
    try:
        text = field.converter.to_host(value, field.params)
    except ConversionError as error:
        errors.append(FieldError(label, field.xpaths[0], error.msgid, error.params))
        return
    if text is None:
        return
    assert field.target is not None  # an out-field's xpath is plain: checked when the mapping loads
    element = _descend(node, base, field.target.steps, layout, fresh=fresh)
    if field.target.attribute:
        element.set(field.target.attribute, text)
    else:
        element.text = text


def _descend(
    node: etree._Element, base: tuple[str, ...], steps: tuple[str, ...], layout: Layout, *, fresh: bool
) -> etree._Element:
    """The element at ``steps`` under ``node``, made where missing (the last one anew if ``fresh``)."""
    path = base
    for depth, step in enumerate(steps):
        order = layout.children["/".join(path)]
        path = (*path, step)
        child = None if fresh and depth == len(steps) - 1 else node.find(_tag(step))
        node = _insert(node, order, step) if child is None else child
    return node


def _insert(parent: etree._Element, order: tuple[str, ...], step: str) -> etree._Element:
    """A new child, after its preceding siblings in the XSD's order (and after others like it)."""
    rank = order.index(step)
    position = sum(1 for child in parent if order.index(etree.QName(child).localname) <= rank)
    child = etree.SubElement(parent, _tag(step))
    parent.insert(position, child)
    return child


def _tag(local: str) -> str:
    return f"{{{NS}}}{local}"
