"""`python -m bench.run --open-cases N`: a year of national volume left open.

Starts N historical cases through the importer (each left waiting for its review), then
times what staff do on a full server: `dvds case show` (a case long evicted from the
worker's cache is replayed to answer) and `dvds task list`, both as the real CLI in a
subprocess. The worker's memory is sampled while the cases start: it should follow
its cache size (max_cached_workflows), not the number of open cases.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from bench.measure import Phase, chunks, load_average, machine, rss_mb
from bench.phases import engine_import, timed_plan
from bench.setup import CASE_QUEUE, BenchWorld
from bench.worker_handle import ROOT, WorkerProcess, worker_env
from dvds.cases.client import CaseClient
from dvds.connection.client import connect
from dvds.importer.demo_data import demo_export


@dataclass
class OpenCasesReport:
    cases: int
    machine: dict[str, str]
    load_before: str
    load_after: str = ""
    start: Phase | None = None
    memory_samples: list[tuple[int, float]] = field(default_factory=list)  # (cases started, RSS MB)
    worker: dict[str, Any] = field(default_factory=dict)
    commands: dict[str, float] = field(default_factory=dict)  # command -> seconds
    open_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"open_cases": self.cases, "machine": self.machine, "load_before": self.load_before,
                "load_after": self.load_after,
                "start_cases_per_second": round(self.start.per_second, 1) if self.start else None,
                "start_seconds": round(self.start.seconds, 1) if self.start else None,
                "memory_samples": self.memory_samples, "worker": self.worker,
                "commands_seconds": self.commands, "open_count": self.open_count}

    def text(self) -> str:
        lines = [f"DVDS bench, open cases: {self.cases}",
                 f"machine: {self.machine['nproc']} cpus, {self.machine['cpu']}, {self.machine['memory']}; "
                 f"load average before {self.load_before}, after {self.load_after}"]
        if self.start:
            lines.append(f"started {self.start.cases} cases in {self.start.seconds:.0f} s "
                         f"({self.start.per_second:.1f} cases/s); open on the server: {self.open_count}")
        lines.append("worker memory while starting (cases started: RSS MB): "
                     + ", ".join(f"{n}: {mb:.0f}" for n, mb in self.memory_samples))
        w = self.worker
        lines.append(f"case worker: peak memory {w.get('peak_rss_mb', 0):.0f} MB, cases in cache {w.get('cached')} "
                     f"(max_cached_workflows {w.get('max_cached')})")
        for command, seconds in self.commands.items():
            lines.append(f"{seconds:6.2f} s  {command}")
        return "\n".join(lines)


def _time_cli(world: BenchWorld, args: list[str]) -> float:
    env = worker_env(world.env, world.server.address, world.home, CASE_QUEUE)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dvds", *args], cwd=ROOT, env=env, capture_output=True)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"dvds {' '.join(args)} failed: {done.stderr.decode()[-500:]}")
    return seconds


async def run(args: argparse.Namespace, world: BenchWorld) -> OpenCasesReport:
    report = OpenCasesReport(args.open_cases, machine(), load_average())
    export = demo_export(args.open_cases, args.seed, "OPEN")
    address = world.server.address
    cases = CaseClient(await connect(world.settings, address, world.keys), world.settings, signer=world.signer)
    engine = WorkerProcess("case", CASE_QUEUE, world.home, worker_env(world.env, address, world.home, CASE_QUEUE))
    await engine.start()
    try:
        sampling = asyncio.create_task(_sample_memory(engine, report))
        report.start = Phase("open cases", 0)
        try:
            planned = timed_plan(export, cases.policy, report.start)
            # In chunks, as the campaign imports: the importer starts cases faster than a
            # worker takes their first tasks, and a backlog of tens of thousands of tasks
            # makes the dev server spill its task queue to SQLite (60,000 in one go started
            # 17 cases a second, the server at a full core, against ~45 in chunks).
            for chunk in chunks(planned.to_start, args.chunk):
                await engine_import(cases, chunk, engine, args.concurrency, args.phase_timeout, report.start)
        finally:
            sampling.cancel()
        report.open_count = (await cases.client.count_workflows(
            "WorkflowType = 'CaseWorkflow' AND ExecutionStatus = 'Running'")).count
        refs = [row.case_ref for row in planned.to_start]  # the export's order (its notes may span lines)
        for ref in (refs[0], refs[len(refs) // 2], refs[-1]):
            report.commands[f"dvds case show {ref}"] = _time_cli(world, ["case", "show", ref])
        for extra in ([], ["--limit", "100"]):
            command = ["task", "list", "--role", "reviewer", "--json", *extra]
            report.commands["dvds " + " ".join(command)] = _time_cli(world, command)
        report.commands["dvds case list --state received --json"] = _time_cli(
            world, ["case", "list", "--state", "received", "--json"])
        report.worker = {**engine.memory(), **engine.status()}
    finally:
        engine.stop()
    report.load_after = load_average()
    return report


async def _sample_memory(engine: WorkerProcess, report: OpenCasesReport) -> None:
    step = max(1000, report.cases // 12)
    next_mark = 0
    while True:
        started = engine.status().get("activities", 0)
        if started >= next_mark:
            mb = rss_mb(engine.pid)
            if mb is not None:
                report.memory_samples.append((started, round(mb, 1)))
            next_mark = started + step
        await asyncio.sleep(0.5)
