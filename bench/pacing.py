"""`python -m bench.pacing --rows N`: one big file in one import against the same rows in chunks.

In one run, on one embedded server and one case worker, each of N fresh rows: "chunks"
imports them in chunks of 600 (waiting for the worker after each, as the campaign did),
"paced" in one go paced on the task queue's backlog (as `dvds import` runs), "unpaced" in
one go without pacing. The default order chunks, paced, paced, chunks cancels a drift in
the machine's load or the server's growing database. A run may name its own size
(`--order chunks:30000,paced:60000,chunks:30000`: one 60,000-row file in one go between two
halves of the chunked rows, which cancels a steady drift in two thirds of the time of four
full runs). Each is timed from the first start until the worker has run every case's first
activity and visibility shows them all; the backlog is sampled once a second throughout,
and progress printed every `--progress` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Phase, chunks, load_average, machine
from bench.phases import engine_import, timed_plan
from bench.setup import CASE_QUEUE, BenchWorld, make_world
from bench.worker_handle import ROOT, WorkerProcess, worker_env
from dvds.cases.client import CaseClient
from dvds.connection.client import connect
from dvds.importer.demo_data import demo_export
from dvds.importer.pacing import DEFAULT_BACKLOG, BacklogGate


@dataclass
class Mode:
    name: str
    phase: Phase
    peak_backlog: int = 0
    samples: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"cases": self.phase.cases, "seconds": round(self.phase.seconds, 1),
                "cases_per_second": round(self.phase.per_second, 1), "peak_backlog": self.peak_backlog}


async def _sample(gate: BacklogGate, mode: Mode, engine: WorkerProcess, every: float) -> None:
    loop = asyncio.get_running_loop()
    began, first = loop.time(), engine.status().get("activities", 0)
    last = began
    while True:
        backlog = await gate.backlog()
        mode.peak_backlog = max(mode.peak_backlog, backlog)
        mode.samples.append(backlog)
        if loop.time() - last >= every:
            last = loop.time()
            done = engine.status().get("activities", 0) - first
            print(f"  {mode.name}: {done} first activities run in {last - began:.0f} s, backlog {backlog}, "
                  f"load {load_average()}", flush=True)
        await asyncio.sleep(1)


def runs(order: str, rows: int) -> list[tuple[str, int]]:
    """`chunks,paced` or `chunks:30000,paced:60000`: each run's kind and its rows."""
    parsed = []
    for item in order.split(","):
        kind, _, size = item.partition(":")
        parsed.append((kind, int(size) if size else rows))
    return parsed


def _commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip()


async def run(args: argparse.Namespace, world: BenchWorld) -> dict[str, Any]:
    load_before = load_average()
    address = world.server.address
    cases = CaseClient(await connect(world.settings, address, world.keys), world.settings, signer=world.signer)
    engine = WorkerProcess("case", CASE_QUEUE, world.home, worker_env(world.env, address, world.home, CASE_QUEUE))
    await engine.start()
    gate = BacklogGate(cases.client, CASE_QUEUE)
    kinds = {"chunks": (args.chunk, None), "paced": (0, args.backlog), "unpaced": (0, None)}
    modes: dict[str, Mode] = {}
    planned_runs = runs(args.order, args.rows)
    try:
        for n, (kind, rows) in enumerate(planned_runs):
            chunk, backlog = kinds[kind]
            mode = modes.setdefault(kind, Mode(kind, Phase(kind, 0)))
            sampling = asyncio.create_task(_sample(gate, mode, engine, args.progress))
            began = (mode.phase.cases, mode.phase.seconds)
            try:
                planned = timed_plan(demo_export(rows, args.seed, f"P{n}{kind[:3].upper()}"), cases.policy,
                                     mode.phase)
                for part in chunks(planned.to_start, chunk or len(planned.to_start)):
                    await engine_import(cases, part, engine, args.concurrency, args.phase_timeout, mode.phase,
                                        backlog)
            finally:
                sampling.cancel()
            done, seconds = mode.phase.cases - began[0], mode.phase.seconds - began[1]
            print(f"{kind}: {done} cases in {seconds:.0f} s ({done / seconds:.1f}/s), "
                  f"peak backlog so far {mode.peak_backlog}, load {load_average()}", flush=True)
    finally:
        engine.stop()
    ratio = (round(modes["paced"].phase.per_second / modes["chunks"].phase.per_second, 3)
             if {"paced", "chunks"} <= modes.keys() else None)
    return {"runs": [f"{kind}:{rows}" for kind, rows in planned_runs], "machine": machine(),
            "load_before": load_before, "load_after": load_average(),
            "commit": _commit(), "backlog_limit": args.backlog, "concurrency": args.concurrency,
            "order": args.order, "modes": {m.name: m.as_dict() for m in modes.values()},
            "paced_over_chunked": ratio}


async def main(args: argparse.Namespace) -> int:
    world = make_world()
    await world.server.start()
    try:
        result = await run(args, world)
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2))
    finally:
        world.server.stop()
        shutil.rmtree(world.home, ignore_errors=True)
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pacing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=6000, help="rows per mode (60,000 on a quiet machine)")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--chunk", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backlog", type=int, default=DEFAULT_BACKLOG, help="the pacing limit")
    parser.add_argument("--order", default="chunks,paced,paced,chunks", help="the runs, each of --rows fresh "
                        "rows or KIND:ROWS (kinds: chunks, paced, unpaced)")
    parser.add_argument("--progress", type=float, default=300, help="seconds between progress lines")
    parser.add_argument("--phase-timeout", type=float, default=3600)
    parser.add_argument("--json", type=Path)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
