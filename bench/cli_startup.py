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
    first_output: float | None = None  # median seconds until its first output (a list's page)

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


def _wall(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """The seconds until the command wrote its first output, and until it was done. A list
    prints its page, then the count of the whole list (which grows with it): the first is when a
    person reads the page."""
    import os

    began = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    first = os.read(process.stdout.fileno(), 1)
    shown = time.perf_counter() - began
    _, stderr = process.communicate()
    seconds = time.perf_counter() - began
    if process.returncode != 0 or not first:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}): {stderr.decode()[-500:]}")
    return shown, seconds


def byte_compile() -> None:
    """Write our own modules' bytecode, as pip writes it for a regular install. An editable
    install reads the source tree, and where PYTHONDONTWRITEBYTECODE is set (this machine sets
    it) every `dvds` command would compile each of its modules again before doing anything."""
    import compileall

    for package in ("dvds", "states", "workflows", "activities"):
        compileall.compile_dir(ROOT / package, quiet=1)
    compileall.compile_file(ROOT / "worker.py", quiet=1)


def time_pair(command: list[str], anchor: list[str] | None, env: dict[str, str]) -> Timing:
    """Run the command (and its anchor) in turn, RUNS times each after a warm-up of each."""
    _wall(command, env)
    if anchor:
        _wall(anchor, env)
    mine, shown, theirs = [], [], []
    for _ in range(RUNS):
        first, whole = _wall(command, env)
        mine.append(whole)
        shown.append(first)
        if anchor:
            theirs.append(_wall(anchor, env)[1])
    named = " ".join(["dvds", *command[len(dvds_command()):]])
    return Timing(named, statistics.median(mine), mine, " ".join(["temporal", *anchor[1:]]) if anchor else None,
                  statistics.median(theirs) if theirs else None, statistics.median(shown))


async def run(args: argparse.Namespace, world: BenchWorld) -> CliReport:
    report = CliReport(machine(), load_average())
    byte_compile()
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

