"""Processes the tests start and stop for real: a worker in its own process (so SIGKILL
is real), an embedded Temporal server on its own data folder and port (stopped and
started again), and `dvds up` itself."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio.client import Client

from dvds.connection.client import connect
from dvds.connection.server import EmbeddedServer
from dvds.settings import Settings
from tests.helpers.eventually import eventually
from tests.helpers.paths import ROOT
from tests.helpers.ports import free_port


class WorkerProcess:
    """`python worker.py` as deployed: settings from the environment, one log file."""

    def __init__(self, address: str, queue: str, home: Path, name: str, **dvds_env: str) -> None:
        self.env = {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "DVDS_TASK_QUEUE": queue,
            "DVDS_HOME": str(home),
            **{f"DVDS_{key.upper()}": value for key, value in dvds_env.items()},
        }
        self.log_path = home / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, within: float = 90.0) -> None:
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "worker.py", cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        process = self.process

        async def polling() -> bool:
            # The worker logs "worker started" once it polls its queue.
            assert process.returncode is None, f"the worker exited; see {self.log_path}"
            return "worker started" in self.log_path.read_text(errors="replace")

        await eventually(polling, within, f"the worker starting (see {self.log_path})")

    async def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight activities and workflow tasks abandoned."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), 30)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), 60)


class ServerOnDisk:
    """The embedded server (dvds.connection.server.EmbeddedServer, headless) on its own SQLite file
    and port. `kill()` and `stop()` end it; `start()` brings it back on the same file."""

    def __init__(self, home: Path) -> None:
        self.settings = Settings(home=home, server_port=free_port())
        self.server = EmbeddedServer(self.settings, ui=False)

    @property
    def address(self) -> str:
        return self.server.address

    async def start(self) -> Client:
        await self.server.start(within=120)
        return await connect(self.settings, self.address)

    def stop(self) -> None:
        self.server.stop()

    def kill(self) -> None:
        process = self.server.process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)  # the CLI and its server child, as a power cut would
        process.wait()


@asynccontextmanager
async def server_on_disk(home: Path) -> AsyncIterator[ServerOnDisk]:
    server = ServerOnDisk(home)
    try:
        yield server
    finally:
        server.stop()


def environment(env: dict[str, str], unset: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment with `env` over it and the `unset` names taken out."""
    return {k: v for k, v in {**os.environ, **env}.items() if k not in unset}


@asynccontextmanager
async def dvds_up(env: dict[str, str], unset: tuple[str, ...] = ()) -> AsyncIterator[list[str]]:
    """Run `dvds up` (with `env`, without the `unset` variables) until it says the worker is
    running; Ctrl-C it afterwards. Yields the lines it printed up to then."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dvds", "up", "--no-ui",
        env=environment(env, unset), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(90):
            while not any("Worker running" in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, f"dvds up exited early: {seen}"
                seen.append(line)
        yield seen
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            rest = (await process.stdout.read()).decode()
            code = await process.wait()
        assert code == 0, f"dvds up did not stop cleanly: {rest}"
        assert "Stopped." in rest
