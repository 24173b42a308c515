"""Any value in any argument of the command lines (``mimosa-host`` with the CTM's commands under it,
and ``ctm``'s mapping tools on any file): an answer or a one-line refusal, never a traceback; a
refused command leaves every record as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st
from property_helpers import EXAMPLES, hostile_text, snapshot

from ctm_plugin.cli import main as ctm
from ctm_plugin.mappings.engine import DEFAULT_DIR
from mimosa_host.cli import main as host_cli

Slot = tuple[str, str]
"""An argument the test fills: (its name, a valid value to start from)."""

HOST_COMMANDS: list[list[str | Slot]] = [
    ["missions", "add", ("code", "NEW1"), "--name", ("name", "New"), "--country", ("country", "THA")],
    ["users", "add", ("username", "new.user"), "--name", ("name", "New User"), "--password", ("password", "pw-1")],
    ["users", "grant", ("username", "caseworker"), ("role", "ctm.caseworker"), "--mission", ("mission", "MDA")],
    ["users", "reset-2fa", ("username", "caseworker"), "--as", ("admin", "hq")],
    ["api-users", "add", ("username", "ctm-new"), "--mission", ("mission", "THA"), "--password", ("password", "pw")],
    [
        "plugins",
        "enable",
        ("plugin", "ctm"),
        "--mission",
        ("mission", "THA"),
        "--set",
        ("setting", "soap_username=ctm-tha"),
        "--set",
        ("setting", "case_number_prefix=THA-CT"),
    ],
    ["plugins", "disable", ("plugin", "ctm"), "--mission", ("mission", "KHM")],
    ["movements", "advance", ("movement", "MOV-1000001"), ("status", "BOOKED")],
    ["ctm", "sync", "status", "--mission", ("mission", "THA")],
    ["ctm", "outbox", "list", "--mission", ("mission", "THA"), "--status", ("status", "failed")],
    ["ctm", "outbox", "retry", "--mission", ("mission", "THA"), ("message", "1")],
    ["ctm", "outbox", "discard", "--mission", ("mission", "THA"), ("message", "1")],
    ["ctm", "retention", "purge", "--mission", ("mission", "THA"), "--dry-run"],
    ["ctm", "keys", "list", "--mission", ("mission", "THA")],
]


def filled(command: list[str | Slot], data: st.DataObject) -> list[str]:
    """The command with some of its arguments replaced by anything."""
    args = []
    for part in command:
        if isinstance(part, str):
            args.append(part)
        else:
            name, valid = part
            hostile = data.draw(st.booleans(), label=f"{name} hostile?")
            args.append(data.draw(hostile_text(), label=name) if hostile else valid)
    return args


def assert_no_traceback(result: Result, args: list[str]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output, args


def test_any_argument_of_the_host_commands_is_answered_and_a_refusal_saves_nothing(
    connected_live_host,
    database_url: str,  # noqa: ANN001
) -> None:
    engine = connected_live_host.rt.engine
    runner = CliRunner()

    @EXAMPLES
    @given(command=st.sampled_from(HOST_COMMANDS), data=st.data())
    def run_anything(command: list[str | Slot], data: st.DataObject) -> None:
        args = filled(command, data)
        before = snapshot(engine)
        result = runner.invoke(host_cli, ["--database", database_url, *args], input="\n")
        assert_no_traceback(result, args)
        if result.exit_code != 0:
            assert snapshot(engine) == before, (args, result.output[-300:])

    run_anything()


MAPPING = (DEFAULT_DIR / "beneficiary.toml").read_text(encoding="utf-8")
SAMPLE = b'<Beneficiary xmlns="urn:mimosa:host:v1"><BeneficiaryId>BEN-1000001</BeneficiaryId></Beneficiary>'


def _mangled(text: str, data: st.DataObject) -> str:
    """The text with a piece replaced by anything, or nested, or cut."""
    how = data.draw(st.sampled_from(["insert", "nest", "cut", "whole"]), label="how")
    at = data.draw(st.integers(0, len(text)), label="at")
    if how == "nest":
        depth = data.draw(st.integers(1, 3000), label="depth")
        return text[:at] + "\nx = " + "[" * depth + "]" * depth + "\n" + text[at:]
    if how == "cut":
        return text[:at]
    piece = data.draw(hostile_text(), label="piece")
    return piece if how == "whole" else text[:at] + piece + text[at:]


@pytest.mark.parametrize("command", ["validate", "test", "diff"])
def test_any_mapping_file_or_argument_is_answered(tmp_path: Path, command: str) -> None:
    runner = CliRunner()

    @EXAMPLES
    @given(data=st.data())
    def run_anything(data: st.DataObject) -> None:
        mapping = tmp_path / "mapping.toml"
        mapping.write_bytes(_mangled(MAPPING, data).encode("utf-8", "surrogatepass"))
        sample = tmp_path / "sample.xml"
        sample.write_bytes(_mangled(SAMPLE.decode(), data).encode("utf-8", "surrogatepass"))
        path = str(mapping) if data.draw(st.booleans(), label="real path?") else data.draw(hostile_text(), label="path")
        args = {
            "validate": ["mappings", "validate", path],
            "test": ["mappings", "test", path, "--sample", str(sample)],
            "diff": ["mappings", "diff", str(DEFAULT_DIR / "beneficiary.toml"), path],
        }[command]
        result = runner.invoke(ctm, args)
        assert_no_traceback(result, args)
        assert result.exit_code in (0, 1, 2), (args, result.exit_code)

    run_anything()
