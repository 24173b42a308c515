"""The CTM's gettext domain ``ctm_plugin`` and its one bound ``_``.

``_`` translates into the language of the request (or job) being served, read from
the host's current context; outside one it answers in English. ``N_`` only marks a
string for extraction: labels handed to the host stay msgids, and the host
translates them through this domain.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

from mimosa_host.plugin_api import current_context

DOMAIN = "ctm_plugin"
CATALOG_DIR = str(Path(__file__).parent)
LOCALES = ("en", "fr", "es")
DEFAULT_LOCALE = "en"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    return message


@cache
def translations(locale: str) -> NullTranslations:
    return Translations.load(CATALOG_DIR, [locale], DOMAIN)


def current_locale() -> str:
    try:
        locale = current_context().locale
    except LookupError:
        return DEFAULT_LOCALE
    return locale if locale in LOCALES else DEFAULT_LOCALE


def _(message: str, **params: object) -> str:
    text = translations(current_locale()).gettext(message)
    return text % params if params else text


class TranslatedError(ValueError):
    """An error whose ``message`` is a msgid of this domain, shown in the reader's language.

    Its ``params`` may quote the input (a value, a line): show the message, never log it.
    """

    def __init__(self, msgid: str, **params: object) -> None:
        super().__init__(msgid % params if params else msgid)
        self.msgid = msgid
        self.params = params

    @property
    def message(self) -> str:
        return _(self.msgid, **self.params)
