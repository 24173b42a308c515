"""``ctm``: integrators' tools. Mapping commands work anywhere; sync and outbox commands need the
host's database and run under ``mimosa-host ctm``, which hands them a mission's context."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import click

from ctm_plugin.domain.sync import OUTBOX_STATUSES
from ctm_plugin.mappings import tools
from mimosa_host.plugin_api import CommandHost, RequestContext


def _emit(result: tuple[int, list[str]]) -> None:
    code, lines = result
    for line in lines:
        click.echo(line)
    sys.exit(code)


@click.group("mappings")
def mappings() -> None:
    """Validate, test and compare mapping files."""


@mappings.command("validate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def mappings_validate(files: tuple[Path, ...]) -> None:
    """Check mapping FILES (the shipped defaults when none are given)."""
    _emit(tools.validate(list(files) or None))


@mappings.command("test")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sample", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Host XML.")
def mappings_test(file: Path, sample: Path) -> None:
    """Map a sample host record with FILE and print the CTM record, or the errors."""
    _emit(tools.test(file, sample.read_bytes()))


@mappings.command("diff")
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def mappings_diff(a: Path, b: Path) -> None:
    """What changes from mapping A to mapping B."""
    _emit(tools.diff(a, b))


@contextmanager
def _mission(mission: str) -> Iterator[RequestContext]:
    host = click.get_current_context().find_object(object)
    if not hasattr(host, "context"):
        raise click.ClickException("this command needs the host's database: run it as `mimosa-host ctm ...`")
    command_host = cast(CommandHost, host)
    try:
        with command_host.context(mission) as ctx:
            yield ctx
    except LookupError:
        raise click.ClickException(f"the CTM is not enabled in a mission {mission!r}") from None


mission_option = click.option("--mission", required=True, help="Mission code, e.g. THA.")


@click.group("sync")
def sync() -> None:
    """The mission's exchanges with the host."""


@sync.command("status")
@mission_option
def sync_status(mission: str) -> None:
    """Outbox messages per state, and the feeds' positions."""
    from ctm_plugin.services import outbox

    with _mission(mission) as ctx:
        counts = outbox.counts(ctx)
        positions = outbox.feed_positions(ctx)
    for status in OUTBOX_STATUSES:
        click.echo(f"{status:10} {counts.get(status, 0)}")
    for feed, position in sorted(positions.items()):
        click.echo(f"feed {feed}: {position or 'not read yet'}")


@sync.command("pull")
@mission_option
def sync_pull(mission: str) -> None:
    """Refresh every case whose host record changed since the last pull."""
    from ctm_plugin.services import people

    with _mission(mission) as ctx, click.progressbar(length=1, label="host records") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        refreshed = people.pull(ctx, progress)
    click.echo(f"{refreshed} case(s) refreshed")


@click.group("outbox")
def outbox_group() -> None:
    """Messages waiting for, or given up by, the host."""


@outbox_group.command("list")
@mission_option
@click.option("--status", "statuses", multiple=True, type=click.Choice(OUTBOX_STATUSES))
def outbox_list(mission: str, statuses: tuple[str, ...]) -> None:
    """The mission's outbox, newest first: no case details, only references and states."""
    from ctm_plugin.services import outbox

    with _mission(mission) as ctx:
        rows = outbox.messages(ctx, statuses or None)
    for m in rows:
        error = f"  {m.error_code}: {m.error or ''}" if m.error_code else ""
        click.echo(f"{m.id:6} {m.operation:16} {m.status:9} attempts={m.attempts} {m.client_reference}{error}")


@outbox_group.command("retry")
@mission_option
@click.argument("message_id", type=int)
def outbox_retry(mission: str, message_id: int) -> None:
    """Send a failed or dead message again (same reference: the host cannot double it)."""
    _manage(mission, message_id, "retry")


@outbox_group.command("discard")
@mission_option
@click.argument("message_id", type=int)
def outbox_discard(mission: str, message_id: int) -> None:
    """Give up on a message; it stays listed as discarded."""
    _manage(mission, message_id, "discard")


def _manage(mission: str, message_id: int, action: str) -> None:
    from ctm_plugin.services import outbox
    from ctm_plugin.services.base import NotFound

    with _mission(mission) as ctx:
        try:
            getattr(outbox, action)(ctx, message_id)
        except NotFound:
            raise click.ClickException(f"no message {message_id} in {mission}") from None
        except outbox.Refused as exc:
            raise click.ClickException(f"message {message_id} is {exc.status}: nothing to {action}") from None
    click.echo(f"message {message_id}: {action} done")


COMMANDS = (mappings, sync, outbox_group)


@click.group()
def main() -> None:
    """Counter-Trafficking Module tools for integrators."""


for _command in COMMANDS:
    main.add_command(_command)
