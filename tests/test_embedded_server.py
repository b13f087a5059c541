"""The embedded server started on a database made by an older version: it gains the search
attributes the cases now upsert (start-dev registers its flags only on a new database)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from dvds.connection.server import temporal_binary
from tests.helpers.eventually import eventually
from tests.helpers.ports import free_port
from tests.helpers.processes import server_on_disk
from workflows import search


async def older_database(home: Path) -> None:
    """A database made by a server started with none of the case's search attributes."""
    home.mkdir(parents=True)
    port = free_port()
    process = subprocess.Popen(
        [temporal_binary(), "server", "start-dev", "--headless", "--db-filename", str(home / "temporal.sqlite"),
         "--ip", "127.0.0.1", "--port", str(port), "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        async def up() -> bool:
            client = await Client.connect(f"127.0.0.1:{port}")
            await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
            return True

        await eventually(up, 60, "the older server starting")
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_server_on_an_older_database_gains_the_search_attributes(tmp_path: Path) -> None:
    """Every attribute in search.ALL is registered once the embedded server has started on the old file."""
    home = tmp_path / "home"
    await older_database(home)
    async with server_on_disk(home) as server:
        client = await server.start()
        known = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
    assert {key.name for key in search.ALL} <= set(known.custom_attributes)
    assert search.REFERRAL_DUE.name in known.custom_attributes
