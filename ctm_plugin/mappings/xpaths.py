"""The XPaths a mapping file may use: a subset that can only look down into the record.

A path is relative to the record (or, for a field's parts, to the element the field selects):
child steps ``m:Name``, each with optional ``[n]`` or ``[@attr='value']`` predicates, and
optionally an ``@attr`` last. No functions (so no ``document()``), no axes, no ``//``, no ``..``,
no variables: nothing reaches outside the record or depends on anything but the document.
A path a value is written to (a field's first XPath, when it goes out) has no predicates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .records import PREFIXES

_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_PREDICATE = rf"\[(?:[1-9][0-9]*|@{_NAME}\s*=\s*(?:'[^']*'|\"[^\"]*\"))\]"
_STEP = rf"m:{_NAME}(?:{_PREDICATE})*"
SAFE = re.compile(rf"{_STEP}(?:/{_STEP})*(?:/@{_NAME})?|@{_NAME}")
PLAIN = re.compile(rf"m:{_NAME}(?:/m:{_NAME})*(?:/@{_NAME})?|@{_NAME}")


def compile_xpath(path: str) -> etree.XPath:
    """Raises ``etree.XPathSyntaxError``."""
    return etree.XPath(path, namespaces=PREFIXES, smart_strings=False)


def is_safe(path: str) -> bool:
    return SAFE.fullmatch(path) is not None


def ends_with_attribute(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith("@")


def owner(path: str) -> str:
    """The element an ``@attr`` path reads the attribute of (``.`` for a bare ``@attr``)."""
    return path.rsplit("/", 1)[0] if "/" in path else "."


@dataclass(frozen=True)
class Target:
    """Where a value is written: element steps (local names) and maybe an attribute of the last one."""

    steps: tuple[str, ...]
    attribute: str | None

    @classmethod
    def of(cls, path: str) -> Target | None:
        """``None`` for a path with predicates (it cannot be written to)."""
        if PLAIN.fullmatch(path) is None:
            return None
        parts = path.split("/")
        attribute = parts.pop()[1:] if parts[-1].startswith("@") else None
        return cls(tuple(part.removeprefix("m:") for part in parts), attribute)

    def element_path(self, base: tuple[str, ...] = ()) -> str:
        return "/".join((*base, *self.steps))
