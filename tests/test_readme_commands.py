"""The README's command line, as written, on the demo's database: what a newcomer runs after
``make demo`` (which fills the database every ``mimosa-host`` command uses by default).

``serve`` and ``jobs serve`` are left out (they do not return); ``NAME`` is the README's placeholder for a user name.
The demo's missions are pointed at a closed port first, so that ``jobs run`` reaches no server
that happens to listen on the demo's port on this machine.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from mimosa_host.cli import main as host_cli

README = Path(__file__).resolve().parents[1] / "README.md"
PASSWORD = "a-long-enough-password-1"


def readme_commands() -> list[list[str]]:
    """Each ``.venv/bin/mimosa-host`` command of the README's "Command line" block, as arguments."""
    block = README.read_text(encoding="utf-8").split("## Command line", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    joined = re.sub(r"\\\n\s*", " ", block)
    commands = []
    for line in joined.splitlines():
        if line.startswith(".venv/bin/mimosa-host"):
            words = shlex.split(line.split(" #", 1)[0])[1:]
            commands.append(["newcomer" if word == "NAME" else word for word in words])
    return commands


def test_the_readmes_commands_work_on_the_demo_as_written(demo, database_url: str, own_host_keys) -> None:  # noqa: ANN001
    from mimosa_host import enablement
    from mimosa_host.context import system_context
    from mimosa_host.models import Mission, PluginEnablement

    with demo.factory() as s, s.begin():  # as an administrator would change the address
        for state in s.scalars(sa.select(PluginEnablement).filter_by(enabled=True)).all():
            ctx = system_context(s, demo.host, demo.factory, s.get(Mission, state.mission_code))
            settings = {**state.settings, "soap_base_url": "http://127.0.0.1:9/"}
            enablement.enable(s, demo.host, state.mission_code, state.plugin_name, settings, ctx)
    commands = [command for command in readme_commands() if "serve" not in command[:2]]
    assert len(commands) >= 12
    for command in commands:
        result = CliRunner().invoke(
            host_cli, command, env={"MIMOSA_DATABASE_URL": database_url}, input=f"{PASSWORD}\n{PASSWORD}\n"
        )
        assert result.exit_code == 0, (command, result.output)
