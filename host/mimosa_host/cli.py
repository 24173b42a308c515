"""``mimosa-host``: serve, migrate, manage plugins and users, seed the demo, run jobs.

The database comes from ``--database`` or ``MIMOSA_DATABASE_URL`` (default: an SQLite
file under ``var/``); migrations and grants connect through ``--migration-database`` or
``MIMOSA_MIGRATION_DATABASE_URL`` (the tables' owner) when set. Each plugin's commands are mounted
under its name.
"""

from __future__ import annotations

import functools
import os
import re
import secrets
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import db as db_module
from . import enablement, i18n
from .accounts import add_user, grant, known_roles, plugin_permissions
from .context import acting_for, acting_for_plugin, build_context, system_context
from .db import HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE, plugin_at_head, revision_state, transaction
from .inputs import TEXT_CONTROL, is_identifier
from .models import Mission, User, utcnow
from .passwords import hash_password
from .plugin_api import Job, RequestContext
from .plugins import PluginHost
from .roles import HOST_PERMISSIONS
from .runtime import DATABASE_ENV, MIGRATION_DATABASE_ENV, Runtime
from .serving import DEFAULT_THREADS


@dataclass
class PluginCommandHost:
    """The :class:`~mimosa_host.plugin_api.CommandHost` a plugin's commands get as click's ``obj``."""

    rt: Runtime
    plugin: str

    def enabled_missions(self) -> list[str]:
        with self.rt.factory() as s:
            return enablement.enabled_missions(s, self.plugin)

    @contextmanager
    def context(self, mission_code: str) -> Iterator[RequestContext]:
        if mission_code not in self.enabled_missions():
            raise LookupError(mission_code)
        with acting_for(self.rt, self.plugin, mission_code, i18n.current_locale()) as ctx:
            yield ctx

    @contextmanager
    def plugin_context(self, job: Job | None = None) -> Iterator[RequestContext]:
        with acting_for_plugin(self.rt, self.plugin, i18n.current_locale(), job) as ctx:
            yield ctx


def _shown(arg: str) -> str:
    """The argument, printable and short, to say which one was refused."""
    text = ascii(arg)
    return text if len(text) <= 40 else text[:37] + "..."


class HostGroup(click.Group):
    """Adds each loaded plugin's commands as a sub-group named after the plugin."""

    def _plugin_groups(self) -> dict[str, click.Group]:
        # Only the plugins are needed here: no engine, and no database file created on the way.
        host = PluginHost()
        host.load_entry_points()
        groups = {}
        for plugin, commands in host.call_each("mimosa_cli_commands"):
            group = click.Group(
                plugin,
                help=f"Commands of the {plugin} plugin.",
                callback=click.pass_context(functools.partial(_plugin_obj, plugin=plugin)),
            )
            for command in commands or ():
                group.add_command(command)
            groups[plugin] = group
        return groups

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Refuse, before any command runs, an argument holding what no text may hold (NUL and the
        other characters XML cannot carry): PostgreSQL would refuse even to compare it."""
        for arg in args:
            if TEXT_CONTROL.search(arg):
                raise click.UsageError(f"the argument {_shown(arg)} holds control characters", ctx)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_groups()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugin_groups().get(name)

    def invoke(self, ctx: click.Context) -> object:
        """Every command, the plugins' included: a database that cannot be used is one line, not a traceback."""
        try:
            return super().invoke(ctx)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
            if not isinstance(ctx.obj, Runtime):
                raise
            raise click.ClickException(_database_problem(ctx.obj, exc)) from None


def _all_at_head(rt: Runtime) -> bool:
    current, heads = revision_state(rt.engine, HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE)
    plugins = (info for _name, info in rt.host.call_each("mimosa_database") if info is not None)
    return current == heads and all(plugin_at_head(rt.engine, info) for info in plugins)


def _database_problem(rt: Runtime, exc: sa.exc.DBAPIError) -> str:
    """Why the database failed a command, in one line that says what to do (never the statement or its values)."""
    where = rt.engine.url.render_as_string(hide_password=True)
    try:
        migrated = _all_at_head(rt)
    except sa.exc.DBAPIError:
        migrated = None
    if migrated is False:
        return i18n.gettext(
            "The database %(url)s is not migrated to this version: run “mimosa-host db upgrade” first.", url=where
        )
    if isinstance(exc, sa.exc.OperationalError):
        return i18n.gettext(
            "The database %(url)s cannot be used (%(error)s): check --database or MIMOSA_DATABASE_URL.",
            url=where,
            error=type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
        )
    raise exc


def _plugin_obj(ctx: click.Context, plugin: str) -> None:
    rt = ctx.find_object(Runtime)
    assert rt is not None  # the root group's callback has set it
    ctx.obj = PluginCommandHost(rt, plugin)


@click.group(cls=HostGroup)
@click.option("--database", envvar=DATABASE_ENV, help="SQLAlchemy database URL.")
@click.option(
    "--migration-database",
    envvar=MIGRATION_DATABASE_ENV,
    help="SQLAlchemy URL of the tables' owner, for migrations and grants (default: --database).",
)
@click.pass_context
def main(ctx: click.Context, database: str | None, migration_database: str | None) -> None:
    """The MiMOSA reference host."""
    ctx.obj = Runtime.from_url(database, migration_url=migration_database)
    ctx.call_on_close(ctx.obj.engine.dispose)


pass_runtime = click.make_pass_decorator(Runtime)


def _acting_context(rt: Runtime, s: Session, mission: Mission, username: str | None) -> RequestContext:
    """The context of the user named by ``--as``; without one, the command line acts as an HQ administrator."""
    if not username:
        return system_context(s, rt.host, rt.factory, mission)
    user = s.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return build_context(s, rt.host, rt.factory, mission, user, "en")[0]


# What the host's columns hold; checked before anything is written, so that every backend
# refuses the same values with the same message.
MISSION_CODE = re.compile(r"[A-Z0-9]{2,8}")
COUNTRY = re.compile(r"[A-Z]{3}")
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,80}")
NAME_LENGTH = 120
API_PASSWORD_LENGTH = 200
"""What a plugin's settings can hold of it (the CTM's ``soap_password``: 200)."""


def _check(field: str, value: str, pattern: re.Pattern[str], rule: str) -> None:
    if not pattern.fullmatch(value):
        raise click.ClickException(f"{field} {value!r} is not valid: {rule}")


def _check_name(field: str, value: str) -> None:
    if not value.strip() or len(value) > NAME_LENGTH:
        raise click.ClickException(f"{field} must be 1 to {NAME_LENGTH} characters long")


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


ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


@db.command("grant")
@click.argument("role")
@pass_runtime
def db_grant(rt: Runtime, role: str) -> None:
    """Let ROLE, the application's PostgreSQL role, read and write every table without owning them."""
    _check("ROLE", role, ROLE, "a PostgreSQL role name (letters, digits, underscores)")
    with rt.owner_engine() as engine:
        if engine.dialect.name != "postgresql":
            raise click.ClickException("db grant is for PostgreSQL: SQLite has no roles")
        with engine.connect() as conn:
            if conn.scalar(sa.text("SELECT count(*) FROM pg_roles WHERE rolname = :role"), {"role": role}) == 0:
                raise click.ClickException(f"no role {role!r} in this PostgreSQL server")
        db_module.grant_application_role(engine, role, rt.version_tables())
    click.echo(f"{role}: may read and write every table, under row-level security")


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
    """Enable plugin NAME in a mission, with its settings.

    Secret settings not given with --set are asked for without echoing them; left blank,
    the one already stored for the mission is kept.
    """
    settings = _parse_settings(pairs)
    schema = rt.host.call_one(name, "mimosa_mission_settings_schema")
    for field in sorted(enablement.secret_fields(schema) if schema is not None else ()):
        if field not in settings:
            value = click.prompt(
                f"{field} (hidden; blank keeps the stored one)", default="", show_default=False, hide_input=True
            )
            if value:
                settings[field] = value
    try:
        with transaction(rt.factory) as s:
            mission = s.get(Mission, mission_code)
            if mission is None:
                raise enablement.EnablementRefused("There is no mission %(code)s.", {"code": mission_code})
            enablement.enable(s, rt.host, mission_code, name, settings, _acting_context(rt, s, mission, username))
    except enablement.EnablementRefused as exc:
        details = "".join(f"\n  {field}: {'; '.join(msgs)}" for field, msgs in exc.field_errors.items())
        raise click.ClickException(f"{exc}{details}") from None
    click.echo(f"{name} enabled in {mission_code}")


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
            enablement.disable(s, rt.host, mission_code, name, system_context(s, rt.host, rt.factory, mission))
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
    _check("username", username, USERNAME, "1 to 80 letters, digits, dots, underscores or hyphens")
    _check_name("--name", display_name)
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


@users.command("reset-2fa")
@click.argument("username")
@click.option("--as", "admin", required=True, help="The HQ administrator resetting it, as recorded.")
@pass_runtime
def users_reset_2fa(rt: Runtime, username: str, admin: str) -> None:
    """Reset USERNAME's second factor (a lost phone and lost recovery codes); recorded as --as's action."""
    from .second_factor import reset

    with transaction(rt.factory) as s:
        actor = s.scalar(sa.select(User).where(User.username == admin))
        if actor is None or not actor.is_hq_admin:
            raise click.ClickException(f"{admin!r} is not an HQ administrator")
        user = s.scalar(sa.select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        reset(s, user, actor.username, utcnow())
    click.echo(f"the second factor of {username} is reset; they set it up again at their next sign-in if they must")


@users.command("roles")
@pass_runtime
def users_roles(rt: Runtime) -> None:
    """The roles that can be granted, with their permissions, then every permission with its label."""
    for role in known_roles(rt.host):
        click.echo(f"{role.name}: {', '.join(role.permissions)}")
    click.echo("\npermissions:")
    permissions = [*HOST_PERMISSIONS, *(p for perms in plugin_permissions(rt.host).values() for p in perms)]
    for permission in permissions:
        click.echo(f"  {permission.name}: {permission.label}")


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
    """Create a mission: CODE is 2 to 8 capital letters or digits."""
    _check("mission code", code, MISSION_CODE, "2 to 8 capital letters or digits")
    _check("country", country, COUNTRY, "an ISO 3166-1 alpha-3 code, 3 capital letters")
    _check_name("--name", name)
    with transaction(rt.factory) as s:
        if s.get(Mission, code):
            raise click.ClickException(f"mission {code!r} exists")
        s.add(Mission(code=code, name=name, country=country))
    click.echo(f"mission {code} added")


@main.group()
def keys() -> None:
    """The host's keys, which seal its secrets at rest (MIMOSA_KEY_FILE or MIMOSA_DATA_KEY)."""


@keys.command("rotate")
@click.option("--keep-old", is_flag=True, help="Keep the older keys in the key file after re-sealing.")
@pass_runtime
def keys_rotate(rt: Runtime, keep_old: bool) -> None:
    """Add a key and re-seal every API password and secret plugin setting under it; servers keep running."""
    from .rotation import rotate

    done = rotate(rt.factory, keep_old)
    counts = ", ".join(f"{table}: {n}" for table, n in sorted(done.resealed.items())) or "nothing"
    click.echo(f"current key {done.key_id}; re-sealed {counts}")
    if done.retired:
        click.echo("retired " + ", ".join(done.retired))
    if done.undecryptable:
        click.echo(f"{done.undecryptable} stored secret(s) cannot be decrypted (their key is gone): set them again")


@main.group("api-users")
def api_users() -> None:
    """The SOAP services' API users and the missions they are bound to."""


@api_users.command("add")
@click.argument("username")
@click.option("--mission", "mission_codes", multiple=True, required=True, help="A mission it may act in; repeat.")
@click.password_option(help="Asked for, hidden, when not given. Sealed at rest: see soap/models.py.")
@pass_runtime
def api_users_add(rt: Runtime, username: str, mission_codes: tuple[str, ...], password: str) -> None:
    """Create an API user bound to one or more missions."""
    from .soap.models import ApiUser
    from .soap.wssecurity import add_api_user

    _check("username", username, USERNAME, "1 to 80 letters, digits, dots, underscores or hyphens")
    if not password or not is_identifier(password, API_PASSWORD_LENGTH):
        raise click.ClickException(f"the password must be 1 to {API_PASSWORD_LENGTH} characters, none of them control")
    with transaction(rt.factory) as s:
        if s.get(ApiUser, username) is not None:
            raise click.ClickException(f"API user {username!r} exists")
        for code in mission_codes:
            if s.get(Mission, code) is None:
                raise click.ClickException(f"no mission {code!r}")
        add_api_user(s, username, password, mission_codes)
    click.echo(f"API user {username} added, bound to {', '.join(sorted(set(mission_codes)))}")


@main.group()
def movements() -> None:
    """Movements."""


@movements.command("advance")
@click.argument("movement_id")
@click.argument("status")
@pass_runtime
def movements_advance(rt: Runtime, movement_id: str, status: str) -> None:
    """Move MOVEMENT_ID to STATUS, as the status rules allow; it appears in the change feed."""
    from .soap.movements import InvalidTransition, transition

    try:
        with transaction(rt.factory) as s:
            transition(s, movement_id, status, now=utcnow())
    except LookupError:
        raise click.ClickException(f"no movement {movement_id!r}") from None
    except InvalidTransition as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{movement_id} is {status}")


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


@demo.command("past")
@pass_runtime
def demo_past(rt: Runtime) -> None:
    """THA's and KHM's past beneficiaries (2021 to 2025), whose closed cases the CTM's research story adds.
    Run after ``demo seed``; safe to repeat."""
    from .demo import seed_past

    added = seed_past(rt)
    click.echo(f"{added} past beneficiaries seeded in THA and KHM" if added else "the past beneficiaries are there")


@main.group()
def jobs() -> None:
    """Plugins' periodic jobs."""


@jobs.command("run")
@pass_runtime
def jobs_run(rt: Runtime) -> None:
    """Run every job once in every mission where its plugin is enabled (a plugin-wide job once)."""
    from .jobs import JobRunner

    db_module.durable_commits(rt.engine)  # what a job tells the host, it does not forget (db.durable_commits)
    for plugin, job, mission in JobRunner(rt).run_due(force=True):
        click.echo(f"ran {plugin}.{job} in {mission}" if mission else f"ran {plugin}.{job} for the plugin")


def _job_names(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    names = set()
    for value in values:
        plugin, sep, job = value.partition(":")
        if not (sep and plugin and job):
            raise click.BadParameter(f"{value!r} is not PLUGIN:JOB (e.g. ctm:relay-outbox)")
        names.add((plugin, job))
    return frozenset(names)


@jobs.command("serve")
@click.option("--tick", default=5.0, show_default=True, type=click.FloatRange(min=0.1), help="Seconds between rounds.")
@click.option("--travel-desk", is_flag=True, hidden=True, help="Run the demo's travel desk too (serve --demo).")
@click.option(
    "--only",
    multiple=True,
    callback=_job_names,
    metavar="PLUGIN:JOB",
    help="Run only this job (repeatable), e.g. a relay process of its own: --only ctm:relay-outbox.",
)
@click.option(
    "--except",
    "skipped",
    multiple=True,
    callback=_job_names,
    metavar="PLUGIN:JOB",
    help="Run every job but this one (repeatable), e.g. when relay processes run it: --except ctm:relay-outbox.",
)
@pass_runtime
def jobs_serve(
    rt: Runtime,
    tick: float,
    travel_desk: bool,
    only: frozenset[tuple[str, str]],
    skipped: frozenset[tuple[str, str]],
) -> None:
    """Run plugin jobs as they fall due, until SIGTERM (the job running ends, no other starts).

    One such process per database runs every job: `mimosa-host serve` starts it, unless --no-jobs. A job
    whose plugin supports it (the CTM's relay) may run in several processes: give them --only, and the main
    jobs process --except. `mimosa-host jobs list` names the jobs.
    """
    from .jobs import JobRunner, serve_jobs

    if only and skipped:
        raise click.UsageError("--only and --except exclude each other")
    known = {(plugin, job.name) for plugin, job in JobRunner(rt).jobs()}
    unknown = sorted(f"{plugin}:{job}" for plugin, job in (only | skipped) - known)
    if unknown:  # a misspelt name would quietly run a job twice, or not at all
        raise click.BadParameter(f"no such job: {', '.join(unknown)} (see `mimosa-host jobs list`)")
    db_module.durable_commits(rt.engine)  # what a job tells the host, it does not forget (db.durable_commits)
    what = "the plugins' jobs"
    if only:
        what = ", ".join(sorted(f"{plugin}:{job}" for plugin, job in only))
    elif skipped:
        what = "the plugins' jobs but " + ", ".join(sorted(f"{plugin}:{job}" for plugin, job in skipped))
    click.echo(f"jobs: process {os.getpid()} runs {what} every {tick:g} s")

    def selected(plugin: str, job: str) -> bool:
        return (plugin, job) in only if only else (plugin, job) not in skipped

    serve_jobs(rt, tick, travel_desk, selected=selected)
    click.echo(f"jobs: process {os.getpid()} stopped")


@jobs.command("list")
@pass_runtime
def jobs_list(rt: Runtime) -> None:
    """Name every plugin job (PLUGIN:JOB, as --only and --except take them) and its interval."""
    from .jobs import JobRunner

    for plugin, job in JobRunner(rt).jobs():
        kind = " (plugin-wide)" if job.plugin_wide else ""
        click.echo(f"{plugin}:{job.name}\tevery {job.interval.total_seconds():g} s{kind}")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@main.command()
@click.option("--host", "bind", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8000, show_default=True, envvar="PORT")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Web worker processes (default: one per core, at least 2).",
)
@click.option(
    "--threads",
    default=DEFAULT_THREADS,
    show_default=True,
    type=click.IntRange(min=1),
    help="Threads per web worker.",
)
@click.option("--demo", "demo_mode", is_flag=True, help="Print the demo logins; run the travel desk.")
@click.option(
    "--jobs/--no-jobs",
    "run_jobs",
    default=True,
    show_default=True,
    help="Start the one jobs process beside the web workers.",
)
@click.option(
    "--jobs-tick",
    default=5.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between the jobs process' rounds.",
)
@click.option("--debug", is_flag=True, help="Werkzeug's development server (one process, reloads nothing).")
@click.option("--supervised", is_flag=True, hidden=True, help="Started by serve: print no banner.")
@pass_runtime
def serve(
    rt: Runtime,
    bind: str,
    port: int,
    workers: int | None,
    threads: int,
    demo_mode: bool,
    run_jobs: bool,
    jobs_tick: float,
    debug: bool,
    supervised: bool,
) -> None:
    """Serve the web shell and the SOAP services under gunicorn, and (by default) run plugin jobs in one
    process of their own beside the web workers. SIGTERM stops it all cleanly.

    With --demo, the travel desk books SOAP-requested movements after a few seconds (in the jobs process:
    not with --no-jobs).

    Sessions are signed with MIMOSA_SECRET_KEY; when it is not set, with a random key that lasts as long as
    the server (every web worker shares it).
    """
    from . import serving

    if not supervised:
        if demo_mode:
            from .demo import print_logins

            print_logins(click.echo)
        click.echo(f"MiMOSA at http://{bind}:{port}/  ({datetime.now():%H:%M:%S})")
    if run_jobs:
        web = ["serve", "--no-jobs", "--supervised", "--host", bind, "--port", str(port), "--threads", str(threads)]
        web += [*(["--workers", str(workers)] if workers else []), *(["--demo"] if demo_mode else [])]
        web += ["--debug"] if debug else []
        jobs_args = ["jobs", "serve", "--tick", str(jobs_tick), *(["--travel-desk"] if demo_mode else [])]
        env = serving.child_environment(rt)
        rt.engine.dispose()
        raise SystemExit(
            serving.supervise(serving.module_command(*web), serving.module_command(*jobs_args), env, click.echo)
        )

    from .second_factor import REQUIRED_ENV
    from .web import SECRET_KEY_ENV, create_app

    # One key for every worker (they share the server's sessions): the setting's, or one made here, before they fork.
    config: dict[str, object] = {"SECRET_KEY": os.environ.get(SECRET_KEY_ENV) or secrets.token_hex(32)}
    if demo_mode:  # The demo's users have no second factor: the demo asks for none unless the setting is made.
        config["REQUIRE_SECOND_FACTOR_FOR"] = os.environ.get(REQUIRED_ENV, "")
    app = create_app(rt, config)
    if debug:
        from werkzeug.serving import run_simple

        signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM ends it as Ctrl-C does: cleanly, status 0
        run_simple(bind, port, app, threaded=True)
        return
    serving.serve_web(app, rt, bind, port, workers or serving.default_workers(), threads)
