from ctm_plugin.i18n import CATALOG_DIR, DOMAIN
from mimosa_host.plugin_api import Translations, hookimpl


@hookimpl
def mimosa_translations() -> Translations:
    return Translations(domain=DOMAIN, directory=CATALOG_DIR)
