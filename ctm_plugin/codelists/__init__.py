"""Every code list of the CTM, defined once: stable codes (HTCDS value names where HTCDS has
them) with English msgids as labels, translated through the ``ctm_plugin`` domain.

Models store the codes, schemas validate against :meth:`CodeList.validator`, forms list
:meth:`CodeList.choices`, and later mappings and exports read the same lists. Countries
and languages take their labels from the CLDR data that Babel ships.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from marshmallow import validate

from ctm_plugin import i18n


@dataclass(frozen=True)
class Code:
    value: str
    label: str
    """An English msgid of the ``ctm_plugin`` domain."""
    parent: str | None = None
    """For tiered lists (ISIC): the code one tier up."""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    """Cross-references, e.g. the HTCDS support-plan type of an assistance service."""


class CodeList:
    """An ordered, immutable list of codes with translated labels."""

    def __init__(self, name: str, codes: Iterable[Code]) -> None:
        self.name = name
        self.codes = tuple(codes)
        self._by_value = {code.value: code for code in self.codes}
        if len(self._by_value) != len(self.codes):
            raise ValueError(f"code list {name}: duplicate codes")

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)

    def __contains__(self, value: object) -> bool:
        return value in self._by_value

    def __getitem__(self, value: str) -> Code:
        return self._by_value[value]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(code.value for code in self.codes)

    def label(self, value: str | None) -> str:
        """The label in the current language; an unknown or missing code reads as a dash."""
        code = self._by_value.get(value) if value is not None else None
        return self._translate(code) if code else "—"

    def labels(self, values: Iterable[str] | None) -> list[str]:
        return [self.label(value) for value in values or ()]

    def choices(self) -> list[tuple[str, str]]:
        """(code, label) pairs in the list's order, labelled in the current language."""
        return [(code.value, self._translate(code)) for code in self.codes]

    def validator(self) -> validate.OneOf:
        return validate.OneOf(self.values, error=i18n.N_("Choose a value from the list."))

    def _translate(self, code: Code) -> str:
        return i18n._(code.label)


def labelled(name: str, pairs: Iterable[tuple[str, str]]) -> CodeList:
    """A flat list from (code, msgid) pairs."""
    return CodeList(name, (Code(value, label) for value, label in pairs))


def all_lists() -> dict[str, CodeList]:
    """Every code list of the CTM by its name, HTCDS lists first, then the CTM's, then geography."""
    from . import closure, geo, htcds, process, reintegration  # here, not at the top: those modules import this one

    lists: dict[str, CodeList] = {}
    for module in (htcds, process, reintegration, closure, geo):
        for value in vars(module).values():
            if isinstance(value, CodeList) and lists.setdefault(value.name, value) is not value:
                raise ValueError(f"two code lists are named {value.name}")
    return lists
