"""A mission's CTM settings: how to reach the host's SOAP services, case numbering, project codes.

Mapping overrides are not settings: they are edited, versioned, on the integrators' mapping page."""

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from ctm_plugin.codelists.reintegration import PROVIDER_KIND
from ctm_plugin.domain.mission_time import TIME_ZONES
from ctm_plugin.domain.preparation import ALWAYS, ITEMS
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import NOT_IN_IDENTIFIER

CASE_PREFIX_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,11}\Z"
PROJECT_CODE_MAX = 40
"""The host's ``ProjectCodeType`` (mimosa.xsd) and the column a booking keeps it in."""
MAX_PROJECT_CODES = 50
RECEPTION_DEADLINE_HOURS = 72
"""Hours after an arrival within which the receiving mission records the reception, unless its settings say."""


def _encrypted_unless_loopback(url: str) -> None:
    """Victims' data and the WS-Security digest never cross a network in clear text."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return  # https, or not an address at all (the field says so itself)
    try:
        loopback = ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if not loopback:
        raise ValidationError(N_("Use https: only a host on this machine may be reached over plain http."))


class ProjectCodes(fields.Field):
    """The mission's project codes, typed one a line (or separated by commas); stored one a line.

    Each is a host ``ProjectCodeType`` (1 to 40 characters) with no control character; a code
    typed twice counts once, in the order first typed.
    """

    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "invalid": N_("Enter the project codes, one a line."),
        "code": N_("Each project code has 1 to 40 characters, none of them a control character."),
        "too_many": N_("Enter at most 50 project codes."),
    }

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else "\n".join(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        codes = split_codes(value)
        if any(len(code) > PROJECT_CODE_MAX or any(unicodedata.category(c)[0] == "C" for c in code) for code in codes):
            raise self.make_error("code")
        if len(codes) > MAX_PROJECT_CODES:
            raise self.make_error("too_many")
        return codes


def split_codes(text: str | None) -> list[str]:
    """The codes of a project-code list as typed or stored: one a line or comma-separated."""
    return list(dict.fromkeys(code.strip() for code in re.split(r"[,\n\r]", text or "") if code.strip()))


def project_codes(settings: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """The mission's project codes and its default, from its stored (dumped) settings."""
    codes = split_codes(settings.get("project_codes"))
    default = settings.get("default_project_code")
    return codes, default if default in codes else (codes[0] if codes else None)


class Lines(fields.Field):
    """A list typed one item a line, each ``key: value``; stored one a line, as typed but trimmed.

    ``keys`` (when given) are the keys allowed; an item typed twice counts once.
    """

    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "invalid": N_("Write one item a line, as key: value."),
        "too_many": N_("Enter at most 200 lines."),
        "too_long": N_("Each line has at most 120 characters after its key."),
    }

    def __init__(self, *, keys: tuple[str, ...] = (), line_error: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keys = keys
        if line_error:
            self.error_messages = {**self.error_messages, "invalid": line_error}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else "\n".join(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        items = []
        for line in (raw.strip() for raw in value.splitlines()):
            if not line:
                continue
            key, colon, rest = (part.strip() for part in line.partition(":"))
            if not colon or not key or not rest or (self.keys and key not in self.keys):
                raise self.make_error("invalid")
            if NOT_IN_IDENTIFIER.search(line):
                raise self.make_error("invalid")
            if len(rest) > 120 or len(key) > PROJECT_CODE_MAX:
                raise self.make_error("too_long")
            items.append(f"{key}: {rest}")
        items = list(dict.fromkeys(items))
        if len(items) > 200:
            raise self.make_error("too_many")
        return items


def pairs(settings: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    """A :class:`Lines` setting's (key, value) pairs, from the stored settings."""
    lines = settings.get(name)
    if isinstance(lines, str):
        lines = lines.splitlines()
    return [(key.strip(), rest.strip()) for key, _, rest in (line.partition(":") for line in lines or ())]


class Months(fields.Field):
    """Whole months after the arrival, typed separated by commas; stored as a sorted list of numbers."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "invalid": N_("Enter whole numbers of months from 1 to 120, separated by commas, e.g. 3, 6, 12."),
    }

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else ", ".join(str(month) for month in value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[int]:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        parts = [part.strip() for part in re.split(r"[,;\s]+", value) if part.strip()]
        if (
            not parts
            or len(parts) > 12
            or not all(part.isascii() and part.isdigit() and len(part) < 4 for part in parts)
        ):
            raise self.make_error("invalid")
        months = sorted({int(part) for part in parts})
        if months[0] < 1 or months[-1] > 120:
            raise self.make_error("invalid")
        return months


class VulnerabilityCodes(fields.Field):
    """Host vulnerability codes typed separated by commas (e.g. VOT, UAM); each once, in the order typed."""

    default_error_messages = {  # noqa: RUF012 - marshmallow's own convention
        "invalid": N_("Enter host vulnerability codes separated by commas, among VOT, UAM, SMC, MED and OTH."),
    }

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else ", ".join(value)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        codes = list(dict.fromkeys(part.strip().upper() for part in re.split(r"[,;\s]+", value) if part.strip()))
        if not codes or any(code not in VULNERABILITY_CODES for code in codes):
            raise self.make_error("invalid")
        return codes


VULNERABILITY_CODES = ("VOT", "UAM", "SMC", "MED", "OTH")
"""The host's ``VulnerabilityCodeType`` (HOST_CONTRACT.md)."""
SCREENING_VULNERABILITIES = ("VOT",)
MONITORING_MONTHS = (3, 6, 12)
SCORE_FALL = Decimal("0.1")
RISK_ALERT_THRESHOLD = 3
RETENTION_CLOSED_CASE_YEARS = 10
RETENTION_AUDIT_YEARS = 10
RETENTION_OUTBOX_DAYS = 30


def _whole_number(
    default: int, maximum: int, error: str, label: str, description: str, minimum: int = 1
) -> fields.Integer:
    """A whole number from ``minimum`` to ``maximum``, ``default`` when not given; one message for every wrong entry."""
    return fields.Integer(
        load_default=default,
        strict=False,
        validate=validate.Range(min=minimum, max=maximum, error=error),
        error_messages={"invalid": error, "too_large": error},
        metadata={"label": label, "description": description},
    )


def _requires(code: str, label: str) -> fields.Boolean:
    """Whether the mission requires one item of the return checklist before a booking."""
    default = next(item.default for item in ITEMS if item.code == code)
    return fields.Boolean(
        load_default=default,
        metadata={"label": label, "description": N_("Required before a return is booked.")},
        error_messages={"invalid": N_("Choose yes or no.")},
    )


def required_items(settings: Mapping[str, Any]) -> frozenset[str]:
    """The checklist items the mission requires before a return is booked, from its stored settings.

    A document saved before the checklist existed requires the default set; the consent to return
    is always required, and the children's items always apply to a child.
    """
    chosen = {item.code for item in ITEMS if settings.get(f"return_requires_{item.code}", item.default)}
    return frozenset(chosen | ALWAYS)


def _printable(value: str) -> None:
    """An identifier or a credential goes into every request's WS-Security header: XML cannot carry
    control characters, and a value no one can type is a mistake, not a password."""
    if NOT_IN_IDENTIFIER.search(value):
        raise ValidationError(N_("Remove the control characters from this value."))


class MissionSettingsSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True

    soap_base_url = fields.Url(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=[
            validate.Length(max=400, error=N_("Enter at most 400 characters.")),
            _printable,
            _encrypted_unless_loopback,
        ],
        metadata={
            "label": N_("Host SOAP base URL"),
            "description": N_("The address the host's SOAP services live under, e.g. https://mimosa.example/"),
        },
        error_messages={
            "invalid": N_("Enter a full http or https address."),
            "required": N_("This field is required."),
        },
    )
    soap_username = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=80, error=N_("Enter between 1 and 80 characters.")), _printable],
        metadata={"label": N_("SOAP API user")},
        error_messages={"required": N_("This field is required.")},
    )
    soap_password = fields.String(
        required=True,
        # The host issued it: any length it chose up to the column's, no rule of the CTM's own.
        validate=[validate.Length(min=1, max=200, error=N_("Enter between 1 and 200 characters.")), _printable],
        metadata={"label": N_("SOAP API password"), "secret": True},
        error_messages={"required": N_("This field is required.")},
    )
    case_number_prefix = fields.String(
        load_default="CT",
        validate=validate.Regexp(
            CASE_PREFIX_PATTERN,
            error=N_("Use 1 to 12 capital letters, digits or hyphens, starting with a letter or digit."),
        ),
        metadata={
            "label": N_("Case number prefix"),
            "description": N_("Case numbers in this mission start with it, e.g. CT-2026-00042."),
        },
    )
    project_codes = ProjectCodes(
        metadata={
            "label": N_("Project codes"),
            "description": N_(
                "The host's codes of this mission's projects, one a line: a return is booked under one of them."
            ),
            "multiline": True,
        },
    )
    default_project_code = fields.String(
        metadata={
            "label": N_("Default project code"),
            "description": N_("One of the project codes, preselected when a return is booked; blank: the first."),
        },
    )

    time_zone = fields.String(
        load_default="UTC",
        validate=validate.OneOf(TIME_ZONES, error=N_("Choose a time zone from the list.")),
        metadata={
            "label": N_("Time zone"),
            "description": N_("Dates and times of this mission's cases are shown, and judged, in it."),
        },
    )

    case_close_requires_approval = fields.Boolean(
        load_default=False,
        metadata={
            "label": N_("Closing a case needs a supervisor's approval"),
            "description": N_("A caseworker's closing waits until a supervisor, not the caseworker, approves it."),
        },
        error_messages={"invalid": N_("Choose yes or no.")},
    )

    # The return checklist (the consent to return and a child's items are always required).
    return_requires_counselling = _requires("counselling", N_("Return checklist: pre-departure counselling"))
    return_requires_travel_document = _requires("travel_document", N_("Return checklist: travel document"))
    return_requires_fitness = _requires("fitness", N_("Return checklist: fitness to travel"))
    return_requires_escort = _requires("escort", N_("Return checklist: escort need"))
    return_requires_risk = _requires("risk", N_("Return checklist: risk assessment"))
    return_requires_family_tracing = _requires("family_tracing", N_("Return checklist: family tracing"))
    return_requires_family_assessment = _requires("family_assessment", N_("Return checklist: family assessment"))
    return_requires_consent_handover = _requires("consent_handover", N_("Return checklist: consent to the hand-over"))
    reception_deadline_hours = _whole_number(
        RECEPTION_DEADLINE_HOURS,
        720,
        N_("Enter a whole number of hours from 1 to 720."),
        N_("Reception deadline (hours)"),
        N_("People handed over to this mission are to be received within this many hours of their arrival."),
    )

    # Reintegration and monitoring (in the mission that holds the case after a hand-over).
    reintegration_providers = Lines(
        keys=PROVIDER_KIND.values,
        line_error=N_("Write one provider a line, as kind: name, the kind one of NGO, Government, IOM, Other."),
        metadata={
            "label": N_("Reintegration providers"),
            "description": N_(
                "The organisations that deliver reintegration assistance in this mission, one a line, e.g. "
                "NGO: Hope Foundation."
            ),
            "multiline": True,
        },
    )
    project_donors = Lines(
        line_error=N_("Write one project a line, as project code: donor."),
        metadata={
            "label": N_("Donors of the projects"),
            "description": N_("The donor of each project code, one a line, e.g. THA-CT-01: Example Donor."),
            "multiline": True,
        },
    )
    monitoring_months = Months(
        load_default=lambda: list(MONITORING_MONTHS),
        metadata={
            "label": N_("Monitoring visits (months after arrival)"),
            "description": N_("When reintegration monitoring visits are due, e.g. 3, 6, 12."),
        },
    )
    screening_vulnerabilities = VulnerabilityCodes(
        load_default=lambda: list(SCREENING_VULNERABILITIES),
        metadata={
            "label": N_("Vulnerabilities that call for screening"),
            "description": N_(
                "Host beneficiaries flagged with one of these codes and without a case are listed under People "
                "to screen, e.g. VOT."
            ),
        },
    )
    score_fall = fields.Decimal(
        load_default=SCORE_FALL,
        as_string=True,
        allow_nan=False,
        validate=validate.Range(min=Decimal("0.01"), max=1, error=N_("Enter a number from 0.01 to 1.")),
        error_messages={
            "invalid": N_("Enter a number from 0.01 to 1."),
            "special": N_("Enter a number from 0.01 to 1."),
        },
        metadata={
            "label": N_("Fall in a sustainability score that is flagged"),
            "description": N_("A drop of at least this much in any dimension between two surveys is flagged."),
        },
    )
    risk_alert_threshold = _whole_number(
        RISK_ALERT_THRESHOLD,
        20,
        N_("Enter a whole number from 1 to 20."),
        N_("Re-trafficking risk alert threshold"),
        N_("A case whose last visit found this many risk indicators is listed for the supervisor."),
    )

    # Retention (services/retention.py): how long what is no longer needed is kept, then purged.
    retention_closed_case_years = _whole_number(
        RETENTION_CLOSED_CASE_YEARS,
        100,
        N_("Enter a whole number of years from 1 to 100."),
        N_("Retention of closed cases (years)"),
        N_("A case closed this many years ago is deleted with everything recorded under it."),
    )
    retention_audit_years = _whole_number(
        RETENTION_AUDIT_YEARS,
        100,
        N_("Enter a whole number of years from 1 to 100."),
        N_("Retention of the audit trail (years)"),
        N_("Audit events older than this are deleted, after a signed checkpoint closes that part of the trail."),
    )
    retention_outbox_days = _whole_number(
        RETENTION_OUTBOX_DAYS,
        3650,
        N_("Enter a whole number of days from 0 to 3650."),
        N_("Retention of messages sent to the host (days)"),
        N_(
            "What a message to the host carried is erased this many days after it was done or discarded; "
            "the message's date and outcome stay in the exchange history."
        ),
        minimum=0,
    )

    @validates_schema
    def _donors_of_known_projects(self, data: dict[str, Any], **_kwargs: Any) -> None:
        codes = data.get("project_codes") or []
        if any(code not in codes for code, _donor in pairs(data, "project_donors")):
            raise ValidationError(N_("Each project code here must be one of the project codes."), "project_donors")

    @validates_schema
    def _default_among_codes(self, data: dict[str, Any], **_kwargs: Any) -> None:
        default = (data.get("default_project_code") or "").strip()
        if default and default not in data.get("project_codes", []):
            raise ValidationError(
                N_("The default project code must be one of the project codes."), "default_project_code"
            )

    @post_load
    def _default_is_set(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        """With codes, the default is stored (the first unless chosen); without, neither is."""
        codes = data.pop("project_codes", None)
        default = (data.pop("default_project_code", None) or "").strip()
        if codes:
            data["project_codes"], data["default_project_code"] = codes, default or codes[0]
        return data


@cache
def _fields() -> dict[str, fields.Field]:
    """The schema's fields, bound once: a schema is built field by field (a quarter of a millisecond), and a page
    reads a setting or three (the due count in the menu, the tab's own). Reading through a field keeps no state."""
    return dict(MissionSettingsSchema().fields)


def _stored(settings: Mapping[str, Any], name: str) -> Any:
    """A stored setting read back through its field; its default when absent (saved before it existed) or wrong."""
    f = _fields()[name]
    value = settings.get(name)
    if value is not None:
        try:
            return f.deserialize(value)
        except ValidationError:
            pass
    return f.load_default() if callable(f.load_default) else f.load_default


def providers(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The mission's reintegration providers as (kind, name), in the order typed."""
    return pairs(settings, "reintegration_providers")


def donor_of(settings: Mapping[str, Any], project_code: str | None) -> str | None:
    """The donor the mission names for a project code, if it names one."""
    return dict(pairs(settings, "project_donors")).get(project_code or "")


def monitoring_months(settings: Mapping[str, Any]) -> list[int]:
    return list(_stored(settings, "monitoring_months"))


def score_fall(settings: Mapping[str, Any]) -> Decimal:
    return Decimal(_stored(settings, "score_fall"))


def reception_deadline_hours(settings: Mapping[str, Any]) -> int:
    """The mission's reception deadline; the default for settings saved before it existed."""
    return int(_stored(settings, "reception_deadline_hours"))


def case_close_requires_approval(settings: Mapping[str, Any]) -> bool:
    """Whether closing a case waits for a supervisor's approval; no, for settings saved before it existed."""
    return bool(_stored(settings, "case_close_requires_approval"))


def risk_alert_threshold(settings: Mapping[str, Any]) -> int:
    return int(_stored(settings, "risk_alert_threshold"))


def screening_vulnerabilities(settings: Mapping[str, Any]) -> list[str]:
    return list(_stored(settings, "screening_vulnerabilities"))


def retention_closed_case_years(settings: Mapping[str, Any]) -> int:
    return int(_stored(settings, "retention_closed_case_years"))


def retention_audit_years(settings: Mapping[str, Any]) -> int:
    return int(_stored(settings, "retention_audit_years"))


def retention_outbox_days(settings: Mapping[str, Any]) -> int:
    return int(_stored(settings, "retention_outbox_days"))
