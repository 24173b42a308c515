"""What the form-schema tests share: fixed dates, loading, collecting the messages a schema gives.

Not a test module: the ``*_test.py`` files beside each schema import it.
"""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from marshmallow import ValidationError

from ctm_plugin import i18n
from ctm_plugin.schemas import base

TODAY = date(2026, 6, 15)
BIRTH = date(1990, 4, 2)
UNKNOWN_FIELD = "This field is not part of the form."


def load(schema: type[base.FormSchema], data: dict, birth_date: date | None = BIRTH) -> dict:
    return schema(birth_date=birth_date, today=TODAY).load(data)


def errors_for(schema: type[base.FormSchema], data: dict, birth_date: date | None = BIRTH) -> dict:
    with pytest.raises(ValidationError) as caught:
        load(schema, data, birth_date)
    return caught.value.normalized_messages()


def messages(errors: object) -> set[str]:
    """Every message of an error tree (list fields report theirs per index)."""
    if isinstance(errors, dict):
        return {m for value in errors.values() for m in messages(value)}
    if isinstance(errors, list):
        return {m for value in errors for m in messages(value)}
    return {str(errors)}


WRONG_VALUES = (None, 1, 1.5, True, "x", "z" * 5000, [], ["x"], [1], [None], {"a": 1}, "2999-01-01", "1800-01-01")


def msgids_marked_in(path: Path) -> set[str]:
    """The literal arguments of every ``N_(...)`` call in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", None) == "N_"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def produced_messages(schemas: tuple[type[base.FormSchema], ...], valid: dict) -> set[str]:
    """What the schemas answer to a wrong value in each field, to an empty form and to a non-form."""
    produced: set[str] = set()
    for schema in schemas:
        attempts = [{}, {"unknown": "x"}, ["not", "a", "form"]]
        attempts += [{**valid[schema], name: value} for name in schema().fields for value in WRONG_VALUES]
        for data in attempts:
            try:
                load(schema, data)
            except ValidationError as exc:
                produced |= messages(exc.messages)
    return produced


def refused_messages(valid: dict, schema: type[base.FormSchema], field: str, value: object) -> set[str]:
    """The messages for ``field`` when only it is wrong; fails if any other field is named."""
    errors = errors_for(schema, {**valid[schema], field: value})
    assert list(errors) == [field]
    return messages(errors[field])


def untranslated(
    locale: str, module: ModuleType, schemas: tuple[type[base.FormSchema], ...], valid: dict
) -> tuple[set[str], set[str]]:
    """(what the schemas answered, what of that or of the module's marked msgids has no translation)."""
    marked = msgids_marked_in(Path(base.__file__)) | msgids_marked_in(Path(module.__file__))
    produced = produced_messages(schemas, valid)
    catalog = i18n.translations(locale)
    return produced, {m for m in marked | produced if catalog.gettext(m) == m}
