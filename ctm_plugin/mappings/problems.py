"""Problems found in a mapping file or override document: what (a msgid) and where (file, keys, line).

TOML parsers give no positions but for syntax errors, so the line of a key is found by a scan
of the text for its ``[table]`` header and the key under it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ctm_plugin.i18n import N_, _

TOML_SYNTAX = N_("The file is not valid TOML: %(error)s")
TOO_DEEP = N_("Tables and lists are nested more than %(max)d deep.")

MAX_DEPTH = 16
"""How deep tables and lists may nest in a mapping file or override document: the defaults nest 6
deep, an override of their deepest field 7. Deeper documents are refused before the TOML parser,
which recurses."""


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    """Dotted keys, e.g. ``fields.gender.codes``; empty for the whole file."""
    message: str
    """A msgid; ``params`` fill it."""
    line: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = _(self.message, **self.params)
        return f"{where}: {self.path}: {text}" if self.path else f"{where}: {text}"


class MappingError(ValueError):
    """A mapping that cannot be used; ``problems`` lists all that were found, the first one's
    ``file``, ``path``, ``message`` (a msgid) and ``line`` are the error's own."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = tuple(problems)
        first = self.problems[0]
        self.file, self.path, self.message, self.line = first.file, first.path, first.message, first.line

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


_HEADER = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?")
_KEY = re.compile(r"\s*([\"']?)([A-Za-z0-9_-]+)\1\s*=")


def locate(text: str, path: Sequence[str]) -> int | None:
    """The line of the deepest ``[table]`` header ``path`` starts with, or of its next key in it.

    A scan, not a TOML parser: quoted keys holding dots and dotted keys are not followed.
    """
    lines = text.splitlines()
    depth, start = 0, -1
    for number, line in enumerate(lines):
        header = _HEADER.fullmatch(line)
        if header:
            keys = tuple(key.strip().strip("\"'") for key in header.group(1).split("."))
            if len(keys) > depth and tuple(path[: len(keys)]) == keys:
                depth, start = len(keys), number
    if depth < len(path):
        for number in range(start + 1, len(lines)):
            if _HEADER.fullmatch(lines[number]):
                break
            key = _KEY.match(lines[number])
            if key and key.group(2) == path[depth]:
                return number + 1
    return start + 1 if start >= 0 else None


@dataclass(frozen=True)
class Source:
    """A mapping file or override document, and where in it the tables being checked sit."""

    name: str
    text: str
    prefix: tuple[str, ...] = ()

    def problem(self, path: Sequence[str | int], message: str, **params: Any) -> Problem:
        keys = tuple(str(key) for key in (*self.prefix, *path))
        return Problem(self.name, ".".join(keys), message, locate(self.text, keys), params)

    def within(self, *keys: str) -> Source:
        return replace(self, prefix=(*self.prefix, *keys))


def read_toml(source: Source, parse_float: Callable[[str], Any] = float) -> dict[str, Any]:
    """The document's tables; :class:`MappingError` if it is not TOML or nests deeper than :data:`MAX_DEPTH`.

    ``parse_float`` reads TOML's floats (``Decimal`` keeps a scoring model's weights exact)."""
    too_deep = _bracket_too_deep(source.text)
    if too_deep is not None:
        raise MappingError([Problem(source.name, "", TOO_DEEP, too_deep, {"max": MAX_DEPTH})])
    try:
        data = tomllib.loads(source.text, parse_float=parse_float)
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        problem = Problem(source.name, "", TOML_SYNTAX, int(line.group(1)) if line else None, {"error": str(error)})
        raise MappingError([problem]) from None
    path = _path_too_deep(data)
    if path is not None:
        raise MappingError([source.problem(path, TOO_DEEP, max=MAX_DEPTH)])
    return data


_QUOTES = ('"""', "'''", '"', "'")


def _bracket_too_deep(text: str) -> int | None:
    """The line where ``[`` and ``{`` outside strings and comments first nest deeper than the limit.

    A scan, not a parser: whatever it misreads, the parser refuses after it.
    """
    depth, line, i = 0, 1, 0
    while i < len(text):
        c = text[i]
        quote = next((q for q in _QUOTES if text.startswith(q, i)), None)
        if quote:
            end = _string_end(text, i + len(quote), quote)
            line += text.count("\n", i, end)
            i = end
            continue
        if c == "#":
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if c == "\n":
            line += 1
        elif c in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return None


def _string_end(text: str, start: int, quote: str) -> int:
    """Just after the string that opened before ``start``; a one-line string ends at its line's end."""
    i = start
    while i < len(text):
        if text.startswith(quote, i):
            return i + len(quote)
        if text[i] == "\n" and len(quote) == 1:
            return i
        i += 2 if text[i] == "\\" and quote[0] == '"' else 1
    return len(text)


def _path_too_deep(data: dict[str, Any]) -> tuple[str, ...] | None:
    """The keys to the first value nested deeper than the limit (dotted keys nest without brackets)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return path
        if isinstance(value, dict):
            stack += [(item, (*path, str(key))) for key, item in value.items()]
        elif isinstance(value, list):
            stack += [(item, (*path, str(n))) for n, item in enumerate(value)]
    return None
