from collections.abc import Sequence

import click

from ctm_plugin.cli import COMMANDS
from mimosa_host.plugin_api import hookimpl


@hookimpl
def mimosa_cli_commands() -> Sequence[click.Command]:
    """Mounted as ``mimosa-host ctm mappings|sync|outbox|retention|demo``."""
    return COMMANDS
