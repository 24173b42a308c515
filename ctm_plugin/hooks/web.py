from collections.abc import Sequence

from flask import Blueprint
from mimosa_host.plugin_api import hookimpl

from ctm_plugin.web import bp


@hookimpl
def mimosa_blueprints() -> Sequence[Blueprint]:
    return (bp,)
