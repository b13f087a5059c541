"""`python -m bench.run --cli`: how long a person waits for a `dvds` command, as a whole
process, beside the Go `temporal` CLI doing the nearest thing on the same server.

Each command runs RUNS times after one warm-up, `dvds` and `temporal` in turn, and the
median wall time of each is kept (one slow or lucky run does not move it). The server
holds one open case and a worker, so `case show` queries a live case.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import load_average, machine
from bench.setup import CASE_QUEUE, BenchWorld
from bench.worker_handle import ROOT, WorkerProcess, worker_env
from dvds.cases.client import CaseClient
from dvds.connection.client import connect
from dvds.connection.server import temporal_binary
from states.models import Application

RUNS = 5
EXAMPLES = ROOT / "examples"


@dataclass
class Timing:
    command: str
    median: float
    runs: list[float]
    anchor: str | None = None
    anchor_median: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.median / self.anchor_median if self.anchor_median else None


@dataclass
class CliReport:
    machine: dict[str, str]
    load_before: str
    load_after: str = ""
    timings: list[Timing] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "load_before": self.load_before, "load_after": self.load_after,
                "runs": RUNS, "timings": [t.__dict__ for t in self.timings]}

    def text(self) -> str:
        lines = [f"DVDS bench, command start-up (wall seconds, median of {RUNS} after a warm-up)",
                 f"machine: {self.machine['nproc']} cpus, {self.machine['cpu']}, {self.machine['memory']}; "
                 f"load average before {self.load_before}, after {self.load_after}"]
        for t in self.timings:
            anchor = (f"   vs {t.anchor_median:.3f} s  {t.anchor}  (x{t.ratio:.1f})" if t.anchor else "")
            lines.append(f"{t.median:6.3f} s  {t.command}{anchor}")
        return "\n".join(lines)


def dvds_command() -> list[str]:
    """The installed console script beside this Python, as a person runs it."""
    script = Path(sys.executable).parent / "dvds"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dvds"]


def _wall(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return seconds


def time_pair(command: list[str], anchor: list[str] | None, env: dict[str, str]) -> Timing:
    """Run the command (and its anchor) in turn, RUNS times each after a warm-up of each."""
    _wall(command, env)
    if anchor:
        _wall(anchor, env)
    mine, theirs = [], []
    for _ in range(RUNS):
        mine.append(_wall(command, env))
        if anchor:
            theirs.append(_wall(anchor, env))
    shown = " ".join(["dvds", *command[len(dvds_command()):]])
    return Timing(shown, statistics.median(mine), mine, " ".join(["temporal", *anchor[1:]]) if anchor else None,
                  statistics.median(theirs) if theirs else None)


async def run(args: argparse.Namespace, world: BenchWorld) -> CliReport:
    report = CliReport(machine(), load_average())
    address = world.server.address
    env = worker_env(world.env, address, world.home, CASE_QUEUE)
    engine = WorkerProcess("case", CASE_QUEUE, world.home, env)
    await engine.start()
    try:
        cases = CaseClient(await connect(world.settings, address, world.keys), world.settings, signer=world.signer)
        application = Application.model_validate_json((EXAMPLES / "application.json").read_text())
        ref = (await cases.start_application(application, "OP1")).ref
        dvds = dvds_command()
        temporal = [temporal_binary()]
        at = ["--address", address]
        pairs: list[tuple[list[str], list[str] | None]] = [
            ([*dvds, "--help"], [*temporal, "--help"]),
            ([*dvds, "case", "--help"], [*temporal, "workflow", "--help"]),
            ([*dvds, "case", "show", ref], [*temporal, "workflow", "describe", "-w", ref, *at]),
            ([*dvds, "case", "list", "--json"], [*temporal, "workflow", "list", *at]),
            ([*dvds, "task", "list", "--json"], None),
            ([*dvds, "states", "diagram"], None),
        ]
        for command, anchor in pairs:
            report.timings.append(time_pair(command, anchor, env))
    finally:
        engine.stop()
    report.load_after = load_average()
    return report

