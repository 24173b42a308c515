"""What the ``mimosa.plugins`` entry point ``ctm`` names: the CTM's host hook implementations.

Each concern lives in its own module under :mod:`ctm_plugin.hooks`; this module only
gathers them so the host registers one plugin object.
"""

from ctm_plugin.hooks.cli import mimosa_cli_commands
from ctm_plugin.hooks.database import mimosa_database
from ctm_plugin.hooks.info import mimosa_plugin_info
from ctm_plugin.hooks.jobs import mimosa_jobs
from ctm_plugin.hooks.machine import mimosa_machine_routes
from ctm_plugin.hooks.menu import mimosa_menu_items
from ctm_plugin.hooks.metrics import mimosa_metrics
from ctm_plugin.hooks.mission import (
    mimosa_mission_disabled,
    mimosa_mission_enabled,
    mimosa_mission_settings_check,
    mimosa_mission_settings_schema,
)
from ctm_plugin.hooks.permissions import mimosa_permissions, mimosa_roles
from ctm_plugin.hooks.tabs import mimosa_record_tabs
from ctm_plugin.hooks.translations import mimosa_translations
from ctm_plugin.hooks.web import mimosa_blueprints

__all__ = [
    "mimosa_blueprints",
    "mimosa_cli_commands",
    "mimosa_database",
    "mimosa_jobs",
    "mimosa_machine_routes",
    "mimosa_menu_items",
    "mimosa_metrics",
    "mimosa_mission_disabled",
    "mimosa_mission_enabled",
    "mimosa_mission_settings_check",
    "mimosa_mission_settings_schema",
    "mimosa_permissions",
    "mimosa_plugin_info",
    "mimosa_record_tabs",
    "mimosa_roles",
    "mimosa_translations",
]
