"""The mapping file format, and every check a mapping file or a mission's override document passes.

A mapping file (TOML) maps one host record; ``docs/integrators.md`` is the guide::

    [mapping]
    id = "beneficiary"        # the record mapped: "beneficiary" or "movement" (records.py)
    version = 3               # a whole number from 1 to 999999, bumped on every change
    description = "..."       # optional

    [fields.gender]           # a CTM field of the record
    xpath = ["m:Sex"]         # ordered fallbacks, relative to the record (xpaths.py says what is allowed)
    cardinality = "required"  # "required" | "optional" (default) | "many" (a list)
    direction = "both"        # "in" (default: host → CTM) | "out" (CTM → host) | "both"
    converter = "codes"       # default "text"; the converter's parameters are keys of this table
    codes = { F = "Feminine", M = "Masculine" }

    [fields.birth_date_precision]
    xpath = ["m:BirthDate/@estimated"]
    converter = "estimated_to_precision"
    default = "false"         # for @attribute paths: the value when the element is there without it

    [fields.documents]        # a field with parts: a list of dicts, one per element selected
    xpath = ["m:Documents/m:Document"]
    cardinality = "many"
    [fields.documents.parts.number]
    xpath = ["@number"]       # relative to the element the field selects
    cardinality = "required"

A mission's override document (edited on the integrators' mapping page) replaces whole field tables
of the default mappings, one section per mapping id, with the mission's own version number::

    [beneficiary]
    version = 2
    [beneficiary.fields.gender]
    ...

Problems (``problems.py``) name the file, the dotted path of the key and, when found, the line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from lxml import etree
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from ctm_plugin.i18n import N_

from .converters import ConversionError, Converter, converters
from .problems import MappingError, Problem, Source, read_toml
from .records import IN, OUT, RECORDS, Layout, RecordType, Slot
from .xpaths import Target, compile_xpath, ends_with_attribute, is_safe, owner

UNKNOWN_KEY = N_("Unknown key.")
REQUIRED_KEY = N_("This key is required.")
NOT_A_TABLE = N_("Expected a table.")
NOT_TEXT = N_("Expected text.")
BAD_VERSION = N_("The version is a whole number from 1 to 999999.")
NOT_A_PATH_LIST = N_('Expected a list of XPaths, e.g. ["m:Sex"].')
BAD_CARDINALITY = N_('Use "required", "optional" or "many".')
BAD_PART_CARDINALITY = N_('Use "required" or "optional".')
BAD_DIRECTION = N_('Use "in", "out" or "both".')
UNKNOWN_RECORD = N_("Unknown mapping id %(id)s: the ids are %(ids)s.")
UNKNOWN_FIELD = N_("A %(record)s mapping has no field %(field)s.")
UNKNOWN_CONVERTER = N_("Unknown converter %(converter)s: the converters are %(names)s.")
BAD_XPATH = N_("%(xpath)s is not a valid XPath.")
OUTSIDE_SUBSET = N_(
    "%(xpath)s uses more than a mapping may: child steps (m:Name), [n] or [@name='value'] predicates,"
    " and an @attribute last."
)
WRONG_DIRECTION = N_('%(field)s can only be mapped with direction = "%(allowed)s".')
MUST_BE_MANY = N_('%(field)s is a list in the CTM: use cardinality = "many".')
MUST_NOT_BE_MANY = N_('%(field)s holds one value in the CTM: use cardinality "required" or "optional".')
PARTS_NEEDED = N_("%(field)s is mapped part by part: its parts are %(parts)s.")
NO_PARTS = N_("%(field)s has no parts.")
UNKNOWN_PART = N_("%(field)s has no part %(part)s: its parts are %(parts)s.")
PARTS_FROM_ELEMENTS = N_("A field with parts selects elements: its XPaths cannot end with an @attribute.")
DEFAULT_NEEDS_ATTRIBUTE = N_("A default is only for XPaths that end with an @attribute.")
NOT_A_CTM_CODE = N_("%(code)s is not a CTM code for %(field)s.")
OUT_NOT_PLAIN = N_("%(xpath)s is written to the host: it may only name child elements and an @attribute.")
NO_PLACE = N_("The host's %(element)s has no place the CTM may write %(xpath)s into.")
NOT_REPEATED = N_("The host takes one %(xpath)s: a list cannot be written there.")
MISSING_FIELD = N_("A %(record)s mapping must map %(field)s.")
WRITTEN_TWICE = N_("%(xpath)s is already written by %(other)s.")

FIELD_KEYS = ("xpath", "cardinality", "direction", "converter", "default", "parts")
PART_KEYS = ("xpath", "cardinality", "converter", "default")
DIRECTIONS = {"in": frozenset({IN}), "out": frozenset({OUT}), "both": frozenset({IN, OUT})}
MAX_VERSION = 999_999
"""A file's and an override's versions make the version records are stamped with ("3+m2"): both at
their largest still fit the 40 characters the CTM keeps of it."""


# -- the marshmallow schemas ------------------------------------------------------------------

_KEY_ERRORS = {"required": REQUIRED_KEY, "null": REQUIRED_KEY}


class TableSchema(Schema):
    error_messages = {"unknown": UNKNOWN_KEY, "type": NOT_A_TABLE}

    class Meta:
        unknown = RAISE


def _version() -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_VERSION, error=BAD_VERSION),
        error_messages={**_KEY_ERRORS, "invalid": BAD_VERSION},
    )


def _text(**kwargs: Any) -> fields.String:
    return fields.String(error_messages={**_KEY_ERRORS, "invalid": NOT_TEXT, "invalid_utf8": NOT_TEXT}, **kwargs)


def _table(**kwargs: Any) -> fields.Dict:
    return fields.Dict(error_messages={**_KEY_ERRORS, "invalid": NOT_A_TABLE}, **kwargs)


class HeaderSchema(TableSchema):
    """``[mapping]``."""

    id = _text(required=True)
    version = _version()
    description = _text(load_default="")


class MappingFileSchema(TableSchema):
    mapping = _table(required=True)
    fields_ = _table(required=True, data_key="fields")


class OverrideSchema(TableSchema):
    """One mapping's section of an override document."""

    version = _version()
    description = _text(load_default=None)
    fields_ = _table(load_default=dict, data_key="fields")


class FieldSchema(TableSchema):
    """A field's (or a part's) own keys; the rest of its table are its converter's parameters."""

    xpath = fields.List(
        fields.String(
            validate=validate.Length(min=1, error=NOT_A_PATH_LIST), error_messages={"invalid": NOT_A_PATH_LIST}
        ),
        required=True,
        validate=validate.Length(min=1, error=NOT_A_PATH_LIST),
        error_messages={**_KEY_ERRORS, "invalid": NOT_A_PATH_LIST},
    )
    cardinality = _text(
        load_default="optional", validate=validate.OneOf(("required", "optional", "many"), error=BAD_CARDINALITY)
    )
    direction = _text(load_default="in", validate=validate.OneOf(tuple(DIRECTIONS), error=BAD_DIRECTION))
    converter = _text(load_default="text")
    default = _text(load_default=None)
    parts = _table(load_default=dict)


def _flatten(messages: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, path if key == "_schema" or isinstance(key, int) else (*path, key))
    else:
        for message in messages:
            yield from _flatten(message, path) if isinstance(message, dict | list) else [(path, message)]


def _load(schema: Schema, data: Any, source: Source, at: tuple[str, ...], problems: list[Problem]) -> dict | None:
    try:
        return schema.load(data)
    except ValidationError as error:
        problems.extend(source.problem((*at, *path), message) for path, message in _flatten(error.messages))
        return None


# -- documents --------------------------------------------------------------------------------


def check_file(source: Source) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``[mapping]`` header and the raw field tables of a mapping file."""
    problems: list[Problem] = []
    data = read_toml(source)
    top = _load(MappingFileSchema(), data, source, (), problems)
    header = data.get("mapping")
    header = _load(HeaderSchema(), header, source, ("mapping",), problems) if isinstance(header, dict) else None
    if header and header["id"] not in RECORDS:
        problems.append(source.problem(("mapping", "id"), UNKNOWN_RECORD, id=header["id"], ids=", ".join(RECORDS)))
    if problems:
        raise MappingError(problems)
    assert top is not None and header is not None  # either failing to load is a problem
    return header, top["fields_"]


def check_overrides(source: Source) -> dict[str, dict[str, Any]]:
    """Mapping id → its section (``version``, ``description``, raw ``fields_``) of an override document."""
    problems: list[Problem] = []
    sections = {}
    for mapping_id, section in read_toml(source).items():
        if mapping_id not in RECORDS:
            problems.append(source.problem((mapping_id,), UNKNOWN_RECORD, id=mapping_id, ids=", ".join(RECORDS)))
        elif (loaded := _load(OverrideSchema(), section, source, (mapping_id,), problems)) is not None:
            sections[mapping_id] = loaded
    if problems:
        raise MappingError(problems)
    return sections


# -- fields -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldMapping:
    """One field of a mapping, checked, with its XPaths compiled once."""

    name: str
    xpaths: tuple[str, ...]
    cardinality: str
    direction: str
    converter: Converter
    params: Mapping[str, Any]
    default: str | None
    parts: tuple[FieldMapping, ...]
    origin: Source = field(compare=False, repr=False)
    compiled: tuple[etree.XPath, ...] = field(compare=False, repr=False)
    owners: tuple[etree.XPath, ...] = field(compare=False, repr=False)
    """For a ``default``: the element each XPath reads the attribute of."""
    target: Target | None = field(compare=False, repr=False)
    """Where the value is written, when the field goes out."""

    @property
    def goes_in(self) -> bool:
        return IN in DIRECTIONS[self.direction]

    @property
    def goes_out(self) -> bool:
        return OUT in DIRECTIONS[self.direction]

    def spec(self) -> dict[str, Any]:
        """The field as its table reads once defaults are filled in (what a diff compares)."""
        found = {
            "xpath": list(self.xpaths),
            "cardinality": self.cardinality,
            "direction": self.direction,
            "converter": self.converter.name,
            **self.params,
        }
        return found if self.default is None else {**found, "default": self.default}


def check_tables(record: RecordType, tables: Mapping[str, Any], source: Source) -> dict[str, FieldMapping]:
    """The field tables of one mapping (or override section), each checked on its own."""
    registry = converters()
    problems: list[Problem] = []
    found = {}
    for name, table in tables.items():
        at = ("fields", name)
        slot = record.slots.get(name)
        if slot is None:
            problems.append(source.problem(at, UNKNOWN_FIELD, record=record.id, field=name))
            continue
        checked = _field(name, table, source, at, registry, problems, slot=slot)
        if checked is not None:
            _fits_slot(checked, slot, record.layout, source, at, problems)
            found[name] = checked
    if problems:
        raise MappingError(problems)
    return found


def _field(
    name: str,
    table: Any,
    source: Source,
    at: tuple[str, ...],
    registry: Mapping[str, Converter],
    problems: list[Problem],
    *,
    slot: Slot | None,
) -> FieldMapping | None:
    """A field (with ``slot``) or one of its parts (without), checked against its converter."""
    if not isinstance(table, dict):
        problems.append(source.problem(at, NOT_A_TABLE))
        return None
    keys = FIELD_KEYS if slot else PART_KEYS
    own = _load(FieldSchema(only=keys), {k: v for k, v in table.items() if k in keys}, source, at, problems)
    extra = {k: v for k, v in table.items() if k not in keys}
    if own is None:
        return None
    converter = registry.get(own["converter"])
    if converter is None:
        names = ", ".join(sorted(registry))
        problems.append(source.problem((*at, "converter"), UNKNOWN_CONVERTER, converter=own["converter"], names=names))
        return None
    if converter.params:
        params = _load(converter.params(), extra, source, at, problems)
    else:
        problems.extend(source.problem((*at, key), UNKNOWN_KEY) for key in extra)
        params = None if extra else {}
    if not slot and own["cardinality"] == "many":
        problems.append(source.problem((*at, "cardinality"), BAD_PART_CARDINALITY))
    compiled = _xpaths(own["xpath"], source, at, problems)
    if params is None or compiled is None:
        return None
    default = own["default"]
    if default is not None and not _default_fits(default, own["xpath"], converter, params, source, at, problems):
        return None
    direction = own.get("direction", "in")  # parts go wherever their field goes
    parts = [
        _field(part_name, part_table, source, (*at, "parts", part_name), registry, problems, slot=None)
        for part_name, part_table in own.get("parts", {}).items()
    ]
    if None in parts:
        return None
    xpaths = tuple(own["xpath"])
    return FieldMapping(
        name=name,
        xpaths=xpaths,
        cardinality=own["cardinality"],
        direction=direction,
        converter=converter,
        params=params,
        default=default,
        parts=tuple(replace(part, direction=direction) for part in parts if part is not None),
        origin=source,
        compiled=compiled,
        owners=tuple(compile_xpath(owner(path)) for path in xpaths) if default is not None else (),
        target=Target.of(xpaths[0]),
    )


def _xpaths(paths: list[str], source: Source, at: tuple[str, ...], problems: list[Problem]) -> tuple | None:
    compiled, before = [], len(problems)
    for path in paths:
        try:
            compiled.append(compile_xpath(path))
        except etree.XPathSyntaxError:
            problems.append(source.problem((*at, "xpath"), BAD_XPATH, xpath=path))
            continue
        if not is_safe(path):
            problems.append(source.problem((*at, "xpath"), OUTSIDE_SUBSET, xpath=path))
    return tuple(compiled) if len(problems) == before else None


def _default_fits(
    default: str,
    paths: list[str],
    converter: Converter,
    params: Mapping[str, Any],
    source: Source,
    at: tuple[str, ...],
    problems: list[Problem],
) -> bool:
    if not all(ends_with_attribute(path) for path in paths):
        problems.append(source.problem((*at, "default"), DEFAULT_NEEDS_ATTRIBUTE))
        return False
    try:
        converter.to_ctm(default, params)
    except ConversionError as error:
        problems.append(source.problem((*at, "default"), error.msgid, **error.params))
        return False
    return True


def _fits_slot(
    checked: FieldMapping, slot: Slot, layout: Layout, source: Source, at: tuple[str, ...], problems: list[Problem]
) -> None:
    """What only the record's catalogue can tell: direction, cardinality, parts, codes, where it is written."""
    name = checked.name
    if not DIRECTIONS[checked.direction] <= slot.directions:
        allowed = next(key for key, value in DIRECTIONS.items() if value == slot.directions)
        problems.append(source.problem((*at, "direction"), WRONG_DIRECTION, field=name, allowed=allowed))
    if slot.many != (checked.cardinality == "many"):
        problems.append(
            source.problem((*at, "cardinality"), MUST_BE_MANY if slot.many else MUST_NOT_BE_MANY, field=name)
        )
    parts = [part.name for part in checked.parts]
    if slot.parts and not parts:
        problems.append(source.problem(at, PARTS_NEEDED, field=name, parts=", ".join(slot.parts)))
    elif parts and not slot.parts:
        problems.append(source.problem((*at, "parts", parts[0]), NO_PARTS, field=name))
    unknown = sorted(set(parts) - set(slot.parts)) if slot.parts else []
    problems += [
        source.problem((*at, "parts", part), UNKNOWN_PART, field=name, part=part, parts=", ".join(slot.parts))
        for part in unknown
    ]
    if parts and any(ends_with_attribute(path) for path in checked.xpaths):
        problems.append(source.problem((*at, "xpath"), PARTS_FROM_ELEMENTS))
    if slot.codelist and checked.converter.ctm_values:
        for code in checked.converter.ctm_values(checked.params):
            if code not in slot.codelist:
                problems.append(source.problem(at, NOT_A_CTM_CODE, code=code, field=name))
    if checked.goes_out:
        _fits_layout(checked, layout, source, at, problems)


def _fits_layout(
    checked: FieldMapping, layout: Layout, source: Source, at: tuple[str, ...], problems: list[Problem]
) -> None:
    targets: list[tuple[FieldMapping, tuple[str, ...]]] = [(checked, ())]
    if checked.parts and checked.target:
        targets += [(part, checked.target.steps) for part in checked.parts]
    for mapped, base in targets:
        where = at if mapped is checked else (*at, "parts", mapped.name)
        target, xpath = mapped.target, mapped.xpaths[0]
        if target is None:
            problems.append(source.problem((*where, "xpath"), OUT_NOT_PLAIN, xpath=xpath))
            continue
        steps = (*base, *target.steps)
        for depth in range(len(base), len(steps)):
            parent = "/".join(steps[:depth])
            if steps[depth] not in layout.children.get(parent, ()):
                problems.append(source.problem((*where, "xpath"), NO_PLACE, element=parent or "record", xpath=xpath))
                break
        else:
            path = "/".join(steps)
            attributes = layout.attributes.get(path, ())
            misplaced = target.attribute not in attributes if target.attribute else path in layout.children
            if misplaced:
                problems.append(source.problem((*where, "xpath"), NO_PLACE, element=path or "record", xpath=xpath))
            elif mapped is checked and checked.cardinality == "many" and path not in layout.repeated:
                problems.append(source.problem((*where, "xpath"), NOT_REPEATED, xpath=xpath))


def check_record(record: RecordType, mapped: Mapping[str, FieldMapping], source: Source) -> None:
    """What only the whole mapping can tell: every required field is there, no place is written twice."""
    problems = [
        source.problem(("fields", name), MISSING_FIELD, record=record.id, field=name)
        for name, slot in record.slots.items()
        if slot.required and name not in mapped
    ]
    written: dict[tuple[str, str | None], str] = {}
    for checked in mapped.values():
        if not checked.goes_out or checked.target is None:
            continue
        targets: list[tuple[Target, tuple[str, ...]]] = [(checked.target, ())]
        targets += [(part.target, checked.target.steps) for part in checked.parts if part.target]
        for target, base in targets:
            key = (target.element_path(base), target.attribute)
            if key in written:
                at = ("fields", checked.name, "xpath")
                problems.append(checked.origin.problem(at, WRITTEN_TWICE, xpath=checked.xpaths[0], other=written[key]))
            written[key] = checked.name
    if problems:
        raise MappingError(problems)
