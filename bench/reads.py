"""`python -m bench.run --reads [--rows 3582]`: what staff and auditors wait for, at scale.

Imports N demo rows (each case left waiting for its review), then times each read as a
person meets it: `dvds` commands as whole processes, and the web pages over HTTP, signed in
(a reviewer's inbox, an auditor's report and search, a case page), beside the Go `temporal`
CLI's count and list on the same server. Each is the median of RUNS after a warm-up;
ratios are to the anchor named beside it.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.cli_startup import RUNS, Timing, byte_compile, dvds_command, time_pair
from bench.measure import Phase, chunks, load_average, machine
from bench.phases import engine_import, timed_plan
from bench.setup import CASE_QUEUE, BenchWorld, free_port
from bench.worker_handle import ROOT, WorkerProcess, worker_env
from dvds.cases.client import CaseClient
from dvds.connection.client import connect
from dvds.connection.server import temporal_binary
from dvds.importer.demo_data import demo_export
from workflows.report_facts import REPORT_FACTS

PASSWORD = "bench-reads-password"  # noqa: S105 - the bench's own throwaway staff
READER = "RV501"
AUDITOR = "AU800"


@dataclass
class ReadsReport:
    cases: int
    machine: dict[str, str]
    load_before: str
    load_after: str = ""
    commit: str = ""
    import_seconds: float = 0.0
    reused: bool = False  # the cases were imported by an earlier run on the same --home
    timings: list[Timing] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # page -> bytes

    def as_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "commit": self.commit, "machine": self.machine, "load_before": self.load_before,
                "load_after": self.load_after, "import_seconds": round(self.import_seconds, 1),
                "reused": self.reused, "runs": RUNS,
                "timings": [t.__dict__ | {"ratio": t.ratio} for t in self.timings], "page_bytes": self.sizes}

    def text(self) -> str:
        lines = [f"DVDS bench, reads at {self.cases} imported cases (wall seconds, median of {RUNS} after a warm-up)",
                 f"machine: {self.machine['nproc']} cpus, {self.machine['cpu']}, {self.machine['memory']}; "
                 f"load average before {self.load_before}, after {self.load_after}",
                 f"commit {self.commit}; import: " + (f"{self.cases} cases imported by an earlier run" if self.reused
                                                         else f"{self.cases} cases in {self.import_seconds:.0f} s")]
        for t in self.timings:
            size = f" [{self.sizes[t.command] // 1024} kB]" if t.command in self.sizes else ""
            anchor = f"   vs {t.anchor_median:.3f} s  {t.anchor}  (x{t.ratio:.2f})" if t.anchor else ""
            shown = f"  [first output at {t.first_output:.3f} s]" if t.first_output else ""
            lines.append(f"{t.median:6.3f} s  {t.command}{size}{anchor}{shown}")
        return "\n".join(lines)


def with_passwords(world: BenchWorld) -> None:
    """A reviewer and an auditor who can sign in to the web pages."""
    import json

    from dvds.staff.passwords import hash_password

    path = world.settings.staff_path
    directory = json.loads(path.read_text())
    if all(member["id"] != AUDITOR for member in directory["staff"]):  # a kept world has them already
        directory["staff"].append({"id": AUDITOR, "name": "Bench Auditor", "roles": ["auditor"], "team": "audit"})
    hashed = hash_password(PASSWORD)
    for member in directory["staff"]:
        if member["id"] in (READER, AUDITOR):
            member["password_hash"] = hashed
    path.write_text(json.dumps(directory))


@asynccontextmanager
async def web_inbox(env: dict[str, str], world: BenchWorld) -> AsyncIterator[str]:
    """`dvds web` as a person starts it, in its own process; yields its address once it answers."""
    import asyncio
    import subprocess

    port = free_port()
    log = (world.home / "web.log").open("ab")
    process = subprocess.Popen([*dvds_command(), "web"], cwd=ROOT, env={**env, "DVDS_WEB_PORT": str(port)},
                               stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(300):
                if process.poll() is not None:
                    raise RuntimeError(f"dvds web exited; see {world.home / 'web.log'}")
                try:
                    await http.get("/sign-in")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@asynccontextmanager
async def signed_in(base: str, staff_id: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=300) as http:
        page = await http.get("/sign-in")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, "no sign-in form"
        signed = await http.post("/sign-in", data={"staff_id": staff_id, "password": PASSWORD, "next": "/inbox",
                                                   "csrf_token": found.group(1)})
        assert signed.status_code == 303, f"sign-in as {staff_id} refused ({signed.status_code})"
        yield http


async def _time_page(http: httpx.AsyncClient, path: str, anchor: Timing | None) -> tuple[Timing, int]:
    async def once() -> tuple[float, int]:
        began = time.perf_counter()
        response = await http.get(path)
        seconds = time.perf_counter() - began
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[-300:]}")
        return seconds, len(response.content)

    await once()
    runs = [await once() for _ in range(RUNS)]
    seconds = [s for s, _ in runs]
    timing = Timing(f"web GET {path}", statistics.median(seconds), seconds,
                    anchor.command if anchor else None, anchor.median if anchor else None)
    return timing, runs[-1][1]


async def run(args: argparse.Namespace, world: BenchWorld) -> ReadsReport:
    report = ReadsReport(args.rows, machine(), load_average(), commit=_commit())
    address = world.server.address
    env = worker_env(world.env, address, world.home, CASE_QUEUE)
    with_passwords(world)
    cases = CaseClient(await connect(world.settings, address, world.keys), world.settings, signer=world.signer)
    engine = WorkerProcess("case", CASE_QUEUE, world.home, env)
    await engine.start()
    try:
        phase = Phase("import", 0)
        planned = timed_plan(demo_export(args.rows, args.seed, "READ"), cases.policy, phase)
        # A kept world (--home of an earlier --keep run) already holds its cases: read them again.
        report.reused = await cases.count_cases() >= len(planned.to_start)
        if not report.reused:
            for chunk in chunks(planned.to_start, args.chunk):
                await engine_import(cases, chunk, engine, args.concurrency, args.phase_timeout, phase)
            report.import_seconds = phase.seconds
        await _all_published(cases, len(planned.to_start))
        ref = planned.to_start[len(planned.to_start) // 2].case_ref
        byte_compile()
        report.timings += _cli_timings(env, address, ref)
        async with web_inbox(env, world) as base:
            anchors = {t.anchor: t for t in report.timings if t.anchor}
            count = _anchor(anchors, "count")
            page = _anchor(anchors, "--limit 200")
            async with signed_in(base, READER) as reader:
                # The inbox shows its rows, then asks its lists' counts (/inbox/counts) apart.
                for path, anchor in (("/inbox", page), ("/inbox/counts", count), (f"/cases/{ref}", None)):
                    timing, size = await _time_page(reader, path, anchor)
                    report.timings.append(timing)
                    report.sizes[timing.command] = size
            async with signed_in(base, AUDITOR) as auditor:
                for path, anchor in (("/report", count), ("/search?historical=yes", page)):
                    timing, size = await _time_page(auditor, path, anchor)
                    report.timings.append(timing)
                    report.sizes[timing.command] = size
    finally:
        engine.stop()
    report.load_after = load_average()
    return report


def _commit() -> str:
    import subprocess

    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


def _anchor(anchors: dict[str, Timing], part: str) -> Timing | None:
    found = next((t for name, t in anchors.items() if name and part in name), None)
    return None if found is None else Timing(found.anchor or "", found.anchor_median or 0.0, [])


async def _all_published(cases: CaseClient, n: int) -> None:
    """Visibility shows every case with its report facts (eventually consistent, so polled)."""
    import asyncio

    for _ in range(600):
        if await cases.count_cases(f"{REPORT_FACTS.name} >= 1") >= n:
            return
        await asyncio.sleep(0.5)
    raise RuntimeError("the cases' report facts did not all reach visibility")


def _cli_timings(env: dict[str, str], address: str, ref: str) -> list[Timing]:
    dvds = dvds_command()
    temporal = [temporal_binary()]
    at = ["--address", address]
    count = [*temporal, "workflow", "count", *at]
    page = [*temporal, "workflow", "list", "--limit", "200", *at]
    every = [*temporal, "workflow", "list", *at]
    pairs: list[tuple[list[str], list[str] | None]] = [
        ([*dvds, "audit", "report"], count),
        ([*dvds, "audit", "report", "--historical"], count),
        ([*dvds, "task", "list", "--role", "reviewer"], page),
        ([*dvds, "case", "list"], page),
        ([*dvds, "case", "list", "--all"], every),
        ([*dvds, "case", "show", ref], [*temporal, "workflow", "describe", "-w", ref, *at]),
    ]
    return [time_pair(command, anchor, env) for command, anchor in pairs]
