"""``mimosa-host`` as an administrator uses it: migrate, manage plugins and users, seed, run jobs.

Each command builds its own runtime from ``--database`` (or ``MIMOSA_DATABASE_URL``)
and loads plugins from their entry points, as the installed script does. The module
installed by ``install_plugin`` stands in for a third-party plugin package.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

import mimosa_host
from ctm_plugin.schemas.mission_settings_test import STORED_DEFAULTS
from mimosa_host import demo as demo_data
from mimosa_host import enablement
from mimosa_host.accounts import authenticate
from mimosa_host.cli import main
from mimosa_host.models import Beneficiary, Mission, Movement, PluginEnablement, RoleGrant, User
from mimosa_host.plugins import BLOCK_ENV
from mimosa_host.runtime import DATABASE_ENV

CTM_SETTINGS = [
    "--set",
    "soap_base_url=https://mimosa.example/",
    "--set",
    "soap_username=ctm-tha",
    "--set",
    "soap_password=correct horse battery",
]

JOBBER = """
    from datetime import timedelta

    import click

    from mimosa_host.plugin_api import Job, PluginInfo, hookimpl

    RUNS = []


    @hookimpl
    def mimosa_plugin_info():
        return PluginInfo("jobber", "0.3", "Jobs", "A plugin with a job and a command.", ">=1.0,<2")


    def tick(ctx):
        RUNS.append((ctx.mission.code, ctx.user))


    @hookimpl
    def mimosa_jobs():
        return [Job("tick", timedelta(hours=1), tick)]


    @click.command("hello")
    @click.argument("who")
    def hello(who):
        click.echo(f"hello {who}")


    @hookimpl
    def mimosa_cli_commands():
        return [hello]
"""

FUTURE = """
    from mimosa_host.plugin_api import PluginInfo, hookimpl


    @hookimpl
    def mimosa_plugin_info():
        return PluginInfo("future", "9.0", "Future", "Needs a newer host.", ">=2")
"""


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.delenv(DATABASE_ENV, raising=False)
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # whatever a command writes by default lands here


@pytest.fixture
def cli(database_url: str):  # noqa: ANN201
    """``cli("plugins", "list")`` → the result of ``mimosa-host --database <url> plugins list``."""
    runner = CliRunner()

    def _cli(*args: str, input: str | None = None) -> Result:  # noqa: A002
        return runner.invoke(main, ["--database", database_url, *args], input=input)

    return _cli


@pytest.fixture
def engine(database_url: str):  # noqa: ANN201
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(cli, engine, rt):  # noqa: ANN001, ANN201
    """A database at head (``rt`` makes it a copy of the run's migrated one; the CLI finds nothing to do)
    with missions THA and MDA, made through the CLI."""
    assert cli("db", "upgrade").exit_code == 0
    for code, name in (("THA", "Thailand"), ("MDA", "Moldova")):
        result = cli("missions", "add", code, "--name", name, "--country", code)
        assert result.exit_code == 0, result.output
    return engine


def rows(engine: sa.Engine, model) -> list:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.execute(sa.select(model.__table__)).all()


def enablement_of(engine: sa.Engine, code: str, plugin: str = "ctm") -> PluginEnablement | None:
    with Session(engine) as s:
        return s.scalars(
            sa.select(PluginEnablement).where(
                PluginEnablement.mission_code == code, PluginEnablement.plugin_name == plugin
            )
        ).one_or_none()


def opened(row: PluginEnablement | None) -> dict:
    """A plugin's settings as it gets them: secrets opened."""
    return enablement.stored_settings(row)[0]


# -- db ---------------------------------------------------------------------------------


def test_db_upgrade_migrates_the_host_and_the_ctm(database_url: str, engine: sa.Engine) -> None:
    runner = CliRunner(env={DATABASE_ENV: database_url})  # the database from the environment this time

    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output == "host, ctm: at head\n"
    tables = set(sa.inspect(engine).get_table_names())
    assert {"mission", "user_account", "plugin_enablement", "alembic_version"} <= tables
    assert {"ctm_mission", "alembic_version_ctm"} <= tables

    again = runner.invoke(main, ["db", "upgrade"])
    assert (again.exit_code, again.output) == (0, "host, ctm: at head\n")


# -- plugins ----------------------------------------------------------------------------


def test_plugins_list_shows_the_ctm_and_where_it_is_enabled(cli, migrated) -> None:  # noqa: ANN001
    result = cli("plugins", "list")
    assert result.exit_code == 0, result.output
    assert "ctm 0.1.0  enabled nowhere" in result.output

    assert cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS).exit_code == 0
    assert cli("missions", "add", "KHM", "--name", "Cambodia", "--country", "KHM").exit_code == 0
    assert cli("plugins", "enable", "ctm", "--mission", "KHM", *CTM_SETTINGS).exit_code == 0
    assert "ctm 0.1.0  enabled in KHM, THA" in cli("plugins", "list").output


def test_plugins_enable_stores_the_settings(cli, migrated) -> None:  # noqa: ANN001
    result = cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS, "--set", "case_number_prefix=THA-CT")
    assert result.exit_code == 0, result.output
    assert result.output == "ctm enabled in THA\n"

    row = enablement_of(migrated, "THA")
    assert row.enabled
    assert row.changed_by == "system"
    assert opened(row) == {
        "soap_base_url": "https://mimosa.example/",
        "soap_username": "ctm-tha",
        "soap_password": "correct horse battery",
        "case_number_prefix": "THA-CT",
        "time_zone": "UTC",
        **STORED_DEFAULTS,  # the plugin's schema fills in its defaults
        "reception_deadline_hours": 72,
    }
    with migrated.connect() as conn:
        assert conn.execute(sa.text("SELECT mission_code, enabled_by FROM ctm_mission")).all() == [("THA", "system")]


def test_plugins_enable_as_a_named_user_records_them(cli, migrated) -> None:  # noqa: ANN001
    assert cli("users", "add", "mai", "--name", "Mai", input="a long password\na long password\n").exit_code == 0
    result = cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS, "--as", "mai")
    assert result.exit_code == 0, result.output
    assert enablement_of(migrated, "THA").changed_by == "mai"

    unknown = cli("plugins", "enable", "ctm", "--mission", "MDA", *CTM_SETTINGS, "--as", "nobody")
    assert unknown.exit_code != 0
    assert "no user 'nobody'" in unknown.output
    assert enablement_of(migrated, "MDA") is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ("soap_base_url=not-an-address", "soap_base_url"),
        ("soap_password=with\ta tab", "soap_password"),
        ("case_number_prefix=lower case", "case_number_prefix"),
    ],
)
def test_plugins_enable_with_bad_settings_fails_naming_the_field(cli, migrated, bad: str, field: str) -> None:  # noqa: ANN001
    result = cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS, "--set", bad)

    assert result.exit_code == 1
    assert "The settings were not saved" in result.output
    assert f"  {field}: " in result.output
    assert enablement_of(migrated, "THA") is None
    assert "enabled nowhere" in cli("plugins", "list").output


def test_plugins_enable_refuses_what_it_cannot_do(cli, migrated) -> None:  # noqa: ANN001
    missing_field = cli(
        "plugins", "enable", "ctm", "--mission", "THA", "--set", "soap_base_url=https://x.example/", input="\n"
    )
    assert missing_field.exit_code == 1
    assert "soap_username: This field is required." in missing_field.output

    not_a_pair = cli("plugins", "enable", "ctm", "--mission", "THA", "--set", "soap_username")
    assert not_a_pair.exit_code == 2
    assert "is not KEY=VALUE" in not_a_pair.output

    no_mission = cli("plugins", "enable", "ctm", "--mission", "XXX", *CTM_SETTINGS)
    assert no_mission.exit_code == 1
    assert "There is no mission XXX." in no_mission.output

    no_plugin = cli("plugins", "enable", "nosuch", "--mission", "THA")
    assert no_plugin.exit_code == 1
    assert "There is no plugin named nosuch." in no_plugin.output
    assert rows(migrated, PluginEnablement) == []


def test_plugins_disable_keeps_the_settings(cli, migrated) -> None:  # noqa: ANN001
    assert cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS).exit_code == 0

    result = cli("plugins", "disable", "ctm", "--mission", "THA")
    assert result.exit_code == 0, result.output
    assert result.output == "ctm disabled in THA\n"
    row = enablement_of(migrated, "THA")
    assert not row.enabled
    assert opened(row)["soap_username"] == "ctm-tha"
    assert "ctm 0.1.0  enabled nowhere" in cli("plugins", "list").output
    with migrated.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ctm_mission WHERE disabled_at IS NOT NULL")).scalar() == 1

    again = cli("plugins", "disable", "ctm", "--mission", "THA")
    assert again.exit_code == 1
    assert "The plugin ctm is not enabled in mission THA." in again.output


# -- users ------------------------------------------------------------------------------


def test_users_add_creates_a_user_who_can_log_in(cli, migrated) -> None:  # noqa: ANN001
    result = cli("users", "add", "ana", "--name", "Ana HQ", "--hq-admin", input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "user ana added" in result.output
    factory = sa.orm.sessionmaker(migrated)
    user = authenticate(factory, "ana", "a long password", "192.0.2.1")
    assert user is not None
    assert (user.display_name, user.is_hq_admin) == ("Ana HQ", True)
    assert authenticate(factory, "ana", "another password", "192.0.2.1") is None

    twice = cli("users", "add", "ana", "--name", "Ana again", input="x-password\nx-password\n")
    assert twice.exit_code == 1
    assert "user 'ana' exists" in twice.output
    assert len(rows(migrated, User)) == 1


def test_users_add_needs_the_password_twice(cli, migrated) -> None:  # noqa: ANN001
    result = cli("users", "add", "ana", "--name", "Ana", input="one password\nanother one\n")
    assert result.exit_code != 0
    assert rows(migrated, User) == []


def test_users_grant_grants_known_roles_and_refuses_unknown_ones(cli, migrated) -> None:  # noqa: ANN001
    assert cli("users", "add", "dara", "--name", "Dara", input="a long password\na long password\n").exit_code == 0

    result = cli("users", "grant", "dara", "ctm.caseworker", "--mission", "THA")
    assert result.exit_code == 0, result.output
    assert result.output == "dara holds ctm.caseworker in THA\n"
    assert [(g.mission_code, g.role) for g in rows(migrated, RoleGrant)] == [("THA", "ctm.caseworker")]

    unknown = cli("users", "grant", "dara", "ctm.overlord", "--mission", "THA")
    assert unknown.exit_code == 1
    assert "unknown role 'ctm.overlord'" in unknown.output
    assert "ctm.caseworker" in unknown.output  # the known roles are listed
    no_user = cli("users", "grant", "nobody", "host.officer", "--mission", "THA")
    assert (no_user.exit_code, "no user 'nobody'" in no_user.output) == (1, True)
    no_mission = cli("users", "grant", "dara", "host.officer", "--mission", "XXX")
    assert (no_mission.exit_code, "no mission 'XXX'" in no_mission.output) == (1, True)
    assert len(rows(migrated, RoleGrant)) == 1


# -- demo -------------------------------------------------------------------------------


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(sa.select(sa.func.count()).select_from(model)).scalar()
            for model in (Mission, User, RoleGrant, Beneficiary, Movement, PluginEnablement)
        }


def test_demo_seed_is_idempotent_and_prints_the_logins(cli, engine) -> None:  # noqa: ANN001
    first = cli("demo", "seed")
    assert first.exit_code == 0, first.output
    counts = _counts(engine)
    assert counts["mission"] == len(demo_data.MISSIONS)
    assert counts["user_account"] == len(demo_data.DEMO_USERS)
    assert counts["beneficiary"] == len(demo_data.MISSIONS) * demo_data.BENEFICIARIES_PER_MISSION
    assert counts["plugin_enablement"] == len(demo_data.CTM_MISSIONS)
    assert "Demo logins (synthetic data only):" in first.output
    assert demo_data.password_for("caseworker") in first.output

    second = cli("demo", "seed")
    assert second.exit_code == 0, second.output
    assert _counts(engine) == counts
    assert second.output == first.output
    assert "ctm 0.1.0  enabled in KHM, THA" in cli("plugins", "list").output


# -- jobs and plugins' own commands ------------------------------------------------------


def test_jobs_run_runs_each_job_where_its_plugin_is_enabled(install_plugin, cli, migrated) -> None:  # noqa: ANN001
    jobber = install_plugin("jobber", JOBBER)
    assert cli("plugins", "enable", "jobber", "--mission", "THA").exit_code == 0

    result = cli("jobs", "run")
    assert result.exit_code == 0, result.output
    assert result.output == "ran jobber.tick in THA\n"
    assert jobber().RUNS == [("THA", None)]

    assert cli("plugins", "disable", "jobber", "--mission", "THA").exit_code == 0
    assert cli("jobs", "run").output == ""
    assert jobber().RUNS == [("THA", None)]


def test_jobs_run_runs_each_job_once_where_its_plugin_is_enabled(cli, migrated) -> None:  # noqa: ANN001
    assert cli("jobs", "run").output == ""  # enabled nowhere yet
    assert cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS).exit_code == 0
    result = cli("jobs", "run")
    # No host answers at the settings' address: the jobs that call it fail, logged, and the rest run.
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "ran ctm.relay-outbox in THA",
        "ran ctm.movement-status in THA",
        "ran ctm.pull-beneficiaries in THA",
        "ran ctm.reception-tasks in THA",
        "ran ctm.retention-purge in THA",
        "ran ctm.trend-counts in THA",
        "ran ctm.retrafficking-match for the plugin",
    ]


def test_jobs_list_names_each_job_as_jobs_serve_only_and_except_take_it(cli, migrated) -> None:  # noqa: ANN001
    listing = cli("jobs", "list")
    assert listing.exit_code == 0, listing.output
    assert "ctm:relay-outbox\tevery 10 s" in listing.output.splitlines()
    assert "ctm:movement-status\tevery 3 s" in listing.output.splitlines()  # while a return awaits BOOKED
    assert "ctm:retrafficking-match\tevery 3600 s (plugin-wide)" in listing.output.splitlines()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--only", "ctm:relay"), "no such job: ctm:relay"),
        (("--except", "ctm-relay-outbox"), "is not PLUGIN:JOB"),
        (("--only", "ctm:relay-outbox", "--except", "ctm:pull-beneficiaries"), "exclude each other"),
    ],
)
def test_jobs_serve_refuses_a_job_it_does_not_know_before_running_any(cli, migrated, args, message) -> None:  # noqa: ANN001
    # A misspelt --except would have the main jobs process relay beside the relay processes: it does not start.
    result = cli("jobs", "serve", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "runs" not in result.output


def test_plugin_commands_are_mounted_under_the_plugins_name(install_plugin, cli, migrated, tmp_path) -> None:  # noqa: ANN001
    install_plugin("jobber", JOBBER)

    result = cli("jobber", "hello", "world")
    assert result.exit_code == 0, result.output
    assert result.output == "hello world\n"
    assert "jobber" in cli("--help").output
    # Finding the plugins' commands touches no database: no default one appears in the working directory.
    assert not (tmp_path / "var").exists()


def test_plugins_list_reports_a_plugin_this_host_refuses(install_plugin, cli, migrated) -> None:  # noqa: ANN001
    install_plugin("future", FUTURE)

    listing = cli("plugins", "list").output
    assert f"future 9.0  REFUSED: It requires host >=2; this host is {mimosa_host.__version__}." in listing
    assert "ctm 0.1.0  enabled nowhere" in listing

    refused = cli("plugins", "enable", "future", "--mission", "THA")
    assert refused.exit_code == 1
    assert "The plugin future cannot run on this host. It requires host >=2" in refused.output
    assert enablement_of(migrated, "THA", "future") is None


def test_a_blocked_plugin_is_absent_from_the_command_line(cli, migrated, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(BLOCK_ENV, "ctm")
    assert "ctm" not in cli("plugins", "list").output
    refused = cli("plugins", "enable", "ctm", "--mission", "THA", *CTM_SETTINGS)
    assert refused.exit_code == 1
    assert "There is no plugin named ctm." in refused.output


# -- secrets are asked for, not typed on the command line ---------------------------------

VAULT = """
    from marshmallow import Schema, fields

    from mimosa_host.plugin_api import PluginInfo, hookimpl


    class VaultSettings(Schema):
        url = fields.String(required=True, metadata={"label": "Address"})
        token = fields.String(required=True, metadata={"label": "Token", "secret": True})
        pin = fields.String(metadata={"label": "PIN", "secret": True})


    @hookimpl
    def mimosa_plugin_info():
        return PluginInfo("vault", "0.1", "Vault", "A plugin with secret settings.", ">=1.0,<2")


    @hookimpl
    def mimosa_mission_settings_schema():
        return VaultSettings()
"""


def test_plugins_enable_asks_for_each_secret_not_given_without_echoing_it(install_plugin, cli, migrated) -> None:  # noqa: ANN001
    install_plugin("vault", VAULT)

    result = cli(
        "plugins",
        "enable",
        "vault",
        "--mission",
        "THA",
        "--set",
        "url=https://vault.example/",
        input="s3cret-pin\ns3cret-token\n",
    )
    assert result.exit_code == 0, result.output
    assert "pin (hidden; blank keeps the stored one)" in result.output
    assert "token (hidden; blank keeps the stored one)" in result.output
    assert "s3cret" not in result.output
    assert opened(enablement_of(migrated, "THA", "vault")) == {
        "url": "https://vault.example/",
        "token": "s3cret-token",
        "pin": "s3cret-pin",
    }

    # Blank answers keep the stored secrets; a secret given with --set is not asked for.
    again = cli(
        "plugins",
        "enable",
        "vault",
        "--mission",
        "THA",
        "--set",
        "url=https://new.example/",
        "--set",
        "pin=0000",
        input="\n",
    )
    assert again.exit_code == 0, again.output
    assert "pin (hidden" not in again.output
    assert opened(enablement_of(migrated, "THA", "vault")) == {
        "url": "https://new.example/",
        "token": "s3cret-token",
        "pin": "0000",
    }

    # With nothing stored, a blank required secret is refused naming the field.
    refused = cli("plugins", "enable", "vault", "--mission", "MDA", "--set", "url=https://vault.example/", input="\n\n")
    assert refused.exit_code == 1
    assert "token: " in refused.output
    assert enablement_of(migrated, "MDA", "vault") is None


# -- what missions add and users add accept -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("th", "--name", "Thailand", "--country", "THA"), "mission code 'th'"),
        (("T", "--name", "Thailand", "--country", "THA"), "mission code 'T'"),
        (("THAILAND1", "--name", "Thailand", "--country", "THA"), "mission code 'THAILAND1'"),
        (("TH-A", "--name", "Thailand", "--country", "THA"), "mission code 'TH-A'"),
        (("KHM", "--name", "Cambodia", "--country", "KH"), "country 'KH'"),
        (("KHM", "--name", "Cambodia", "--country", "khm"), "country 'khm'"),
        (("KHM", "--name", "Cambodia", "--country", "KHMR"), "country 'KHMR'"),
        (("KHM", "--name", "", "--country", "KHM"), "--name must be 1 to 120"),
        (("KHM", "--name", "C" * 121, "--country", "KHM"), "--name must be 1 to 120"),
    ],
)
def test_missions_add_refuses_a_bad_value_naming_the_field(cli, migrated, args, field: str) -> None:  # noqa: ANN001
    before = rows(migrated, Mission)
    result = cli("missions", "add", *args)
    assert result.exit_code == 1
    assert field in result.output
    assert rows(migrated, Mission) == before


def test_missions_add_accepts_codes_at_the_limits(cli, migrated) -> None:  # noqa: ANN001
    for code in ("AB", "ABCDEFG8"):
        result = cli("missions", "add", code, "--name", "N" * 120, "--country", "ABC")
        assert result.exit_code == 0, result.output
    assert {m.code for m in rows(migrated, Mission)} >= {"AB", "ABCDEFG8"}


@pytest.mark.parametrize(
    ("username", "name", "message"),
    [
        ("ana maria", "Ana", "username 'ana maria'"),
        ("a" * 81, "Ana", "username 'aaaa"),
        ("", "Ana", "username ''"),
        ("ana/hq", "Ana", "username 'ana/hq'"),
        ("añа", "Ana", "username 'añа'"),
        ("ana", "A" * 121, "--name must be 1 to 120"),
        ("ana", " ", "--name must be 1 to 120"),
    ],
)
def test_users_add_refuses_a_bad_value_naming_the_field(cli, migrated, username: str, name: str, message: str) -> None:  # noqa: ANN001
    result = cli("users", "add", username, "--name", name, input="a long password\na long password\n")
    assert result.exit_code == 1
    assert message in result.output
    assert rows(migrated, User) == []


def test_users_add_accepts_usernames_at_the_limits(cli, migrated) -> None:  # noqa: ANN001
    for username in ("a", "a.b_c-D9", "x" * 80):
        result = cli("users", "add", username, "--name", "Someone", input="a long password\na long password\n")
        assert result.exit_code == 0, result.output
    assert len(rows(migrated, User)) == 3


def test_users_roles_lists_the_roles_and_every_permission(cli, migrated) -> None:  # noqa: ANN001
    result = cli("users", "roles")
    assert result.exit_code == 0, result.output
    assert "host.mission_admin: host.records.view, host.plugins.manage" in result.output
    assert "  host.records.view: View beneficiaries and movements" in result.output
    assert "  host.plugins.manage: Enable, disable and configure plugins" in result.output
    assert "  ctm.case.view: " in result.output
