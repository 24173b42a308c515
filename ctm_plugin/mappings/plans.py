"""Mappings compiled into plans: how ``map_in`` and ``map_out`` run, built once per mapping.

A mapping's in-fields name XPaths; evaluating each of them on each record costs more than the
parse did. :func:`compile_in` turns them into one walk: a small tree from the host's element
tags (namespace-qualified) to what each element feeds (its text, its attributes, the element
itself for a field with parts), so that a record's elements are visited once, and then one
reader per field turns what the walk gathered into the field's value, exactly as the XPaths
would have: the first XPath that finds a non-blank value wins, a ``default`` applies where its
element is, the n-th item's parts are read from that item. An XPath the walk cannot take (one
with a ``[n]`` or ``[@attr='value']`` predicate) keeps its compiled ``etree.XPath``; the default
mappings have none (``plans_test`` holds them to it).

The walk and the usual fields' readers are then written out as one Python function per plan
(:func:`_generate`), compiled once: a record costs one call, its children a few tag comparisons
each, and the usual field a few lines of its own (a slot that feeds one field of one value keeps
just its first non-blank text). The generated source holds only identifiers, numbers and
punctuation the generator makes; every tag, attribute, name, XPath and converter reaches it
through the function's namespace, never as text pasted into code (``plans_test`` checks).

:func:`compile_out` does the same for ``map_out``: each out-field's place in the host's element,
with where it goes among its siblings in the XSD's order, is worked out once.

A plan belongs to one :class:`~ctm_plugin.mappings.engine.Mapping`, which is immutable: a
mission's new override document makes new mappings, hence new plans.
"""

from __future__ import annotations

import dataclasses
from collections import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ctm_plugin.codelists import CodeList
from ctm_plugin.i18n import N_, _

from .converters import BUILT_IN, ConversionError
from .records import NS, Layout, RecordType
from .schema import NOT_A_CTM_CODE, FieldMapping
from .xpaths import PLAIN, Target

NOT_FOUND = N_("Required, but none of its XPaths found a value.")
NO_VALUE = N_("Required, but the record has no value for it.")
NOT_A_LIST = N_("Expected a list of values.")
NOT_AN_ITEM = N_("Expected each item to be a table of its parts.")


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


def _tag(local: str) -> str:
    return f"{{{NS}}}{local}"


# -- in: the walk -----------------------------------------------------------------------------


class _Step:
    """An element the walk stops at: what it feeds, and the steps below it. (An element that
    feeds only its text to one slot, with nothing below it, is that slot's number instead.)"""

    __slots__ = ("attributes", "children", "elements", "text")

    def __init__(self) -> None:
        self.children: dict[Any, _Step | int] = {}
        self.text: int | None = None
        """The slot its ``.text`` goes to (``None`` included: it also says the element is there)."""
        self.elements: int | None = None
        """The slot the element itself goes to (a field with parts reads its items from it)."""
        self.attributes: tuple[tuple[str, int], ...] = ()
        """(attribute, slot) for the attributes read of it."""


Reader = Callable[[list[list[Any]], etree._Element, str, list[FieldError]], Any]
"""(the walk's hits, the element walked, the label's prefix, errors) → the field's value: for a field
the generated function does not read inline (several XPaths, or one the walk cannot take)."""


_NOTHING: list[list[Any]] = []
"""The hits of a plan that walks nothing (its readers read the element's own attributes)."""


@dataclass(frozen=True)
class _Inline:
    """A field the generated function reads inline: from a slot of the walk (its first non-blank
    text, or each of them for a list) or from an attribute of the element walked itself."""

    name: str
    xpath: str
    slot: int | None
    attribute: str | None
    there: int | bool
    """For a ``default``: the slot that says the element is there, or ``True``."""
    to_ctm: Callable[[str, abc.Mapping[str, Any]], Any] | None
    """``None`` when the text is the value."""
    params: abc.Mapping[str, Any]
    codes: frozenset[str] | None
    absent: Callable[[str, list[FieldError], Any], Any] | None
    """The value (and errors) when no XPath finds one; ``None`` when that is just ``None`` (or ``[]``)."""
    many: bool


Run = Callable[[etree._Element, str, list[FieldError]], dict[str, Any]]
"""(the element, the label's prefix, errors) → the values of the plan's fields."""


@dataclass(frozen=True)
class _Items:
    """A field with parts the generated function reads inline: the items a slot of the walk gathers,
    each read by the parts' own plan."""

    name: str
    slot: int
    plan: InPlan


@dataclass(frozen=True)
class InPlan:
    """One walk over a record (or an item of a field with parts) and a reader per field."""

    steps: dict[Any, _Step | int]
    slots: int
    fields: tuple[tuple[str, Reader | _Inline | _Items], ...]
    fallbacks: tuple[str, ...]
    """The XPaths the walk cannot take, evaluated as XPaths (none in the default mappings)."""
    uses: tuple[int, ...]
    """How many readers each slot feeds."""
    run: Run = dataclasses.field(init=False, repr=False, compare=False)
    """The generated function: the walk and the readers, for one record."""
    source: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        source, run = _generate(self)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "run", run)


class _Builder:
    """Gives each distinct thing a walk gathers one slot, and builds the tree of steps."""

    def __init__(self) -> None:
        self.root: dict[Any, _Step] = {}
        self.slots: dict[tuple[Any, ...], int] = {}
        self.uses: list[int] = []
        """How many of the fields' XPaths (or their defaults' elements) each slot was handed to."""
        self.fallbacks: list[str] = []

    def _step(self, steps: tuple[str, ...]) -> _Step:
        children, step = self.root, None
        for tag in steps:
            step = children.setdefault(tag, _Step())
            children = step.children  # type: ignore[assignment]  # all _Step until finished
        assert step is not None  # a walked path has at least one element step
        return step

    def _slot(self, key: tuple[Any, ...]) -> tuple[int, bool]:
        new = key not in self.slots
        if new:
            self.slots[key] = len(self.slots)
            self.uses.append(0)
        self.uses[self.slots[key]] += 1
        return self.slots[key], new

    def text(self, steps: tuple[str, ...]) -> int:
        slot, new = self._slot(("text", steps))
        if new:
            self._step(steps).text = slot
        return slot

    def elements(self, steps: tuple[str, ...]) -> int:
        slot, new = self._slot(("elements", steps))
        if new:
            self._step(steps).elements = slot
        return slot

    def attribute(self, steps: tuple[str, ...], name: str) -> int:
        slot, new = self._slot(("attribute", steps, name))
        if new:
            step = self._step(steps)
            step.attributes = (*step.attributes, (name, slot))
        return slot

    def plan(self, fields: tuple[tuple[str, Reader | _Inline | _Items], ...]) -> InPlan:
        return InPlan(_finished(self.root), len(self.slots), fields, tuple(self.fallbacks), tuple(self.uses))


def _finished(children: abc.Mapping[Any, _Step | int]) -> dict[Any, _Step | int]:
    """The steps, those that only feed their text as their slot's number."""
    found: dict[Any, _Step | int] = {}
    for tag, step in children.items():
        assert isinstance(step, _Step)
        step.children = _finished(step.children)
        only_text = step.text is not None and step.elements is None and not step.attributes and not step.children
        found[tag] = step.text if only_text and step.text is not None else step
    return found


@dataclass(frozen=True)
class _Source:
    """Where one of a field's XPaths finds its values."""

    slot: int | None
    """The walk's slot of its raw values (``None`` or blank ones included), in document order."""
    there: int | bool
    """For a ``default``: the slot that says the element an ``@attr`` XPath reads is there (or ``True``)."""
    xpath: etree.XPath | None = None
    """For a path the walk cannot take, its compiled XPath, and ``owner`` in place of ``there``."""
    owner: etree.XPath | None = None
    attribute: str | None = None
    """For a bare ``@attr``: read from the element walked itself, no slot needed."""

    def texts(self, hits: list[list[Any]], node: etree._Element) -> list[Any]:
        if self.slot is not None:
            return hits[self.slot]
        if self.attribute is not None:
            value = node.get(self.attribute)
            return [] if value is None else [value]
        assert self.xpath is not None
        return [hit if isinstance(hit, str) else hit.text for hit in self.xpath(node)]

    def is_there(self, hits: list[list[Any]], node: etree._Element) -> bool:
        if self.attribute is not None:
            return True
        if self.xpath is not None:
            return self.owner is not None and bool(self.owner(node))
        return self.there is True or bool(hits[self.there])


def _source(path: str, index: int, field: FieldMapping, builder: _Builder) -> _Source:
    """How the walk (or, for a path it cannot take, the compiled XPath) finds ``path``'s values."""
    if PLAIN.fullmatch(path) is None:
        builder.fallbacks.append(path)
        return _Source(None, False, field.compiled[index], field.owners[index] if field.owners else None)
    target = Target.of(path)
    assert target is not None  # a plain path
    steps = tuple(map(_tag, target.steps))
    if target.attribute is None:
        return _Source(builder.text(steps), True)  # only @attr paths take a default
    if not steps:
        return _Source(None, True, attribute=target.attribute)
    slot = builder.attribute(steps, target.attribute)
    # The element is there if it has text, even None: its text slot says so.
    there: int | bool = builder.text(steps) if field.default is not None else True
    return _Source(slot, there)


def _items(path: str, index: int, field: FieldMapping, builder: _Builder) -> _Source:
    """The elements ``path`` selects (a field with parts: its XPaths name elements)."""
    if PLAIN.fullmatch(path) is None:
        builder.fallbacks.append(path)
        return _Source(None, False, field.compiled[index])
    target = Target.of(path)
    assert target is not None and target.attribute is None and target.steps  # checked when the file loaded
    return _Source(builder.elements(tuple(map(_tag, target.steps))), True)


def _reader(field: FieldMapping, codelist: CodeList | None, builder: _Builder) -> Reader | _Inline | _Items:
    """The field's value from what the walk gathered; its errors as the XPaths would give them."""
    if field.parts:
        return _parts_reader(field, builder)
    sources = [_source(path, index, field, builder) for index, path in enumerate(field.xpaths)]
    name, xpaths, default, many = field.name, field.xpaths, field.default, field.cardinality == "many"
    required = field.cardinality == "required"
    to_ctm, params = field.converter.to_ctm, field.params
    codes = frozenset(codelist.values) if codelist is not None else None
    plain = to_ctm is BUILT_IN["text"].to_ctm and codes is None
    """The text is the value."""

    def convert(text: str, label: str, xpath: str, errors: list[FieldError]) -> tuple[bool, Any]:
        if plain:
            return True, text
        try:
            value = to_ctm(text, params)
        except ConversionError as error:
            errors.append(FieldError(label, xpath, error.msgid, error.params))
            return False, None
        if codes is not None and value not in codes:
            errors.append(FieldError(label, xpath, NOT_A_CTM_CODE, {"code": value, "field": name}))
            return False, None
        return True, value

    def absent(prefix: str, errors: list[FieldError], there: Any) -> Any:
        """A field that found no value (``there``: the hits that say its element is, or ``True``)."""
        if default is not None and there:
            ok, value = convert(default, prefix + name, xpaths[0], errors)
            return ([value] if ok else []) if many else value
        if required:
            errors.append(FieldError(prefix + name, xpaths[0], NOT_FOUND, {}))
        return [] if many else None

    if len(sources) == 1 and (sources[0].slot is not None or sources[0].attribute is not None and not many):
        # The usual field, read inline by the generated function.
        source = sources[0]
        return _Inline(
            name,
            xpaths[0],
            source.slot,
            source.attribute,
            source.there,
            None if plain else to_ctm,
            params,
            codes,
            absent if default is not None or required else None,
            many,
        )

    def read(hits: list[list[Any]], node: etree._Element, prefix: str, errors: list[FieldError]) -> Any:
        label, xpath, found = prefix + name, xpaths[0], []
        for index, source in enumerate(sources):
            found = [text for raw in source.texts(hits, node) if raw and (text := raw.strip())]
            if found:
                xpath = xpaths[index]
                break
            if default is not None and source.is_there(hits, node):
                xpath, found = xpaths[index], [default]
                break
        if not found and required:
            errors.append(FieldError(label, xpath, NOT_FOUND, {}))
        values = []
        for text in found if many else found[:1]:
            ok, value = convert(text, label, xpath, errors)
            if ok:
                values.append(value)
        return values if many else (values[0] if values else None)

    return read


def _parts_reader(field: FieldMapping, builder: _Builder) -> Reader | _Items:
    items = [_items(path, index, field, builder) for index, path in enumerate(field.xpaths)]
    inner = _compile_fields(field.parts, None)
    builder.fallbacks += inner.fallbacks
    name = field.name
    if len(items) == 1 and items[0].slot is not None:  # the usual list of items, read inline
        return _Items(name, items[0].slot, inner)

    def read(hits: list[list[Any]], node: etree._Element, prefix: str, errors: list[FieldError]) -> list[Any]:
        for source in items:
            if source.slot is not None:
                found = hits[source.slot]  # elements only
            else:
                assert source.xpath is not None
                found = [hit for hit in source.xpath(node) if not isinstance(hit, str)]
            if found:
                label, run = prefix + name, inner.run
                return [run(item, f"{label}[{n}].", errors) for n, item in enumerate(found, 1)]
        return []

    return read


def _compile_fields(fields: abc.Iterable[FieldMapping], record: RecordType | None) -> InPlan:
    builder = _Builder()
    readers = tuple(
        (field.name, _reader(field, record.slots[field.name].codelist if record else None, builder)) for field in fields
    )
    return builder.plan(readers)


class _Writer:
    """The source of a plan's function, and the namespace its names stand for."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "ConversionError": ConversionError,
            "FieldError": FieldError,
            "notacode": _not_a_code,
            "NOTHING": _NOTHING,
        }

    def name(self, kind: str, value: Any) -> str:
        """An identifier (``kind`` and a number, both ours) standing for ``value`` in the namespace."""
        assert kind.isidentifier() and kind.isalpha()
        found = f"{kind}{len(self.namespace)}"
        self.namespace[found] = value
        return found

    def line(self, depth: int, text: str) -> None:
        self.lines.append("    " * depth + text)


def _not_a_code(errors: list[FieldError], label: str, xpath: str, value: Any, name: str) -> None:
    errors.append(FieldError(label, xpath, NOT_A_CTM_CODE, {"code": value, "field": name}))


def _write_hit(writer: _Writer, slot: int, raw: str, firsts: abc.Container[int], indent: int) -> None:
    """``raw`` (an expression: the child's text or attribute) kept in its slot: a list of them all, or for
    a slot that only feeds one field of one value, the first non-blank one, stripped."""
    if slot not in firsts:
        writer.line(indent, f"h{slot}.append({raw})")
        return
    writer.line(indent, f"if t{slot} is None:")
    writer.line(indent + 1, f"raw = {raw}")
    writer.line(indent + 1, "if raw and (raw := raw.strip()):")
    writer.line(indent + 2, f"t{slot} = raw")


def _write_walk(
    writer: _Writer, children: dict[Any, _Step | int], firsts: abc.Container[int], parent: str, depth: int, indent: int
) -> None:
    """The loop over ``parent``'s children: each child's tag compared with the steps' (a child no step
    has, a comment's or a PI's whose tag is a function, matches none), then what its step feeds."""
    child, tag = f"c{depth}", f"tag{depth}"
    writer.line(indent, f"for {child} in {parent}:")
    writer.line(indent + 1, f"{tag} = {child}.tag")
    for number, (name, step) in enumerate(children.items()):
        writer.line(indent + 1, f"{'if' if number == 0 else 'elif'} {tag} == {writer.name('tag', name)}:")
        if isinstance(step, int):
            _write_hit(writer, step, f"{child}.text", firsts, indent + 2)
            continue
        if step.text is not None:
            _write_hit(writer, step.text, f"{child}.text", firsts, indent + 2)
        if step.elements is not None:
            writer.line(indent + 2, f"h{step.elements}.append({child})")
        for attribute, slot in step.attributes:
            name = writer.name("attribute", attribute)
            if slot in firsts:
                _write_hit(writer, slot, f"{child}.get({name})", firsts, indent + 2)
            else:
                writer.line(indent + 2, f"raw = {child}.get({name})")
                writer.line(indent + 2, "if raw is not None:")
                writer.line(indent + 3, f"h{slot}.append(raw)")
        if step.children:
            _write_walk(writer, step.children, firsts, child, depth + 1, indent + 2)


def _write_inline(writer: _Writer, inline: _Inline, firsts: abc.Container[int], value: str) -> None:
    """``value`` = the field's first non-blank text (each of them for a list), converted, or what
    ``absent`` makes of none."""
    many, found = inline.many, f"found{value}"
    tracks = many and inline.absent is not None
    """A list that finds no value asks ``absent`` (else it stays ``[]``)."""
    if many:
        writer.line(1, f"{value} = []")
    if tracks:
        writer.line(1, f"{found} = False")
    looped = inline.slot is not None and inline.slot not in firsts
    """Read from the list of the slot's values (else from one value, stripped or ``None``)."""
    if looped:
        writer.line(1, f"for raw in h{inline.slot}:")
        writer.line(2, "if raw and (raw := raw.strip()):")
        indent = 3
    elif inline.slot is not None:
        writer.line(1, f"raw = t{inline.slot}")
        writer.line(1, "if raw is not None:")
        indent = 2
    else:
        writer.line(1, f"raw = element.get({writer.name('attribute', inline.attribute)})")
        writer.line(1, "if raw and (raw := raw.strip()):")
        indent = 2
    if tracks:
        writer.line(indent, f"{found} = True")
    keep = f"{value}.append(converted)"  # a list's converted value
    if inline.to_ctm is None:
        writer.line(indent, f"{value}.append(raw)" if many else f"{value} = raw")
    else:
        label, xpath = writer.name("name", inline.name), writer.name("xpath", inline.xpath)
        convert, params = writer.name("convert", inline.to_ctm), writer.name("params", inline.params)
        converted = "converted" if many else value
        writer.line(indent, "try:")
        writer.line(indent + 1, f"{converted} = {convert}(raw, {params})")
        writer.line(indent, "except ConversionError as error:")
        if not many:
            writer.line(indent + 1, f"{value} = None")
        writer.line(indent + 1, f"errors.append(FieldError(prefix + {label}, {xpath}, error.msgid, error.params))")
        if inline.codes is not None:
            writer.line(indent, "else:")
            writer.line(indent + 1, f"if {converted} not in {writer.name('codes', inline.codes)}:")
            writer.line(indent + 2, f"notacode(errors, prefix + {label}, {xpath}, {converted}, {label})")
            if many:
                writer.line(indent + 1, "else:")
                writer.line(indent + 2, keep)
            else:
                writer.line(indent + 2, f"{value} = None")
        elif many:
            writer.line(indent, "else:")
            writer.line(indent + 1, keep)
    if looped and not many:
        writer.line(indent, "break")
    if many:
        if tracks:
            writer.line(1, f"if not {found}:")
    else:
        writer.line(1, "else:")  # the for's, or the if's: no value
    if inline.absent is not None:
        there = "True" if inline.there is True else f"h{inline.there}"
        writer.line(2, f"{value} = {writer.name('absent', inline.absent)}(prefix, errors, {there})")
    elif not many:
        writer.line(2, f"{value} = None")


def _generate(plan: InPlan) -> tuple[str, Run]:
    """The plan as one function: the walk, then each field in the mapping's order (so are its errors)."""
    writer = _Writer()
    firsts = {
        read.slot
        for _, read in plan.fields
        if isinstance(read, _Inline) and not read.many and read.slot is not None and plan.uses[read.slot] == 1
    }
    writer.line(0, "def run(element, prefix, errors):")
    for slot in range(plan.slots):
        writer.line(1, f"t{slot} = None" if slot in firsts else f"h{slot} = []")
    if plan.steps:
        _write_walk(writer, plan.steps, firsts, "element", 0, 1)
    if any(not isinstance(read, _Inline | _Items) for _, read in plan.fields):
        hits = ", ".join("None" if slot in firsts else f"h{slot}" for slot in range(plan.slots))
        writer.line(1, f"hits = [{hits}]" if plan.slots else "hits = NOTHING")  # the slots other readers read
    values = []
    for number, (name, read) in enumerate(plan.fields):
        value = f"v{number}"
        if isinstance(read, _Inline):
            _write_inline(writer, read, firsts, value)
        elif isinstance(read, _Items):  # each item's fields are labelled "name[n].part"
            items, label = writer.name("items", read.plan.run), writer.name("name", read.name)
            writer.line(1, f"{value} = []")
            writer.line(1, f"for number, item in enumerate(h{read.slot}, 1):")
            writer.line(2, f'{value}.append({items}(item, f"{{prefix}}{{{label}}}[{{number}}].", errors))')
        else:
            writer.line(1, f"{value} = {writer.name('read', read)}(hits, element, prefix, errors)")
        values.append(f"{writer.name('name', name)}: {value}")
    writer.line(1, f"return {{{', '.join(values)}}}")
    source = "\n".join(writer.lines) + "\n"
    exec(compile(source, "<ctm_plugin.mappings.plans>", "exec"), writer.namespace)  # noqa: S102 - our identifiers only
    return source, writer.namespace["run"]


def compile_in(record: RecordType, fields: abc.Iterable[FieldMapping]) -> InPlan:
    """The plan that reads ``fields`` (the mapping's in-fields, in its order) from a ``record`` element."""
    return _compile_fields([field for field in fields if field.goes_in], record)


# -- out --------------------------------------------------------------------------------------

_Place = tuple[tuple[str, int, dict[Any, int]], ...]
"""Element steps to a value's place: (tag, its rank among its siblings, the siblings' ranks by tag)."""


def _place(layout: Layout, base: tuple[str, ...], steps: tuple[str, ...]) -> _Place:
    found, path = [], base
    for step in steps:
        order = layout.children["/".join(path)]
        ranks = {_tag(name): rank for rank, name in enumerate(order)}
        found.append((_tag(step), order.index(step), ranks))
        path = (*path, step)
    return tuple(found)


def descend(node: etree._Element, place: _Place, *, fresh: bool) -> etree._Element:
    """The element at ``place`` under ``node``, made where missing (the last one anew if ``fresh``)."""
    last = len(place) - 1
    for depth, (tag, rank, ranks) in enumerate(place):
        child = None if fresh and depth == last else node.find(tag)
        if child is None:
            # After its preceding siblings in the XSD's order (and after others like it).
            position = sum(1 for sibling in node if ranks[sibling.tag] <= rank)
            child = etree.SubElement(node, tag)
            if position < len(node) - 1:
                node.insert(position, child)
        node = child
    return node


@dataclass(frozen=True)
class OutField:
    field: FieldMapping
    place: _Place
    attribute: str | None
    parts: tuple[OutField, ...]


@dataclass(frozen=True)
class OutPlan:
    tag: str
    always: tuple[_Place, ...]
    fields: tuple[OutField, ...]

    def run(self, record: abc.Mapping[str, Any]) -> etree._Element:
        root = etree.Element(self.tag, nsmap={None: NS})
        for place in self.always:
            descend(root, place, fresh=False)
        errors: list[FieldError] = []
        for out in self.fields:
            _write(out, record.get(out.field.name), root, out.field.name, errors)
        if errors:
            raise RecordError(errors)
        return root


class RecordError(ValueError):
    """A record that cannot be written to the host; ``errors`` say which fields and why."""

    def __init__(self, errors: abc.Sequence[FieldError]) -> None:
        super().__init__(errors[0].message)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def _out_field(field: FieldMapping, layout: Layout, base: tuple[str, ...]) -> OutField:
    target = field.target
    assert target is not None  # an out-field's xpath is plain: checked when the mapping loads
    inner = (*base, *target.steps)
    return OutField(
        field,
        _place(layout, base, target.steps),
        target.attribute,
        tuple(_out_field(part, layout, inner) for part in field.parts),
    )


def compile_out(record: RecordType, fields: abc.Iterable[FieldMapping]) -> OutPlan:
    """The plan that writes ``fields`` (the mapping's out-fields, in its order) into a host element."""
    layout = record.layout
    return OutPlan(
        _tag(record.element_out),
        tuple(_place(layout, (), tuple(path.split("/"))) for path in layout.always),
        tuple(_out_field(field, layout, ()) for field in fields if field.goes_out),
    )


def _write(out: OutField, value: Any, node: etree._Element, label: str, errors: list[FieldError]) -> None:
    field = out.field
    if value is None:
        if field.cardinality == "required":
            errors.append(FieldError(label, field.xpaths[0], NO_VALUE, {}))
        return
    if field.cardinality != "many":
        _put(out, value, node, label, errors, fresh=False)
        return
    if not isinstance(value, list | tuple):
        errors.append(FieldError(label, field.xpaths[0], NOT_A_LIST, {}))
        return
    for n, item in enumerate(value, 1):
        if not out.parts:
            _put(out, item, node, label, errors, fresh=True)
        elif not isinstance(item, abc.Mapping):
            errors.append(FieldError(f"{label}[{n}]", field.xpaths[0], NOT_AN_ITEM, {}))
        else:
            element = descend(node, out.place, fresh=True)
            for part in out.parts:
                _write(part, item.get(part.field.name), element, f"{label}[{n}].{part.field.name}", errors)


def _put(out: OutField, value: Any, node: etree._Element, label: str, errors: list[FieldError], *, fresh: bool) -> None:
    field = out.field
    try:
        text = field.converter.to_host(value, field.params)
    except ConversionError as error:
        errors.append(FieldError(label, field.xpaths[0], error.msgid, error.params))
        return
    if text is None:
        return
    element = descend(node, out.place, fresh=fresh)
    if out.attribute:
        element.set(out.attribute, text)
    else:
        element.text = text
