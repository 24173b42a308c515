from mimosa_host.plugin_api import Translations, hookimpl

from ctm_plugin.i18n import CATALOG_DIR, DOMAIN


@hookimpl
def mimosa_translations() -> Translations:
    return Translations(domain=DOMAIN, directory=CATALOG_DIR)
