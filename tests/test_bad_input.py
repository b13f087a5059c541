"""Bad input everywhere a person or a file can reach: every submission model, the import
row parser, the CLI's file arguments, and raw update payloads sent straight to a case.
Whatever comes in is accepted or refused with the field named: never a stack trace,
never a value echoed back, never a workflow task failure."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import string
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from typer.testing import CliRunner

from dvds.cli.commands import case as case_command
from dvds.cli.commands import task as task_command
from dvds.connection.codec import EncryptionCodec
from dvds.importer.rows import COLUMNS, ImportRow, RowContext, RowReject, parse_row
from dvds.settings import Settings
from states.machine import CaseState
from states.models import Application, validation_summary
from states.record import CaseSnapshot
from states.roles import TASK_ROLE, Task
from states.tasks import TASK_MODEL
from tests.helpers.attacker import Hammer
from tests.helpers.cases import running_worker, settled, start_case, submit
from tests.helpers.cli import dvds
from tests.helpers.keys import TEST_KEYS
from tests.helpers.paths import EXAMPLES
from tests.helpers.ports import free_port

# Put into every generated text: an error message must never contain it.
MARKER = "Zqxjv"
MODELS: dict[str, type[BaseModel]] = {"application": Application, **{str(t): m for t, m in TASK_MODEL.items()}}
EXAMPLE_FILES = {"application": EXAMPLES / "application.json",
                 **{str(t): EXAMPLES / "tasks" / f"{t}.json" for t in TASK_MODEL}}

keys = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12)
marked_text = st.text(max_size=40).map(lambda s: f"{s}{MARKER}{s}")
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | marked_text | st.sampled_from(["", " ", "2024-02-30", "9999-12-31", "true", "high", "\x00", "é" * 3000]))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12)


def example(name: str) -> dict[str, Any]:
    return json.loads(EXAMPLE_FILES[name].read_text())


@st.composite
def mutated(draw: st.DrawFn, name: str) -> Any:
    """A valid example with one thing wrong: a field dropped, replaced, oversized or added;
    or something that is not an object at all."""
    data = example(name)
    fields = sorted(MODELS[name].model_fields)
    how = draw(st.sampled_from(["drop", "replace", "huge", "add", "whole"]))
    field = draw(st.sampled_from(fields))
    if how == "drop":
        data.pop(field, None)
    elif how == "replace":
        data[field] = draw(json_values)
    elif how == "huge":
        data[field] = MARKER * draw(st.integers(500, 5000))
    elif how == "add":
        data[draw(keys)] = draw(json_values)
    else:
        return draw(json_values)
    return data


def refusal_names_fields(model: type[BaseModel], err: ValidationError) -> None:
    """Each error names a field of the model (or, for a rule across fields, names them in
    its message), and no submitted value is echoed."""
    fields = set(model.model_fields)
    for error in err.errors(include_input=False, include_url=False):
        where = error["loc"]
        if where:
            assert isinstance(where[0], int) or str(where[0]) in fields or error["type"] == "extra_forbidden", error
        else:
            assert any(f in error["msg"] for f in fields) or error["type"] == "model_type", error
    assert MARKER not in validation_summary(err)
    assert MARKER not in str(err)


class TestSubmissionModels:
    """Every submission model and the application: valid, or refused naming the field."""

    @pytest.mark.parametrize("name", sorted(MODELS))
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_any_input_is_accepted_or_refused_by_field(self, name: str, data: st.DataObject) -> None:
        """Mutated examples and arbitrary JSON: a valid model or a ValidationError naming fields, no value."""
        model = MODELS[name]
        raw = data.draw(mutated(name))
        try:
            model.model_validate(raw)
        except ValidationError as err:
            refusal_names_fields(model, err)


def invoke(args: list[str], content: bytes | None, tmp_path: Path, directory: bool = False) -> tuple[int, str]:
    """One CLI command, in process, with the file argument holding `content`, against an
    address where no server listens (a refused file must be refused before that matters)."""
    path = tmp_path / f"{uuid.uuid4()}.json"
    if directory:
        path.mkdir()
    else:
        path.write_bytes(content or b"")
    app = case_command.app if args[0] == "case" else task_command.app
    # The sub-command alone, given the settings the `dvds` callback would read.
    result = CliRunner().invoke(app, [*args[1:], "--file", str(path)], obj=Settings(),
                                env={"TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a stack trace a person would have seen
    return result.exit_code, result.output


START = ["case", "start", "--actor", "OP1"]
COMPLETE = {t: ["task", "complete", "TEST-2026-1", str(t), "--actor", "X1", "--role", str(TASK_ROLE[t])]
            for t in TASK_MODEL}


class TestCliFiles:
    """`dvds case start --file` and `dvds task complete --file` with any file."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def test_generated_files_never_give_a_stack_trace(self, data: st.DataObject, tmp_path: Path) -> None:
        """Generated JSON (or bytes) for either command: refused naming the field or the file, exit 1 or 2."""
        name = data.draw(st.sampled_from(sorted(MODELS)))
        args = START if name == "application" else COMPLETE[Task(name)]
        content = data.draw(st.one_of(
            mutated(name).map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=200),
            st.text(max_size=200).map(str.encode),
        ))
        code, output = invoke(args, content, tmp_path)
        assert code in (1, 2), output
        assert "Traceback" not in output and MARKER not in output
        if code == 2:
            assert "invalid input:" in output or "file:" in output

    @pytest.mark.parametrize("args", [START, COMPLETE[Task.research]], ids=["case-start", "task-complete"])
    @pytest.mark.parametrize(("what", "content", "says"), [
        ("empty", b"", "is not valid JSON"),
        ("not JSON", b"route: right_to_ask", "is not valid JSON"),
        ("not UTF-8", b"\xff\xfe\x00{", "is not a UTF-8 text file"),
        ("huge", b'{"x": "' + b"a" * 1_200_000 + b'"}', "larger than 1 MB"),
        ("deeply nested", b"[" * 100_000, "nested too deeply"),
        ("a giant number", b'{"score": ' + b"9" * 5000 + b"}", "too large"),
        ("a list", b"[1, 2, 3]", "invalid input:"),
        ("wrong types", b'{"route": 5, "checks": "many", "subject": []}', "invalid input:"),
        ("missing fields", b"{}", "Field required"),
    ])
    def test_bad_files_are_refused_by_name(self, args: list[str], what: str, content: bytes, says: str,
                                           tmp_path: Path) -> None:
        """Each kind of bad file is refused with exit 2 and a message saying what is wrong with it."""
        code, output = invoke(args, content, tmp_path)
        assert code == 2 and says in output and "Traceback" not in output, (what, output)

    @pytest.mark.parametrize("args", [START, COMPLETE[Task.research]], ids=["case-start", "task-complete"])
    def test_a_directory_is_refused(self, args: list[str], tmp_path: Path) -> None:
        """A directory given as the file is refused naming the file."""
        code, output = invoke(args, None, tmp_path, directory=True)
        assert code == 2 and "file:" in output

    async def test_real_cli_against_the_server(self, client: Client, tmp_path: Path) -> None:
        """The installed `dvds`: unicode names start a case; a bad file and a wrong-state task are refused cleanly."""
        app = example("application")
        app["person_at_risk"]["name"] = "Zoë Ó Súilleabháin-Łukasiewicz 李小龍 🙂"
        app["subject"]["aliases"] = ["Ǆemal Ağaoğlu", "Ωmega \u202ereversed"]
        good = tmp_path / "unicode.json"
        good.write_text(json.dumps(app, ensure_ascii=False), encoding="utf-8")
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps({**app, "route": "right_to_demand"}))
        async with running_worker(client, tmp_path) as worker:
            env = {"TEMPORAL_ADDRESS": client.service_client.config.target_host,
                   "DVDS_TASK_QUEUE": worker.task_queue, "DVDS_HOME": str(tmp_path)}
            started = await dvds("case", "start", "--file", str(good), "--actor", "OP1", env=env)
            assert started.code == 0, started.err
            ref = started.out.strip()
            refused = await dvds("case", "start", "--file", str(bad), "--actor", "OP1", env=env)
            assert refused.code == 2 and "route:" in refused.err and "Traceback" not in refused.err
            early = await dvds("task", "complete", ref, "decision", "--actor", "DM300", "--role", "decision_maker",
                               "--file", str(EXAMPLES / "tasks" / "decision.json"), env=env)
            assert early.code == 1 and "decision is not open" in early.err and "Traceback" not in early.err
            shown = await dvds("case", "show", ref, "--json", env=env)
            assert json.loads(shown.out)["state"] == "received"


class TestImportRows:
    """The historical export's row parser: any cells give a case input or reasons naming columns."""

    @settings(max_examples=300, deadline=None)
    @given(cells=st.dictionaries(st.sampled_from(COLUMNS), st.one_of(
        marked_text, st.text(max_size=30), st.sampled_from(["", "2016-04-01", "31/02/2016", "01/02/1885", "yes",
                                                            "right_to_ask", "declined", "HIST-2016-000001"]))))
    def test_any_row_is_a_case_or_reasons_by_column(self, cells: dict[str, str]) -> None:
        """A row parses to a valid historical case input, or to reasons that name columns and never a value."""
        parsed = parse_row(2, cells, RowContext(today=date(2024, 1, 31)))
        if isinstance(parsed, ImportRow):
            assert parsed.case.historical is not None and parsed.case.ref == parsed.case_ref
            return
        assert isinstance(parsed, RowReject) and parsed.reasons
        assert all(any(reason.startswith(column) for column in COLUMNS) or ":" in reason for reason in parsed.reasons)
        assert MARKER not in parsed.reason


staff_ids = st.sampled_from(["RV500", "R100", "X" * 65, "NOBODY9", ""])
actors = st.one_of(json_values, st.fixed_dictionaries(
    {"id": staff_ids, "role": st.sampled_from(["reviewer", "researcher", "boss"])}))


@st.composite
def raw_updates(draw: st.DrawFn) -> tuple[str, Any]:
    """An update name and a payload a client that skipped validation could send."""
    task = draw(st.sampled_from([str(t) for t in TASK_MODEL]))
    payload = draw(st.one_of(
        json_values,
        st.fixed_dictionaries({"actor": actors, "submission": json_values}),
        st.fixed_dictionaries({"actor": actors, "submission": mutated(task)}),
        st.fixed_dictionaries({"actor": actors, "submission": mutated(task), "extra": json_values}),
    ))
    return task, payload


def failed_tasks(history: list[Any]) -> int:
    return sum(1 for e in history if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)


class TestRawUpdatePayloads:
    """Malformed update payloads sent straight to a case, past every client-side check."""

    async def test_no_payload_fails_a_workflow_task(self, client: Client, tmp_path: Path) -> None:
        """Generated payloads on every update: each refused (or accepted), none fails a workflow task."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            hammer = Hammer(handle, asyncio.get_running_loop())
            outcomes: list[str] = []

            @settings(max_examples=150, deadline=None, database=None)
            @given(update=raw_updates())
            def hammered(update: tuple[str, Any]) -> None:
                refused = hammer.send(*update)
                if refused is None:
                    outcomes.append("accepted")
                    return
                assert isinstance(refused, WorkflowUpdateFailedError), refused
                cause = refused.cause
                assert isinstance(cause, ApplicationError) and cause.non_retryable, cause
                assert cause.type in ("InvalidSubmission", "ProofRefused", "TaskRefused"), cause
                assert MARKER not in cause.message  # staff ids may be named; submitted values never
                outcomes.append(cause.type)

            await asyncio.to_thread(hammered)
            history = await settled(handle)
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            assert failed_tasks(history) == 0
            assert hammer.sent >= 150 and "accepted" not in outcomes  # garbage never moves the case
            assert snap.state is CaseState.received and snap.tasks_done == []
            done = await submit(handle, Task.research, "R100")  # and the case still works
            assert done.state is CaseState.researched


class _Crafted(PayloadCodec):
    """A client codec that sends `payload` in place of whatever was encoded, and reads the
    worker's (encrypted) answer with the test ring, so the test can see the rule it names."""

    def __init__(self, payload: Payload) -> None:
        self.payload = payload
        self.reader = EncryptionCodec(TEST_KEYS)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.payload for _ in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self.reader.decode(payloads)


async def crafted_update(client: Client, ref: str, payload: Payload) -> BaseException | None:
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=_Crafted(payload),
                                    failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
    sender = await Client.connect(client.service_client.config.target_host, data_converter=converter)
    try:
        await asyncio.wait_for(sender.get_workflow_handle(ref).execute_update("review", {"any": 1}), 60)
    except (WorkflowUpdateFailedError, RPCError) as refused:
        return refused
    return None


class TestCraftedPayloads:
    """Payloads that are not what the codec and converter make, sent by a client with its own codec."""

    @pytest.mark.parametrize("payload", [
        Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"),
        Payload(metadata={"encoding": b"binary/unknown"}, data=b"\x00\x01"),
        Payload(metadata={"encoding": b"json/plain"}, data=json.dumps("x" * 100_000).encode()),
    ], ids=["bad-json", "unknown-encoding", "big-string"])
    async def test_undecodable_payload_is_refused_without_a_task_failure(self, client: Client, tmp_path: Path,
                                                                          payload: Payload) -> None:
        """The update is refused; the history has no failed workflow task; the case still takes work."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            refused = await crafted_update(client, handle.id, payload)
            assert isinstance(refused, WorkflowUpdateFailedError)
            assert failed_tasks(await settled(handle)) == 0
            assert (await submit(handle, Task.research, "R100")).state is CaseState.researched

    @pytest.mark.parametrize(("key_id", "rule"), [("current", "payload_does_not_decrypt"),
                                                   ("unknown", "payload_key_unknown")])
    async def test_undecryptable_payload_is_refused_by_rule(self, client: Client, tmp_path: Path,
                                                            key_id: str, rule: str) -> None:
        """Ciphertext the worker's key ring cannot open (altered, or under a key it lacks): the update is
        refused naming the rule, no workflow task fails, and the case takes the next submission at once."""
        key = TEST_KEYS.current.id if key_id == "current" else "k-not-in-the-ring"
        payload = Payload(metadata={"encoding": b"binary/encrypted", "encryption-key-id": key.encode()}, data=b"0" * 40)
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            await settled(handle)
            refused = await crafted_update(client, handle.id, payload)
            assert isinstance(refused, WorkflowUpdateFailedError)
            cause = refused.cause
            assert isinstance(cause, ApplicationError) and cause.type == "PayloadRefused"
            assert f"(rule {rule})" in cause.message
            done = await submit(handle, Task.research, "R100")
            assert done.state is CaseState.researched and done.tasks_done == [Task.research]
            assert failed_tasks(await settled(handle)) == 0
