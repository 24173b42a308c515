"""``ctm``: integrators' tools. Mapping commands work anywhere; sync and outbox commands need the
host's database and run under ``mimosa-host ctm``, which hands them a mission's context."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import click

from ctm_plugin.domain.sync import OUTBOX_STATUSES
from ctm_plugin.mappings import tools
from mimosa_host.plugin_api import CommandHost, RequestContext


class FilePath(click.Path):
    """An existing file; a name no file system can hold (a NUL in it) is a usage error, not a traceback."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if "\x00" in str(value):
            self.fail(f"{str(value)!r} is not a file name: it holds a NUL character", param, ctx)
        return super().convert(value, param, ctx)


def _emit(result: tuple[int, list[str]]) -> None:
    code, lines = result
    for line in lines:
        click.echo(line)
    sys.exit(code)


@click.group("mappings")
def mappings() -> None:
    """Validate, test and compare mapping files."""


@mappings.command("validate")
@click.argument("files", nargs=-1, type=FilePath())
def mappings_validate(files: tuple[Path, ...]) -> None:
    """Check mapping FILES (the shipped defaults when none are given)."""
    _emit(tools.validate(list(files) or None))


@mappings.command("test")
@click.argument("file", type=FilePath())
@click.option("--sample", required=True, type=FilePath(), help="Host XML.")
def mappings_test(file: Path, sample: Path) -> None:
    """Map a sample host record with FILE and print the CTM record, or the errors."""
    _emit(tools.test(file, sample.read_bytes()))


@mappings.command("diff")
@click.argument("a", type=FilePath())
@click.argument("b", type=FilePath())
def mappings_diff(a: Path, b: Path) -> None:
    """What changes from mapping A to mapping B."""
    _emit(tools.diff(a, b))


@contextmanager
def _mission(mission: str) -> Iterator[RequestContext]:
    """The mission's context for a command, through which every failed exchange with the host
    becomes one line in the mission's language (:func:`services.host.problem_of`) and exit code 1."""
    from ctm_plugin.services.host import PROBLEM_TYPES, problem_of

    host = click.get_current_context().find_object(object)
    if not hasattr(host, "context"):
        raise click.ClickException("this command needs the host's database: run it as `mimosa-host ctm ...`")
    command_host = cast(CommandHost, host)
    with ExitStack() as stack:
        try:
            ctx = stack.enter_context(command_host.context(mission))
        except LookupError:
            raise click.ClickException(f"the CTM is not enabled in a mission {mission!r}") from None
        try:
            yield ctx
        except PROBLEM_TYPES as error:  # translated while the mission's context is still current
            raise click.ClickException(problem_of(error).message) from None


MISSION_CODE = r"[A-Z0-9]{2,8}"
"""What the host's mission codes are (its ``mission`` column holds 8 characters)."""


class MissionCode(click.ParamType):
    """A mission code, refused as a usage error before any query when it cannot be one."""

    name = "mission"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not re.fullmatch(MISSION_CODE, text):
            self.fail(f"{text!r} is not a mission code: 2 to 8 capital letters or digits", param, ctx)
        return text


mission_option = click.option("--mission", required=True, type=MissionCode(), help="Mission code, e.g. THA.")
MESSAGE_ID = click.IntRange(1, 2**31 - 1)
"""An outbox message's id: beyond the column's range it names no message, and PostgreSQL would refuse the query."""


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


class Age(click.ParamType):
    """A duration such as ``90m``, ``6h`` or ``3d``."""

    name = "age"
    UNITS = {"m": "minutes", "h": "hours", "d": "days"}

    def convert(self, value, param, ctx):  # noqa: ANN001, ANN201
        if isinstance(value, timedelta):
            return value
        number, unit = value[:-1], value[-1:]
        if unit not in self.UNITS or not number.isdigit() or not 0 < int(number) <= 100_000:
            self.fail(f"{value!r} is not a duration such as 90m, 6h or 3d", param, ctx)
        return timedelta(**{self.UNITS[unit]: int(number)})


def _filters(command):  # noqa: ANN001, ANN202
    """The options that select messages, shared by list, retry and discard."""
    for option in reversed(
        (
            click.option("--status", "statuses", multiple=True, type=click.Choice(OUTBOX_STATUSES)),
            click.option(
                "--operation", "operations", multiple=True, help="BookMovement, CancelMovement or SaveBeneficiary."
            ),
            click.option("--older-than", type=Age(), help="Queued at least this long ago: 90m, 6h, 3d."),
            click.option("--case", "case_number", help="The case number, as the synchronisation page shows it."),
        )
    ):
        command = option(command)
    return command


@outbox_group.command("list")
@mission_option
@_filters
def outbox_list(
    mission: str,
    statuses: tuple[str, ...],
    operations: tuple[str, ...],
    older_than: timedelta | None,
    case_number: str | None,
) -> None:
    """The mission's outbox, newest first: no case details, only references and states."""
    from ctm_plugin.services import outbox

    with _mission(mission) as ctx:
        if operations or older_than or case_number:
            ids = outbox.select(ctx, None, outbox.Selection(statuses, operations, older_than, case_number))
            rows = outbox.messages(ctx, ids=ids, limit=len(ids)) if ids else []
        else:
            rows = outbox.messages(ctx, statuses or None)
    for m in rows:
        error = f"  {m.error_code}: {m.error or ''}" if m.error_code else ""
        click.echo(f"{m.id:6} {m.operation:16} {m.status:9} attempts={m.attempts} {m.client_reference}{error}")


def _bulk(action: str, doc: str):  # noqa: ANN202
    @outbox_group.command(action, help=doc)
    @mission_option
    @click.argument("message_ids", nargs=-1, type=MESSAGE_ID)
    @_filters
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def command(
        mission: str,
        message_ids: tuple[int, ...],
        statuses: tuple[str, ...],
        operations: tuple[str, ...],
        older_than: timedelta | None,
        case_number: str | None,
        yes: bool,
    ) -> None:
        _manage(mission, action, message_ids, (statuses, operations, older_than, case_number), yes)

    return command


def _manage(mission: str, action: str, message_ids: tuple[int, ...], filters: tuple, yes: bool) -> None:
    """Act on the messages named, or else on those the filters select, after a confirmation."""
    from ctm_plugin.adapters.mimosa.errors import HostError
    from ctm_plugin.services import outbox
    from ctm_plugin.services.base import NotFound
    from ctm_plugin.services.host import NotConnected

    selection = outbox.Selection(*filters)
    if message_ids and selection != outbox.Selection():
        raise click.UsageError("name messages or filter them, not both")
    with _mission(mission) as ctx:
        ids = list(message_ids) or outbox.select(ctx, action, selection)
        if not ids:
            click.echo("no message matches: nothing to do")
            return
        if not yes:
            click.confirm(f"{action} {len(ids)} message(s) of {mission}?", abort=True)
        failures = 0
        for message_id in ids:
            try:
                if action == "retry":
                    outbox.retry(ctx, message_id)
                    said = ": sent again"
                else:
                    adopted = outbox.discard(ctx, message_id) == "done"
                    said = ": the host holds it, kept as delivered" if adopted else ": discarded"
            except NotFound:
                failures, said = failures + 1, f": not in {mission}"
            except outbox.Refused as exc:
                failures, said = failures + 1, f" is {exc.status}: nothing to {action}"
            except (HostError, NotConnected):
                failures, said = failures + 1, ": the host could not be asked whether it holds it, kept"
            click.echo(f"message {message_id}{said}")
    if failures:
        sys.exit(1)


outbox_retry = _bulk(
    "retry",
    "Send messages again now, with their own references (the host cannot double one); failed and dead ones "
    "are queued again, one in doubt is asked about first. Name MESSAGE_IDS or filter.",
)
outbox_discard = _bulk(
    "discard",
    "Give up on messages; they stay listed as discarded. One the host may hold is asked about first: "
    "if the host holds it, it is kept as delivered. Name MESSAGE_IDS or filter.",
)


@click.group("retention")
def retention_group() -> None:
    """Records past the mission's retention settings."""


@retention_group.command("purge")
@mission_option
@click.option("--dry-run", is_flag=True, help="Report what is due and change nothing.")
def retention_purge(mission: str, dry_run: bool) -> None:
    """Delete or erase what is due, class by class, and print the counts (no names, no case details)."""
    from ctm_plugin import i18n
    from ctm_plugin.security.audit_chain import ChainBroken
    from ctm_plugin.services import retention

    with _mission(mission) as ctx:  # the labels in the mission's language
        try:
            report = retention.run(ctx, dry_run=dry_run)
        except ChainBroken as broken:
            raise click.ClickException(
                f"{mission}: nothing purged: the audit chain is broken ({broken}); see `ctm audit verify`"
            ) from None
        click.echo(f"{mission}: {'due (dry run: nothing changed)' if dry_run else 'purged'}")
        click.echo(f"{'record class':24} {'rows':>7}  {'oldest':10}  what")
        for line in (*report.lines, report.held):
            oldest = line.oldest.isoformat() if line.oldest else "—"
            click.echo(f"{line.code:24} {line.count:>7}  {oldest:10}  {i18n._(line.label)}")


@click.group("keys")
def keys_group() -> None:
    """The missions' keys: rotation, crypto-erasure, their ids (never the keys)."""


def _missions(missions: tuple[str, ...]) -> list[str]:
    """The missions named, or else every mission where the CTM is enabled."""
    host = click.get_current_context().find_object(object)
    if not hasattr(host, "enabled_missions"):
        raise click.ClickException("this command needs the host's database: run it as `mimosa-host ctm ...`")
    return list(missions) or list(cast(CommandHost, host).enabled_missions())


@contextmanager
def _keys() -> Iterator[None]:
    """A key store that cannot be written (``CTM_KEYS``) or read is one line and exit code 1, not a traceback."""
    from ctm_plugin.security.keys import KeyStoreError

    try:
        yield
    except KeyStoreError as error:
        raise click.ClickException(str(error)) from None


@keys_group.command("rotate")
@click.option("--mission", "missions", multiple=True, type=MissionCode(), help="Mission code (every one if none).")
@click.option("--batch-size", default=200, type=click.IntRange(1, 10_000), help="Rows per transaction.")
@click.option("--keep-old", is_flag=True, help="Keep the older keys once nothing is sealed under them.")
def keys_rotate(missions: tuple[str, ...], batch_size: int, keep_old: bool) -> None:
    """A new key for each mission, every sealed value re-sealed under it in small transactions while the servers
    keep working, then the older keys retired. Run it again after an interruption: it resumes."""
    from ctm_plugin.services import rotation

    for code in _missions(missions):

        def progress(table: str, count: int, code: str = code) -> None:
            click.echo(f"{code} {table}: {count} re-sealed")

        with _mission(code) as ctx, _keys():
            done = rotation.rotate(ctx, batch_size=batch_size, keep_old=keep_old, progress=progress)
        started = "resumed the unfinished rotation to" if done.resumed else "new key"
        click.echo(f"{code}: {started} {done.key_id}, {sum(done.resealed.values())} value(s) re-sealed")
        if done.unopenable:
            click.echo(f"{code}: {done.unopenable} value(s) cannot be opened where they are, left as they are")
        if done.retired:
            click.echo(f"{code}: retired {', '.join(done.retired)}")


@keys_group.command("rotate-index")
@click.option("--batch-size", default=200, type=click.IntRange(1, 10_000), help="Rows per transaction.")
@click.option("--keep-old", is_flag=True, help="Keep the older index keys once every mission is re-indexed.")
def keys_rotate_index(batch_size: int, keep_old: bool) -> None:
    """A new HQ index key, every mission's document-number indexes recomputed under it while searches keep
    matching, then the older index keys retired. Run it again after an interruption: it resumes."""
    from ctm_plugin.services import rotation

    with _keys():
        key_id, resumed = rotation.start_index_rotation()
    click.echo(f"HQ index: {'resumed the unfinished rotation to' if resumed else 'new key'} {key_id}")
    for code in _missions(()):
        with _mission(code) as ctx, _keys():
            changed, unopenable = rotation.reindex(ctx, batch_size=batch_size)
        click.echo(
            f"{code}: {changed} index(es) recomputed" + (f", {unopenable} cannot be opened" if unopenable else "")
        )
    if not keep_old:
        with _keys():
            retired = rotation.finish_index_rotation(key_id)
        if retired:
            click.echo(f"HQ index: retired {', '.join(retired)}")


@keys_group.command("erase")
@mission_option
@click.option("--yes", is_flag=True, help="Do not ask to type the mission code again.")
def keys_erase(mission: str, yes: bool) -> None:
    """Crypto-erasure: forget every key of the mission, so that its sealed values can never be read again
    (recorded in the mission's audit trail when the CTM is enabled there)."""
    from ctm_plugin.security.keys import key_store
    from ctm_plugin.services import rotation

    enabled = mission in _missions(())
    if not yes:
        typed = click.prompt(f"Every sealed value of {mission} becomes unreadable forever. Type {mission} again")
        if typed != mission:
            raise click.ClickException("the code typed is not the mission's: nothing erased")
    if enabled:
        with _mission(mission) as ctx, _keys():
            rotation.erase(ctx)
    else:  # a mission the CTM no longer serves keeps its data, and its keys until they are erased here
        with _keys():
            key_store().erase(mission)
        click.echo(f"the CTM is not enabled in {mission}: no audit event was written")
    click.echo(f"{mission}: every key erased; its sealed values cannot be decrypted any more")


@keys_group.command("list")
@click.option("--mission", "missions", multiple=True, type=MissionCode(), help="Mission code (every one if none).")
def keys_list(missions: tuple[str, ...]) -> None:
    """The ids of each mission's keys, then HQ's (``hq:index``, ``hq:audit``), the current one last (never the
    keys themselves)."""
    from ctm_plugin.security.keys import HQ_PURPOSES, hq_ring, key_store

    rings = [*_missions(missions), *([] if missions else [hq_ring(purpose) for purpose in HQ_PURPOSES])]
    for ring in rings:
        with _keys():
            ids = key_store().key_ids(ring)
        click.echo(f"{ring}: {', '.join(ids) if ids else 'no key'}")


@click.group("demo")
def demo() -> None:
    """Synthetic demo data of the CTM (after the host's `demo seed`)."""


@demo.command("handover")
def demo_handover() -> None:
    """A THA case handed over to KHM: proposed in THA, accepted in KHM. Safe to repeat."""
    from ctm_plugin import demo as story

    with _mission("THA") as ctx:
        proposed = story.propose(ctx)
    if proposed is None:
        click.echo("the demo's hand-over is there already")
        return
    with _mission("KHM") as ctx:
        case_id = story.accept(ctx, proposed)
    click.echo(f"hand-over {proposed} from THA accepted in KHM (case {case_id})")


@demo.command("reintegration")
def demo_reintegration() -> None:
    """A KHM case's reintegration over 13 months (plan, disbursements, three surveys, an alert), and the
    emergency fund topped up with a THA request approved by HQ. Safe to repeat."""
    from ctm_plugin import demo as story
    from ctm_plugin.services.base import Invalid

    try:
        with _mission("KHM") as ctx:
            case_id = story.reintegrate(ctx)
        if case_id is None:
            click.echo("the demo's reintegration case is there already")
        else:
            click.echo(
                f"reintegration case {case_id} in KHM ({story.REINTEGRATION_PERSON}): a plan of 3 elements, "
                "2 disbursements approved (1 paid), 3 surveys, an alert"
            )
        with _mission("THA") as ctx:
            decided = story.emergency(ctx)
        if decided is None:
            click.echo("the demo's emergency-fund request is there already")
        else:
            request_id, state = decided
            click.echo(f"emergency fund topped up; THA's request {request_id} ({story.FUND_PERSON}) {state} by HQ")
    except Invalid as refused:  # e.g. a mission whose settings lost their providers: nothing of that story saved
        raise click.ClickException(f"the demo's story was refused, nothing of it saved: {refused.errors}") from None


@demo.command("due")
def demo_due() -> None:
    """A THA case with work waiting: two follow-ups (one overdue) and a referral awaiting its answer. Safe to repeat."""
    from ctm_plugin import demo as story

    with _mission("THA") as ctx:
        case_id = story.what_is_due(ctx)
    if case_id is None:
        click.echo("the demo's case with work waiting is there already")
    else:
        click.echo(
            f"case {case_id} in THA ({story.DUE_PERSON}): 2 follow-ups (1 overdue), 1 referral awaiting an answer"
        )


@demo.command("cases")
def demo_cases() -> None:
    """THA cases in every stage (screening, assistance, return booked, closed), for the case lists. Safe to
    repeat."""
    from ctm_plugin import demo as story

    with _mission("THA") as ctx:
        seeded = story.cases_in_every_stage(ctx)
    click.echo(f"{seeded} THA cases seeded for the lists" if seeded else "the demo's cases are there already")


@demo.command("research")
@click.option("--count", type=click.IntRange(1, 5000), default=300, show_default=True, help="Cases per mission.")
def demo_research(count: int) -> None:
    """Synthetic THA and KHM cases of past years (coded facts, most with the Research consent) and the
    missions' trend counts, for the trends pages. Safe to repeat."""
    from ctm_plugin import demo as story

    for code in ("THA", "KHM"):
        with _mission(code) as ctx:
            seeded = story.research_cases(ctx, count)
        click.echo(
            f"{seeded} {code} cases seeded for the trends" if seeded else f"{code}'s research cases are there already"
        )


@demo.command("retrafficking")
def demo_retrafficking() -> None:
    """A person identified again: a THA case a year ago and a KHM case now, with the same passport; the matching
    job then runs once, so that HQ sees the match, and HQ confirms it, so that THA's case shows the flag. Safe to
    repeat."""
    from ctm_plugin import demo as story
    from ctm_plugin.hooks.jobs import MATCHING
    from ctm_plugin.services import retrafficking

    with _mission("THA") as ctx:
        earlier = story.earlier_case(ctx)
    with _mission("KHM") as ctx:
        later = story.later_case(ctx)
    if earlier is None and later is None:
        click.echo("the demo's re-trafficked person is there already")
    else:
        click.echo(f"THA case {earlier} and KHM case {later}: one person, the same passport")
    host = click.get_current_context().find_object(object)
    with cast(CommandHost, host).plugin_context(MATCHING) as ctx:
        added = retrafficking.match(ctx)
    click.echo(f"re-trafficking matching: {added} new match(es) for HQ")
    with _mission("THA") as ctx:
        if story.confirm_match(ctx):
            click.echo("HQ confirmed the match: THA's case shows the flag")


@demo.command("intelligence")
def demo_intelligence() -> None:
    """A recruiter's alias shared by two THA cases and a KHM case (the same route), for the intelligence pages;
    two of the cases with the consent to sharing with law enforcement. Safe to repeat."""
    from ctm_plugin import demo as story

    for code in ("THA", "KHM"):
        with _mission(code) as ctx:
            seeded = story.intelligence_cases(ctx)
        click.echo(
            f"{seeded} {code} cases sharing a recruiter" if seeded else f"{code}'s intelligence cases are there already"
        )


@demo.command("partners")
def demo_partners() -> None:
    """A THA partner (a shelter): its agreement approved by HQ and in force, a second version awaiting HQ, a
    referral received. Safe to repeat."""
    from ctm_plugin import demo as story

    with _mission("THA") as ctx:
        partner_id = story.partner(ctx)
    click.echo(
        f"THA partner {partner_id}: agreement 1 in force, 2 awaiting HQ"
        if partner_id
        else "the demo's partner is there already"
    )


@click.group("audit")
def audit_group() -> None:
    """The audit trail's chain."""


@audit_group.command("verify")
@click.option(
    "--mission", type=MissionCode(), help="Mission code, e.g. THA; every mission where the CTM is enabled without it."
)
def audit_verify(mission: str | None) -> None:
    """Walk each mission's audit chain and name the first broken link; exit status 1 if one is broken."""
    from ctm_plugin.domain.scope import mission_session
    from ctm_plugin.services.audit_chain import chain_state

    host = click.get_current_context().find_object(object)
    if not hasattr(host, "enabled_missions"):
        raise click.ClickException("this command needs the host's database: run it as `mimosa-host ctm ...`")
    missions = [mission] if mission else list(cast(CommandHost, host).enabled_missions())
    broken = False
    for code in missions:
        with _mission(code) as ctx, mission_session(ctx) as session:
            state = chain_state(session, code)
        if state.broken:
            broken = True
            where = f" (row {state.broken.event_id})" if state.broken.event_id else ""
            click.echo(f"{code}: BROKEN at event #{state.broken.seq}{where}: {state.broken.text()}")
        else:
            start = f", after the checkpoint at #{state.start}" if state.start else ""
            click.echo(f"{code}: intact, {state.events} event(s){start}; head #{state.head} {state.head_hash}")
    sys.exit(1 if broken else 0)


COMMANDS = (mappings, sync, outbox_group, retention_group, keys_group, demo, audit_group)


@click.group()
def main() -> None:
    """Counter-Trafficking Module tools for integrators."""


for _command in COMMANDS:
    main.add_command(_command)
