from ctm_plugin.domain.models import Base
from mimosa_host.plugin_api import DatabaseInfo, hookimpl

SCRIPT_LOCATION = "ctm_plugin:migrations"
VERSION_TABLE = "alembic_version_ctm"


@hookimpl
def mimosa_database() -> DatabaseInfo:
    return DatabaseInfo(metadata=Base.metadata, script_location=SCRIPT_LOCATION, version_table=VERSION_TABLE)
