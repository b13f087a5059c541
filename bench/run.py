"""`python -m bench.run [--rows 3582] [--smoke] [--open-cases N] [--cli] [--reads] [--profile DIR]`

One embedded server in a temp DVDS_HOME (its own ports, the SQLite pragmas of `dvds up`);
workers as subprocesses (their peak memory read from /proc); the bench itself is the
client. In one run: bare Temporal (starts, then updates), then the case engine (import
of N demo rows through the importer, then the review of every case). Prints cases per
second, the ratios engine / bare, update latency and the worker's memory and cache.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench import cli_startup, open_cases, reads
from bench.measure import CpuMeter, Phase, chunks, load_average, machine
from bench.phases import (
    bare_lifecycle,
    bare_starts,
    engine_import,
    engine_lifecycle,
    engine_look_backs,
    look_backs_for,
    reviews_in,
    timed_plan,
)
from bench.profiling import Recording, hottest
from bench.report import Report
from bench.setup import BARE_QUEUE, CASE_QUEUE, BenchWorld, make_world
from bench.tally import tally
from bench.worker_handle import WorkerProcess, worker_env
from dvds.cases.client import CaseClient
from dvds.connection.client import connect
from dvds.importer.campaign import PROFILES, CampaignProfile, write_campaign_export
from dvds.importer.demo_data import write_demo_export
from states.submissions import FailureType

# `--smoke --campaign NAME`: the profile's kind of file, a few rows of each failure kind.
SMOKE_CAMPAIGN = CampaignProfile(rows=60, service=2, harm=1, administrative=2)


def demo_export(rows: int, seed: int, prefix: str = "BENCH", campaign: str | None = None,
                smoke: bool = False) -> bytes:
    """What `dvds demo-data --rows N --seed S` (or `--profile NAME`) writes."""
    out = io.StringIO(newline="")
    if campaign is not None:
        write_campaign_export(out, SMOKE_CAMPAIGN if smoke else PROFILES[campaign], seed, prefix)
    else:
        write_demo_export(out, rows, seed, prefix)
    return out.getvalue().encode()


async def outcome(client: Client, world: BenchWorld, cases: int, within: float) -> dict[str, int]:
    """Where the cases ended, from visibility (eventually consistent, so polled) and the outbox."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        counts = {state: (await client.count_workflows(
            f"WorkflowType = 'CaseWorkflow' AND DvdsState = '{state}'")).count for state in ("closed", "referred")}
        if sum(counts.values()) >= cases or loop.time() > deadline:
            break
        await asyncio.sleep(0.5)
    counts["iopc_outbox_files"] = len(list(world.settings.outbox.glob("*.json")))
    for failure_type in FailureType:
        counts[f"failures_{failure_type}"] = (await client.count_workflows(
            f"WorkflowType = 'CaseWorkflow' AND DvdsFailureType = '{failure_type}'")).count
    return counts


async def alternate(runs: list[tuple[Phase, Coroutine[Any, Any, None]]], n: int, meters: dict[str, CpuMeter]) -> None:
    """Run a chunk of each kind, bare first in even chunks and engine first in odd ones,
    counting the CPU each process spends on each."""
    for phase, run in runs if n % 2 == 0 else reversed(runs):
        meter = meters[phase.name.split()[0]]
        meter.start()
        await run
        phase.add_cpu(meter.spent())


async def campaign(args: argparse.Namespace, world: BenchWorld) -> Report:
    """Engine and bare in alternating chunks (bare first, then engine first, ...), so a
    change in the machine's load falls on both alike."""
    report = Report(args.rows, args.concurrency, machine(), load_average())
    export = demo_export(args.rows, args.seed, campaign=args.campaign, smoke=args.smoke)
    address = world.server.address
    cases = CaseClient(await connect(world.settings, address, world.keys), world.settings, signer=world.signer)
    plain = await Client.connect(address)
    within = args.phase_timeout
    phases = {name: Phase(name, 0) for name in ("bare starts", "bare lifecycle", "engine import", "engine lifecycle")}
    report.phases = phases
    bare = WorkerProcess("bare", BARE_QUEUE, world.home, worker_env(world.env, address, world.home, BARE_QUEUE))
    engine = WorkerProcess("case", CASE_QUEUE, world.home, worker_env(world.env, address, world.home, CASE_QUEUE))
    recordings: list[Recording] = []
    try:
        await bare.start()
        await engine.start()
        if args.profile and not args.profile_lifecycle:
            recordings = start_recordings(args.profile, engine.pid, bare.pid)
        assert world.server.process is not None
        meters = {kind: CpuMeter({"server": world.server.process.pid, "worker": w.pid, "client": os.getpid()})
                  for kind, w in (("bare", bare), ("engine", engine))}
        planned = timed_plan(export, cases.policy, phases["engine import"])
        reviews = reviews_in(planned.to_start, cases.policy.referral)
        rows = chunks(planned.to_start, args.chunk)
        for n, (row_chunk, review_chunk) in enumerate(zip(rows, chunks(reviews, args.chunk), strict=True)):
            runs = [(phases["bare starts"], bare_starts(plain, BARE_QUEUE, review_chunk, bare, args.concurrency,
                                                        within, phases["bare starts"])),
                    (phases["engine import"], engine_import(cases, row_chunk, engine, args.concurrency, within,
                                                            phases["engine import"]))]
            await alternate(runs, n, meters)
        gc_before_reviews = {kind: w.status().get("gc_ms", 0) for kind, w in (("bare", bare), ("case", engine))}
        if args.profile and args.profile_lifecycle:
            recordings = start_recordings(args.profile, engine.pid, bare.pid)
        for n, review_chunk in enumerate(chunks(reviews, args.chunk)):
            runs = [(phases["bare lifecycle"], bare_lifecycle(plain, review_chunk, bare, args.concurrency, within,
                                                              phases["bare lifecycle"])),
                    (phases["engine lifecycle"], engine_lifecycle(cases, review_chunk, engine, args.concurrency,
                                                                  within, phases["engine lifecycle"]))]
            await alternate(runs, n, meters)
        looked_at = set().union(*look_backs_for(reviews).values())
        if looked_at:
            phases["engine look-backs"] = Phase("engine look-backs", 0)
            await engine_look_backs(cases, sorted(looked_at), args.concurrency, within, phases["engine look-backs"])
        # The report reads the cases the staff table counts one by one: a query each, so the worker is up.
        report.tally = await tally(cases, reviews, min(within, 120))
        report.workers["bare"] = {**bare.memory(), **bare.status()}
        report.workers["case"] = {**engine.memory(), **engine.status()}
        for kind, before in gc_before_reviews.items():
            report.workers[kind]["gc_ms_reviews"] = report.workers[kind].get("gc_ms", 0) - before
    finally:
        for recording in recordings:
            recording.stop()
        bare.stop()
        engine.stop()
    report.outcome = await outcome(cases.client, world, len(reviews), within)
    report.load_after = load_average()
    return report


def start_recordings(folder: Path, worker_pid: int, bare_pid: int) -> list[Recording]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Recording(worker_pid, folder / "worker.txt"), Recording(bare_pid, folder / "bare-worker.txt"),
            Recording(os.getpid(), folder / "client.txt")]


async def main(args: argparse.Namespace) -> int:
    """0, or 1 when the campaign's tally differs from what its rows and the policy imply."""
    code = 0
    world = make_world(args.home, args.cache)
    await world.server.start()
    try:
        if args.reads:
            measured = await reads.run(args, world)
            print(measured.text())
            data = measured.as_dict()
        elif args.cli:
            timed = await cli_startup.run(args, world)
            print(timed.text())
            data = timed.as_dict()
        elif args.open_cases:
            result = await open_cases.run(args, world)
            print(result.text())
            data = result.as_dict()
        else:
            report = await campaign(args, world)
            print(report.text())
            data = report.as_dict()
            if report.tally is not None and report.tally.differences:
                code = 1
            if args.profile:
                for name in ("worker", "client"):
                    print(f"\nprofile {name}: hottest functions (share of samples, inclusive)")
                    for frame, share in hottest(args.profile / f"{name}.txt", 30):
                        print(f"  {share:6.1%}  {frame}")
        if args.json:
            args.json.write_text(json.dumps(data, indent=2))
    finally:
        world.server.stop()
        if not args.keep and args.home is None:
            shutil.rmtree(world.home, ignore_errors=True)
    return code


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3582, help="historical rows (default: the Wiltshire review's)")
    parser.add_argument("--seed", type=int, default=2015, help="demo-data seed")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight (the importer's default)")
    parser.add_argument("--chunk", type=int, default=600, help="cases per chunk; engine and bare chunks alternate")
    parser.add_argument("--cache", type=int,
                        help="max_cached_workflows of both workers (default: DVDS_MAX_CACHED_CASES, 1000)")
    parser.add_argument("--smoke", action="store_true", help="20 rows: checks the bench works, measures nothing")
    parser.add_argument("--campaign", choices=sorted(PROFILES),
                        help="the export a review profile writes (dvds demo-data --profile), its rows and failures")
    parser.add_argument("--open-cases", type=int, default=0, metavar="N",
                        help="instead: start N open cases, then time case show and task list")
    parser.add_argument("--cli", action="store_true",
                        help="instead: time dvds commands as whole processes beside the temporal CLI")
    parser.add_argument("--reads", action="store_true",
                        help="instead: import --rows cases, then time the report, lists and pages people read")
    parser.add_argument("--profile", type=Path, help="py-spy the case worker and the importer into this folder")
    parser.add_argument("--profile-lifecycle", action="store_true",
                        help="with --profile: record the reviews only, from the end of the imports")
    parser.add_argument("--json", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--home", type=Path, help="DVDS_HOME to use, and keep (default: a temp folder, removed after); "
                        "--reads on a home an earlier run made reads its cases again")
    parser.add_argument("--keep", action="store_true", help="keep the temp DVDS_HOME (server log, worker logs)")
    parser.add_argument("--phase-timeout", type=float, default=1800, help="seconds a phase may take")
    args = parser.parse_args(argv)
    if args.campaign:
        args.rows = PROFILES[args.campaign].rows
    if args.smoke:
        args.rows = SMOKE_CAMPAIGN.rows if args.campaign else 20
        args.chunk = 10
        args.phase_timeout = min(args.phase_timeout, 240)
    return args


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
