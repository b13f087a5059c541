"""What the Temporal server stores about a case holds no personal value in the clear:
not in the history, not in its SQLite file, not in failure messages."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from dvds.cases.client import CaseClient
from dvds.connection.codec import case_data_converter
from dvds.connection.server import temporal_binary
from dvds.settings import Settings
from states.messages import TaskWaiting
from states.record import Actor, CaseInput
from states.roles import Role
from tests.helpers.cases import new_ref
from tests.helpers.keys import TEST_KEYS
from tests.helpers.security import (
    drive_to_closed,
    letters,
    personal_values,
    secret_application,
    staff_for_tests,
)
from tests.helpers.staff import SIGNER
from worker import activities_for, build_worker
from workflows import search


def flaky_notifier(first_failure: str) -> Any:
    """Fails each notification's first attempt with a message naming a person, as a
    careless channel might; the failure is then recorded in the history."""

    @activity.defn(name="notify_task_waiting")
    async def notify_task_waiting(waiting: TaskWaiting) -> None:
        if activity.info().attempt == 1:
            raise ApplicationError(first_failure)

    return notify_task_waiting


async def run_secret_case(client: Client, tmp_path: Path) -> tuple[str, list[str]]:
    """A case with unique personal values driven to closed through the case client,
    with a failure message that names the subject. Returns its ref and the values."""
    token = letters()
    app = secret_application(token)
    settings = Settings(home=tmp_path, task_queue=f"test-{uuid.uuid4()}")
    _, escalate, refer, *others = activities_for(settings)
    worker = build_worker(client, settings, staff=staff_for_tests(),
                          channels=[flaky_notifier(f"mailbox of {app.subject.name} is full"), escalate, refer, *others])
    async with worker:
        cases = CaseClient(client, settings, signer=SIGNER)
        case = CaseInput(ref=new_ref(), application=app, started_by=Actor(id="OP1", role=Role.operator))
        handle = await cases.start(case)
        notes = await drive_to_closed(handle, token)
        await handle.result()
    return case.ref, [*personal_values(app), *notes, token, token.lower()]


def leaked(blob: bytes, values: list[str]) -> list[str]:
    return [v for v in values if v.encode() in blob]


class TestHistoryWithoutCodec:
    """The raw history, fetched without the codec, is ciphertext."""

    async def test_raw_history_holds_no_personal_value(self, client: Client, tmp_path: Path) -> None:
        """No name, date of birth, address or note of a closed case appears in its raw history bytes."""
        ref, values = await run_secret_case(client, tmp_path)
        plain = await Client.connect(client.service_client.config.target_host, namespace=client.namespace)
        events = [e async for e in plain.get_workflow_handle(ref).fetch_history_events()]
        raw = b"".join(e.SerializeToString() for e in events)
        assert ref.encode() in raw  # the search does find what is stored in the clear
        retried = [e for e in events if e.activity_task_started_event_attributes.HasField("last_failure")]
        assert retried, "the flaky notifier's failure should be in the history"
        assert all(e.activity_task_started_event_attributes.last_failure.message == "Encoded failure"
                   for e in retried)
        assert leaked(raw, values) == []

    async def test_client_without_codec_reads_no_plaintext(self, client: Client, tmp_path: Path) -> None:
        """A client without the key gets an error, not the case file."""
        ref, values = await run_secret_case(client, tmp_path)
        plain = await Client.connect(client.service_client.config.target_host, namespace=client.namespace)
        with pytest.raises(Exception) as refused:
            await plain.get_workflow_handle(ref).result()
        assert leaked(str(refused.value).encode(), values) == []


class TestServerDatabase:
    """The server's SQLite file holds no personal value."""

    async def test_sqlite_file_holds_no_personal_value(self, tmp_path: Path) -> None:
        """A byte search of the dev server's SQLite file (and its journal) for a case's names finds nothing."""
        database = tmp_path / "server" / "temporal.sqlite"
        database.parent.mkdir()
        server = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_binary(),
            dev_server_database_filename=str(database),
            data_converter=case_data_converter(TEST_KEYS),
            search_attributes=search.ALL,
            dev_server_extra_args=["--dynamic-config-value", "frontend.workerHeartbeatsEnabled=false"],
        )
        try:
            ref, values = await run_secret_case(server.client, tmp_path)
        finally:
            await server.shutdown()
        files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
        stored = b"".join(p.read_bytes() for p in files)
        assert ref.encode() in stored  # the case is in this file
        assert leaked(stored, values) == []
