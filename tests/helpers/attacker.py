"""The attacker of the proof and payload tests: a raw `temporalio` client on the same
machine, with the pydantic converter and no key ring (or, for an insider, the ring but no
one's credential), and a dev server whose SQLite files can be searched for what it sent."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from dvds.connection.codec import EncryptionCodec, case_data_converter
from dvds.connection.server import temporal_binary
from states.record import CaseSnapshot
from tests.helpers.keys import TEST_KEYS
from workflows import search


class SendsPlaintext(PayloadCodec):
    """Sends every payload as it is (unencrypted), and reads the worker's encrypted answer
    with the test ring: only so the test can read which rule refused it."""

    def __init__(self) -> None:
        self.reader = EncryptionCodec(TEST_KEYS)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self.reader.decode(payloads)


async def plaintext_client(client: Client) -> Client:
    """A client of `client`'s server that encrypts nothing."""
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=SendsPlaintext(),
                                    failure_converter_class=DefaultFailureConverterWithEncodedAttributes)
    return await Client.connect(client.service_client.config.target_host, namespace=client.namespace,
                                data_converter=converter)


def stored_bytes(database: Path) -> bytes:
    """Everything the server has written: the SQLite file and its journal and WAL."""
    return b"".join(p.read_bytes() for p in database.parent.iterdir() if p.name.startswith(database.name))


@asynccontextmanager
async def server_on_file(folder: Path) -> AsyncIterator[tuple[WorkflowEnvironment, Path]]:
    """A dev server writing to a SQLite file in `folder`, with the case converter; (server, file)."""
    database = folder / "temporal.sqlite"
    server = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        dev_server_database_filename=str(database),
        data_converter=case_data_converter(TEST_KEYS),
        search_attributes=search.ALL,
        dev_server_extra_args=["--dynamic-config-value", "frontend.workerHeartbeatsEnabled=false"],
    )
    try:
        yield server, database
    finally:
        await server.shutdown()


async def history_types(handle: WorkflowHandle[Any, Any]) -> list[int]:
    return [e.event_type async for e in handle.fetch_history_events()]


def task_events(types: list[int]) -> int:
    """Tasks the history records (accepted updates), and workflow tasks that failed."""
    return sum(1 for t in types if t in (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                                          EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED))


class Hammer:
    """Hypothesis runs in a thread (it cannot drive an async test itself) and sends each
    generated update through the test's event loop; returns the refusal, or None if taken."""

    def __init__(self, handle: WorkflowHandle[Any, Any], loop: asyncio.AbstractEventLoop) -> None:
        self.handle = handle
        self.loop = loop
        self.sent = 0

    def send(self, update: str, payload: Any) -> BaseException | None:
        self.sent += 1
        future = asyncio.run_coroutine_threadsafe(self._send(update, payload), self.loop)
        return future.result(60)

    async def _send(self, update: str, payload: Any) -> BaseException | None:
        try:
            await self.handle.execute_update(update, payload, result_type=CaseSnapshot)
        except (WorkflowUpdateFailedError, RPCError) as refused:
            return refused
        return None
