"""``mimosa-host``: serve, migrate, manage plugins and users, seed the demo, run jobs.

The database comes from ``--database`` or ``MIMOSA_DATABASE_URL`` (default: an SQLite
file under ``var/``). Each plugin's commands are mounted under its name.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime

import click
import sqlalchemy as sa

from . import enablement
from .accounts import add_user, build_context, grant, known_roles
from .db import transaction
from .models import Mission, User
from .passwords import hash_password
from .plugin_api import RequestContext, UserRef
from .plugins import PluginHost
from .runtime import DATABASE_ENV, Runtime


class HostGroup(click.Group):
    """Adds each loaded plugin's commands as a sub-group named after the plugin."""

    def _plugin_groups(self) -> dict[str, click.Group]:
        # Only the plugins are needed here: no engine, and no database file created on the way.
        host = PluginHost()
        host.load_entry_points()
        groups = {}
        for plugin, commands in host.call_each("mimosa_cli_commands"):
            group = click.Group(plugin, help=f"Commands of the {plugin} plugin.")
            for command in commands or ():
                group.add_command(command)
            groups[plugin] = group
        return groups

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_groups()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugin_groups().get(name)


@click.group(cls=HostGroup)
@click.option("--database", envvar=DATABASE_ENV, help="SQLAlchemy database URL.")
@click.pass_context
def main(ctx: click.Context, database: str | None) -> None:
    """The MiMOSA reference host."""
    ctx.obj = Runtime.from_url(database)
    ctx.call_on_close(ctx.obj.engine.dispose)


pass_runtime = click.make_pass_decorator(Runtime)


def _system_context(rt: Runtime, s, mission: Mission, username: str | None):  # noqa: ANN001, ANN202
    user = s.scalar(sa.select(User).where(User.username == username)) if username else None
    if username and user is None:
        raise click.ClickException(f"no user {username!r}")
    return build_context(s, rt.host, rt.factory, mission, user, "en")[0]


# -- database ---------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@pass_runtime
def db_upgrade(rt: Runtime) -> None:
    """Migrate the host's tables and every plugin's tables to their latest revision."""
    upgraded = rt.upgrade_all()
    click.echo("host" + "".join(f", {name}" for name in upgraded) + ": at head")


# -- plugins ----------------------------------------------------------------------------


@main.group()
def plugins() -> None:
    """Installed plugins and their state per mission."""


@plugins.command("list")
@pass_runtime
def plugins_list(rt: Runtime) -> None:
    """Every installed plugin, whether it can run here, and where it is enabled."""
    for name, entry in sorted(rt.host.installed.items()):
        version = entry.info.version if entry.info else "?"
        if entry.compatible:
            with rt.factory() as s:
                missions = enablement.enabled_missions(s, name)
            state = "enabled in " + ", ".join(missions) if missions else "enabled nowhere"
        else:
            state = "REFUSED: " + " ".join(map(str, entry.problems))
        click.echo(f"{name} {version}  {state}")


def _parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--set")
        settings[key] = value
    return settings


@plugins.command("enable")
@click.argument("name")
@click.option("--mission", "mission_code", required=True)
@click.option("--set", "pairs", multiple=True, metavar="KEY=VALUE", help="A setting; repeat for each.")
@click.option("--as", "username", help="The administrator acting (default: system).")
@pass_runtime
def plugins_enable(rt: Runtime, name: str, mission_code: str, pairs: tuple[str, ...], username: str | None) -> None:
    """Enable plugin NAME in a mission, with its settings."""
    settings = _parse_settings(pairs)
    try:
        with transaction(rt.factory) as s:
            mission = s.get(Mission, mission_code)
            if mission is None:
                raise enablement.EnablementRefused("There is no mission %(code)s.", {"code": mission_code})
            ctx = _system_context(rt, s, mission, username)
            if ctx.user is None:
                ctx = _as_hq(ctx)
            enablement.enable(s, rt.host, mission_code, name, settings, ctx)
    except enablement.EnablementRefused as exc:
        details = "".join(f"\n  {field}: {'; '.join(msgs)}" for field, msgs in exc.field_errors.items())
        raise click.ClickException(f"{exc}{details}") from None
    click.echo(f"{name} enabled in {mission_code}")


def _as_hq(ctx: RequestContext) -> RequestContext:
    """The command line stands for an HQ administrator unless ``--as`` names a user."""
    return dataclasses.replace(ctx, user=UserRef(0, "system", "System", is_hq_admin=True))


@plugins.command("disable")
@click.argument("name")
@click.option("--mission", "mission_code", required=True)
@pass_runtime
def plugins_disable(rt: Runtime, name: str, mission_code: str) -> None:
    """Disable plugin NAME in a mission; its data there is kept."""
    try:
        with transaction(rt.factory) as s:
            mission = s.get(Mission, mission_code)
            if mission is None:
                raise enablement.EnablementRefused("There is no mission %(code)s.", {"code": mission_code})
            enablement.disable(s, rt.host, mission_code, name, _as_hq(_system_context(rt, s, mission, None)))
    except enablement.EnablementRefused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name} disabled in {mission_code}")


# -- users ------------------------------------------------------------------------------


@main.group()
def users() -> None:
    """User accounts and their roles per mission."""


@users.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--hq-admin", is_flag=True, help="May enable restricted plugins.")
@click.password_option()
@pass_runtime
def users_add(rt: Runtime, username: str, display_name: str, hq_admin: bool, password: str) -> None:
    """Create a user."""
    with transaction(rt.factory) as s:
        if s.scalar(sa.select(User).where(User.username == username)):
            raise click.ClickException(f"user {username!r} exists")
        add_user(s, username, display_name, hash_password(password), hq_admin)
    click.echo(f"user {username} added")


@users.command("grant")
@click.argument("username")
@click.argument("role")
@click.option("--mission", "mission_code", required=True)
@pass_runtime
def users_grant(rt: Runtime, username: str, role: str, mission_code: str) -> None:
    """Grant ROLE to USERNAME in a mission."""
    roles = {r.name for r in known_roles(rt.host)}
    if role not in roles:
        raise click.ClickException(f"unknown role {role!r}; known: {', '.join(sorted(roles))}")
    with transaction(rt.factory) as s:
        user = s.scalar(sa.select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        if s.get(Mission, mission_code) is None:
            raise click.ClickException(f"no mission {mission_code!r}")
        grant(s, user, mission_code, role)
    click.echo(f"{username} holds {role} in {mission_code}")


@users.command("roles")
@pass_runtime
def users_roles(rt: Runtime) -> None:
    """The roles that can be granted, with their permissions."""
    for role in known_roles(rt.host):
        click.echo(f"{role.name}: {', '.join(role.permissions)}")


# -- missions, demo, jobs, serve --------------------------------------------------------


@main.group()
def missions() -> None:
    """Missions (country offices)."""


@missions.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-3.")
@pass_runtime
def missions_add(rt: Runtime, code: str, name: str, country: str) -> None:
    with transaction(rt.factory) as s:
        if s.get(Mission, code):
            raise click.ClickException(f"mission {code!r} exists")
        s.add(Mission(code=code, name=name, country=country))
    click.echo(f"mission {code} added")


@main.group()
def demo() -> None:
    """Synthetic demo data."""


@demo.command("seed")
@pass_runtime
def demo_seed(rt: Runtime) -> None:
    """Missions, one user per role, beneficiaries and movements: all synthetic. Safe to repeat."""
    from .demo import print_logins, seed

    seed(rt)
    print_logins(click.echo)


@main.group()
def jobs() -> None:
    """Plugins' periodic jobs."""


@jobs.command("run")
@pass_runtime
def jobs_run(rt: Runtime) -> None:
    """Run every job once in every mission where its plugin is enabled."""
    from .jobs import JobRunner

    for plugin, job, mission in JobRunner(rt).run_due(force=True):
        click.echo(f"ran {plugin}.{job} in {mission}")


@main.command()
@click.option("--host", "bind", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, envvar="PORT")
@click.option("--demo", "demo_mode", is_flag=True, help="Print the demo logins; allow plain-HTTP cookies on loopback.")
@click.option("--jobs/--no-jobs", "run_jobs", default=True, show_default=True)
@pass_runtime
def serve(rt: Runtime, bind: str, port: int, demo_mode: bool, run_jobs: bool) -> None:
    """Serve the web shell (and, by default, run plugin jobs in the background)."""
    from werkzeug.serving import run_simple

    from .jobs import JobRunner
    from .web import create_app

    app = create_app(rt)
    if demo_mode:
        from .demo import print_logins

        print_logins(click.echo)
    stop = threading.Event()
    if run_jobs:
        threading.Thread(target=JobRunner(rt).run_forever, args=(stop,), daemon=True, name="jobs").start()
    click.echo(f"MiMOSA at http://{bind}:{port}/  ({datetime.now():%H:%M:%S})")
    try:
        run_simple(bind, port, app, threaded=True)
    finally:
        stop.set()
