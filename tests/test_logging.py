"""Worker logs: JSON lines with the case's reference, state, task and actor; no personal
data; no duplicate lines when a new worker replays a case."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

from temporalio.client import Client

from states.roles import Task
from tests.helpers.cases import application, start_case, submit

ROOT = Path(__file__).resolve().parent.parent


async def run_worker_process(client: Client, queue: str, home: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "worker.py", cwd=ROOT, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        env={**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host,
             "DVDS_TASK_QUEUE": queue, "DVDS_HOME": str(home)},
    )


async def stop(process: asyncio.subprocess.Process) -> list[dict[str, object]]:
    process.terminate()
    assert process.stderr is not None
    raw = (await asyncio.wait_for(process.stderr.read(), 60)).decode()
    await process.wait()
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


class _Worker:
    def __init__(self, queue: str) -> None:
        self.task_queue = queue


async def test_logs_are_json_with_case_fields_and_no_replay_duplicates(client: Client, tmp_path: Path) -> None:
    """Two workers, the second replaying the case: each transition is logged once, as JSON, without names."""
    queue = f"test-{uuid.uuid4()}"
    app = application()
    first = await run_worker_process(client, queue, tmp_path)
    handle = await start_case(client, _Worker(queue), application=app)  # type: ignore[arg-type]
    await submit(handle, Task.research, "R100")
    await submit(handle, Task.risk_assessment, "RA200")
    lines = await stop(first)
    second = await run_worker_process(client, queue, tmp_path)
    await submit(handle, Task.withdrawal, "OP1")
    await submit(handle, Task.review, "RV500")
    await handle.result()
    lines += await stop(second)

    moved = [line for line in lines if line.get("event") == "case moved"]
    assert [(m["task"], m["state"]) for m in moved] == [
        ("research", "researched"), ("risk_assessment", "risk_assessed"),
        ("withdrawal", "withdrawn"), ("review", "reviewed"), ("review", "closed")]
    assert all(m["case_ref"] == handle.id and m["actor"] and m["role"] for m in moved)
    text = json.dumps(lines)
    for secret in (app.person_at_risk.name, app.subject.name, *app.subject.aliases, app.safe_contact.detail):
        assert secret not in text
