from collections.abc import Sequence

from flask import Blueprint

from ctm_plugin.web import bp
from mimosa_host.plugin_api import hookimpl


@hookimpl
def mimosa_blueprints() -> Sequence[Blueprint]:
    return (bp,)
