"""From a posted form to the plain dict a schema loads, and back to what a page shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import request
from marshmallow import Schema, fields


def form_data(schema: type[Schema]) -> dict[str, Any]:
    """The posted fields as the schema expects them.

    Unknown names are passed on so the schema refuses them; an unticked checkbox is False
    and a multi-select with nothing chosen is an empty list, so clearing a field works.
    """
    data: dict[str, Any] = {name: value for name, value in request.form.items() if name != "csrf_token"}
    for name, f in schema().fields.items():
        if isinstance(f, fields.List):
            data[name] = request.form.getlist(name)
        elif isinstance(f, fields.Boolean):
            data[name] = name in request.form
    return data


@dataclass
class FormState:
    """Which form failed on this page, its errors per field, and what the user had typed."""

    name: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    submitted: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None
    """A message about the whole form, e.g. someone else saved the case meanwhile."""

    def errors_of(self, form: str, name: str) -> list[str]:
        return self.errors.get(name, []) if form == self.name else []

    def value(self, form: str, name: str, stored: Any = None) -> Any:
        """What the input shows: the user's own entry after a refusal, else the stored value."""
        if form == self.name:
            return self.submitted.get(name)
        return stored

    def problem_of(self, form: str) -> str | None:
        return self.problem if form == self.name else None
