"""The host's languages, its own catalog (domain ``mimosa_host``), and plugins' catalogs.

Plugins hand the host English msgids (labels, refusals, validation errors); the
host translates them through the plugin's domain first, then its own, so that
marshmallow's stock messages read in the viewer's language too.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = ("en", "fr", "es")
DEFAULT_LOCALE = "en"
DOMAIN = "mimosa_host"
CATALOG_DIR = str(Path(__file__).parent / "i18n")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, don't translate"
    return message


@cache
def load(directory: str, domain: str, locale: str) -> NullTranslations:
    return Translations.load(directory, [locale], domain)


def current_locale() -> str:
    from flask import g, has_request_context

    if has_request_context() and getattr(g, "locale", None):
        return g.locale
    env = os.environ.get("MIMOSA_LOCALE", DEFAULT_LOCALE)
    return env if env in LOCALES else DEFAULT_LOCALE


def translation(locale: str | None = None) -> NullTranslations:
    return load(CATALOG_DIR, DOMAIN, locale or current_locale())


def gettext(message: str, locale: str | None = None, **params: object) -> str:
    text = translation(locale).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, locale: str | None = None, **params: object) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the language; ``params`` fill its placeholders."""
    text = translation(locale).ngettext(singular, plural, n)
    return text % params if params else text


def translate_for(catalogs: list[tuple[str, str]], message: str, locale: str | None = None) -> str:
    """Translate ``message`` through each (directory, domain) in turn, then the host's own catalog."""
    locale = locale or current_locale()
    for directory, domain in [*catalogs, (CATALOG_DIR, DOMAIN)]:
        text = load(directory, domain, locale).gettext(message)
        if text != message:
            return text
    return message


# marshmallow's stock messages, marked here so that the host's catalog translates the
# default errors of any plugin's settings schema (see translate_for).
MARSHMALLOW_MESSAGES = (
    N_("Missing data for required field."),
    N_("Field may not be null."),
    N_("Invalid value."),
    N_("Unknown field."),
    N_("Invalid input type."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Number too large."),
    N_("Not a valid boolean."),
    N_("Not a valid URL."),
    N_("Not a valid email address."),
    N_("Not a valid date."),
)
