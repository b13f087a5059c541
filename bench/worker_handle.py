"""The bench's side of a worker subprocess: start it, wait on its counts, read its memory, stop it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bench.measure import peak_rss_mb, rss_mb

ROOT = Path(__file__).resolve().parent.parent


class WorkerProcess:
    def __init__(self, kind: str, queue: str, home: Path, env: dict[str, str]) -> None:
        self.kind = kind
        self.queue = queue
        self.status_path = home / f"worker-{kind}.status.json"
        self.log_path = home / f"worker-{kind}.log"
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, within: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.worker_process", self.kind, self.queue, str(self.status_path)],
            cwd=ROOT, env=self.env, stdout=log, stderr=log,
        )
        await self.wait_for(lambda s: True, within, "the worker to start")

    def status(self) -> dict[str, int]:
        try:
            return json.loads(self.status_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    async def wait_for_activities(self, count: int, within: float) -> None:
        await self.wait_for(lambda s: s.get("activities", 0) >= count, within, f"{count} activities")

    async def wait_for(self, done: object, within: float, what: str) -> dict[str, int]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the {self.kind} worker exited; see {self.log_path}")
            status = self.status()
            if status and done(status):  # type: ignore[operator]
                return status
            if loop.time() > deadline:
                raise RuntimeError(f"waited {within:.0f}s for {what} from the {self.kind} worker; status {status}")
            await asyncio.sleep(0.05)

    def memory(self) -> dict[str, float | None]:
        return {"peak_rss_mb": peak_rss_mb(self.pid), "rss_mb": rss_mb(self.pid)}

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def worker_env(base: dict[str, str], address: str, home: Path, queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DVDS_", "TEMPORAL_"))}
    env.update(base)
    env.update({"TEMPORAL_ADDRESS": address, "DVDS_HOME": str(home), "DVDS_TASK_QUEUE": queue,
                "PYTHONPATH": str(ROOT)})
    return env
