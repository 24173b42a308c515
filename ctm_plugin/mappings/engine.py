"""Mappings in force, and records mapped through them.

The default mappings ship in ``default/``; a mission's override document (its newest revision
on the integrators' mapping page) replaces some of their fields. A mapping's ``version`` is what
synced records are stamped with: the file's version, followed by ``+m`` and the override
document's version when a mission overrides it ("1+m3"), so an integrator can tell which files a record went through.

``map_in`` reads what the mapping's in-fields say from a host element; ``map_out`` builds the
host element from the out-fields alone, in the XSD's order: a record's other keys never
reach the XML (security.md DP-06). Both run the plan (plans.py) each mapping is compiled into
the first time it maps a record.
"""

from __future__ import annotations

from collections import abc
from dataclasses import dataclass, replace
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from .plans import (
    NO_VALUE,
    NOT_A_LIST,
    NOT_AN_ITEM,
    NOT_FOUND,
    FieldError,
    InPlan,
    OutPlan,
    RecordError,
    compile_in,
    compile_out,
)
from .problems import MappingError, Problem, Source
from .records import RECORDS, RecordType
from .schema import FieldMapping, check_file, check_overrides, check_record, check_tables

__all__ = [
    "NOT_AN_ITEM",
    "NOT_A_LIST",
    "NOT_FOUND",
    "NO_VALUE",
    "FieldError",
    "MappedRecord",
    "Mapping",
    "MappingError",
    "RecordError",
    "default_mappings",
    "effective_mappings",
    "load_mapping",
    "map_in",
    "map_out",
    "parse_mapping",
    "with_overrides",
]

DEFAULT_DIR = Path(__file__).parent / "default"
OVERRIDES = "mapping_overrides"
"""The name problems in a mission's override document give as their file."""


@dataclass(frozen=True)
class Mapping:
    id: str
    version: str
    """The file's version ("3"), and a mission's override version after it ("3+m2")."""
    record: RecordType
    fields: dict[str, FieldMapping]
    source: str
    description: str = ""

    # A mapping never changes once loaded (a mission's new overrides make new mappings), so each
    # is compiled once, when first used: what ``map_in`` and ``map_out`` run (plans.py).

    @cached_property
    def plan_in(self) -> InPlan:
        return compile_in(self.record, self.fields.values())

    @cached_property
    def plan_out(self) -> OutPlan:
        return compile_out(self.record, self.fields.values())

    @cached_property
    def _plans_in_of(self) -> dict[frozenset[str], InPlan]:
        return {}

    def plan_in_of(self, names: frozenset[str]) -> InPlan:
        """The plan reading only the in-fields among ``names``, compiled once per set: a caller that needs a
        field or two of many records (the pull, of the records that refresh no case) skips the rest's work."""
        plan = self._plans_in_of.get(names)
        if plan is None:
            plan = self._plans_in_of[names] = compile_in(
                self.record, [f for f in self.fields.values() if f.name in names]
            )
        return plan


@dataclass(frozen=True)
class MappedRecord:
    mapping_id: str
    mapping_version: str
    values: dict[str, Any]
    """Every in-field of the mapping: ``None`` (or ``[]``) when the host has no value."""
    errors: tuple[FieldError, ...]


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


# -- in and out -------------------------------------------------------------------------------


def map_in(mapping: Mapping, element: etree._Element, only: frozenset[str] | None = None) -> MappedRecord:
    """The CTM's values for the mapping's in-fields (those named in ``only`` when given, read as the whole
    mapping reads them), read from the host's record ``element``."""
    errors: list[FieldError] = []
    plan = mapping.plan_in if only is None else mapping.plan_in_of(only)
    values = plan.run(element, "", errors)
    return MappedRecord(mapping.id, mapping.version, values, tuple(errors))


def map_out(mapping: Mapping, record: abc.Mapping[str, Any]) -> etree._Element:
    """The host element for ``record``, from the mapping's out-fields only; :class:`RecordError`."""
    return mapping.plan_out.run(record)
