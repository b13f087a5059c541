"""`dvds up`: the embedded server and worker, stopped and started again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.cli_runner import dvds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def dvds_up(env: dict[str, str]) -> AsyncIterator[None]:
    """Run `dvds up` until it says the worker is running; Ctrl-C it afterwards."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dvds", "up", "--no-ui",
        env={**os.environ, **env}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    seen: list[str] = []
    try:
        async with asyncio.timeout(90):
            while not any("Worker running" in line for line in seen):
                line = (await process.stdout.readline()).decode()
                assert line, f"dvds up exited early: {seen}"
                seen.append(line)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        async with asyncio.timeout(60):
            rest = (await process.stdout.read()).decode()
            code = await process.wait()
        assert code == 0, f"dvds up did not stop cleanly: {rest}"
        assert "Stopped." in rest


async def test_case_survives_dvds_up_restart(tmp_path: Path) -> None:
    """A case started under `dvds up` is still there, with its tasks, after stopping and starting again."""
    port = free_port()
    env = {
        "DVDS_HOME": str(tmp_path / "home"),
        "DVDS_SERVER_PORT": str(port),
        "DVDS_UI_PORT": str(free_port()),
        "DVDS_WEB_PORT": str(free_port()),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
    }
    async with dvds_up(env):
        ref = (await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1",
                          env=env)).out.strip()
        done = await dvds("task", "complete", ref, "research", "--actor", "R100", "--role", "researcher",
                          "--file", "examples/tasks/research.json", env=env)
        assert done.code == 0, done.err
    assert (tmp_path / "home" / "temporal.sqlite").exists()
    async with dvds_up(env):
        shown = await dvds("case", "show", ref, "--json", env=env)
        assert shown.code == 0, shown.err
        snapshot = json.loads(shown.out)
        assert snapshot["state"] == "researched" and snapshot["pending_tasks"] == ["risk_assessment"]
