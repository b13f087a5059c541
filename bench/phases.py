"""The four phases, each measured the same way: from the first call until the last call
has its answer, the worker has run the phase's last activity (work the worker does after
the client hears back counts too) and visibility shows the result. Each runs on a chunk
of the cases and adds to its Phase, so engine and bare chunks can alternate on a machine
whose load moves.

- bare starts / engine import: N workflow starts, each running one activity.
- bare lifecycle / engine lifecycle: one update a case; a case with a failure takes two
  updates. Bare: three more activities for every failure. The engine: three for a failure the
  referral policy refers (confirmation notice, IOPC referral, remedial-disclosure notice), one
  for one it does not (the confirmation notice, then closed), and, when the record names who
  decided or researched, one more that opens the look-backs (and an alert to Professional
  Standards for a repeat member of staff, not counted: how many depends on the order).
- engine look-backs (no bare counterpart): the look-back cases the confirmed failures opened,
  each reviewed once.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client

from bench.bare import BareWorkflow
from bench.measure import Phase, each_bounded, timed
from bench.worker_handle import WorkerProcess
from dvds.cases.client import CaseClient
from dvds.importer.campaign import Finding, review_finding
from dvds.importer.export import Plan, plan_import
from dvds.importer.rows import ImportRow, RowContext
from dvds.importer.run import run_import, tally_for
from states.lookback import look_back_ref, staff_on
from states.policy import DeadlinePolicy, ReferralPolicy
from states.record import Actor, ReviewPriority
from states.roles import Role, Task
from states.submissions import FailureType
from workflows import search

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "tasks"
BARE_ACTIVITIES_PER_FAILURE = 3  # bench/bare.py: one with the first update, two with the second
REVIEWERS = [f"RV{n}" for n in range(501, 537)]  # 36 staff seconded to the review
CONFIRMERS = [f"PS{n}" for n in range(601, 605)]


@dataclass(frozen=True)
class Review:
    ref: str
    finding: Finding | None
    referred: bool = False  # what the referral policy in force makes of the finding, once confirmed
    staff: tuple[str, ...] = ()  # who decided or researched, on the record

    @property
    def failure(self) -> bool:
        return self.finding is not None


def staff_directory() -> dict[str, Any]:
    """Reviewers who made no decision on these cases, Professional Standards to confirm, and the
    operator the command-line bench starts a case as."""
    staff = [{"id": "OP1", "name": "Bench Operator", "roles": ["operator"], "team": "control-room"}]
    staff += [{"id": i, "name": f"Reviewer {i}", "roles": ["reviewer"], "team": "review"} for i in REVIEWERS]
    staff += [{"id": i, "name": f"Standards {i}", "roles": ["professional_standards"], "team": "psd"}
              for i in CONFIRMERS]
    return {"staff": staff}


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def updates_for(reviews: list[Review]) -> int:
    return len(reviews) + sum(r.failure for r in reviews)


def bare_activities_for(reviews: list[Review]) -> int:
    return BARE_ACTIVITIES_PER_FAILURE * sum(r.failure for r in reviews)


def engine_activities_for(reviews: list[Review]) -> int:
    """The notices and referral of each confirmed failure, and the look-backs' opening where
    the record names its staff (workflows/lookback.py)."""
    failures = [r for r in reviews if r.failure]
    return sum((3 if r.referred else 1) + (1 if r.staff else 0) for r in failures)


def look_backs_for(reviews: list[Review]) -> dict[str, set[str]]:
    """By staff id, the cases their confirmed failures open a look-back of: every case naming
    them but the failure itself (states/lookback.py), each once however many failures name them."""
    by_staff: dict[str, set[str]] = {}
    for r in reviews:
        for staff_id in r.staff:
            by_staff.setdefault(staff_id, set()).add(r.ref)
    opened: dict[str, set[str]] = {}
    for failure in (r for r in reviews if r.failure):
        for staff_id in failure.staff:
            opened.setdefault(staff_id, set()).update(by_staff[staff_id] - {failure.ref})
    return opened


async def visible(client: Client, query: str, count: int, within: float) -> None:
    """The server writes visibility after the history, asynchronously. A chunk ends when
    `case list` would show its work, so its server-side work cannot spill into the next
    chunk's time (the engine's cases carry 13 search attributes to index, bare ones none)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (await client.count_workflows(query)).count < count:
        if loop.time() > deadline:
            raise RuntimeError(f"visibility did not show {count} for {query!r} in {within:.0f}s")
        await asyncio.sleep(0.1)


# ---- the case engine -----------------------------------------------------------


def plan(export: bytes, policy: DeadlinePolicy) -> Plan:
    context = RowContext(today=datetime.now(ZoneInfo(policy.timezone)).date(), timezone=policy.timezone)
    return plan_import(export, context)


def reviews_in(rows: list[ImportRow], referral: ReferralPolicy) -> list[Review]:
    """One review a row, finding what dvds.importer.campaign.review_finding finds (the possible
    failures to disclose, about 1% of a demo export; a campaign profile's planted failures);
    every failure found is confirmed, and referred as the policy in force says."""
    def review(ref: str, finding: Finding | None, staff: list[str]) -> Review:
        referred = finding is not None and referral.refers(str(finding.failure_type), finding.harm_occurred)
        return Review(ref, finding, referred, tuple(staff))

    found = [review(r.case_ref, review_finding(r.case.historical) if r.case.historical else None,
                    staff_on([], r.case.historical)) for r in rows]
    if not any(r.failure for r in found):
        # At least one failure, so a small run still exercises the referral.
        found[0] = review(found[0].ref, Finding(FailureType.service, False), list(found[0].staff))
    return found


def timed_plan(export: bytes, policy: DeadlinePolicy, phase: Phase) -> Plan:
    """The importer reads and checks the whole file first; that time counts to the import."""
    began = time.perf_counter()
    planned = plan(export, policy)
    phase.seconds += time.perf_counter() - began
    return planned


async def engine_import(cases: CaseClient, rows: list[ImportRow], worker: WorkerProcess, concurrency: int,
                        within: float, phase: Phase, backlog: int | None = None) -> None:
    """The importer's own entry point, in-process, on these rows of the plan (paced on the
    task queue's backlog when `backlog` is given, as `dvds import` is)."""
    before = worker.status().get("activities", 0)
    began = time.perf_counter()
    part = Plan(rows_read=len(rows), to_start=rows)
    tally = await run_import(cases, part, tally_for(part), concurrency, backlog=backlog)
    if tally.rejects or tally.already_imported:
        raise RuntimeError(f"the import did not start every row: {tally.counts()}")
    await worker.wait_for_activities(before + len(tally.started), within)
    phase.cases += len(tally.started)
    await visible(cases.client, "WorkflowType = 'CaseWorkflow'", phase.cases, within)
    phase.seconds += time.perf_counter() - began
    phase.activities += len(tally.started)


async def engine_lifecycle(cases: CaseClient, reviews: list[Review], worker: WorkerProcess, concurrency: int,
                           within: float, phase: Phase) -> None:
    before = worker.status().get("activities", 0)
    no_failure, failure, confirmed = example("review"), example("review_failure"), example("failure_confirmation")
    updates, activities = updates_for(reviews), engine_activities_for(reviews)

    async def review(case: Review) -> None:
        n = int(case.ref.rsplit("-", 1)[-1])
        reviewer = Actor(id=REVIEWERS[n % len(REVIEWERS)], role=Role.reviewer)
        found = case.finding
        submitted = no_failure if found is None else {
            **failure, "failure_type": str(found.failure_type), "harm_occurred": found.harm_occurred}
        snap = await timed(phase.latencies, cases.complete(case.ref, Task.review, reviewer, submitted))
        if not case.failure:
            assert snap.state == "closed", f"{case.ref} is {snap.state} after its review"
            return
        confirmer = Actor(id=CONFIRMERS[n % len(CONFIRMERS)], role=Role.professional_standards)
        snap = await timed(phase.latencies, cases.complete(case.ref, Task.failure_confirmation, confirmer, confirmed))
        expected = "referred" if case.referred else "closed"
        assert snap.state == expected, f"{case.ref} is {snap.state} after confirmation"

    began = time.perf_counter()
    await each_bounded(reviews, concurrency, review)
    await worker.wait_for_activities(before + activities, within)
    phase.cases += len(reviews)
    await visible(cases.client, "WorkflowType = 'CaseWorkflow' AND (DvdsState = 'closed' OR DvdsState = 'referred')",
                  phase.cases, within)
    phase.seconds += time.perf_counter() - began
    phase.updates += updates
    phase.activities += activities


async def engine_look_backs(cases: CaseClient, refs: list[str], concurrency: int, within: float,
                            phase: Phase) -> None:
    """Once every look-back the confirmations opened is visible, each reviewed: nothing found
    (a look-back of a case under review in its own right finds what that review counted)."""
    no_failure = example("review")
    began = time.perf_counter()
    await visible(cases.client, f"WorkflowType = 'CaseWorkflow' AND {search.PRIORITY.name} = "
                  f"'{ReviewPriority.look_back}'", len(refs), within)

    async def review(ref: str) -> None:
        reviewer = Actor(id=REVIEWERS[sum(map(ord, ref)) % len(REVIEWERS)], role=Role.reviewer)
        snap = await timed(phase.latencies, cases.complete(look_back_ref(ref), Task.review, reviewer, no_failure))
        assert snap.state == "closed", f"the look-back of {ref} is {snap.state} after its review"

    await each_bounded(sorted(refs), concurrency, review)
    phase.cases += len(refs)
    phase.updates += len(refs)
    phase.seconds += time.perf_counter() - began


# ---- bare Temporal -------------------------------------------------------------------


async def bare_starts(client: Client, queue: str, reviews: list[Review], worker: WorkerProcess, concurrency: int,
                      within: float, phase: Phase) -> None:
    before = worker.status().get("activities", 0)

    async def start(case: Review) -> None:
        await client.start_workflow(BareWorkflow.run, id=f"bare-{case.ref}", task_queue=queue)

    began = time.perf_counter()
    await each_bounded(reviews, concurrency, start)
    await worker.wait_for_activities(before + len(reviews), within)
    phase.cases += len(reviews)
    await visible(client, "WorkflowType = 'BareWorkflow'", phase.cases, within)
    phase.seconds += time.perf_counter() - began
    phase.activities += len(reviews)


async def bare_lifecycle(client: Client, reviews: list[Review], worker: WorkerProcess, concurrency: int,
                         within: float, phase: Phase) -> None:
    before = worker.status().get("activities", 0)
    updates, activities = updates_for(reviews), bare_activities_for(reviews)

    async def step(case: Review) -> None:
        handle = client.get_workflow_handle(f"bare-{case.ref}")
        if case.failure:
            await timed(phase.latencies, handle.execute_update(BareWorkflow.step, args=[1, False]))
            await timed(phase.latencies, handle.execute_update(BareWorkflow.step, args=[2, True]))
        else:
            await timed(phase.latencies, handle.execute_update(BareWorkflow.step, args=[0, True]))

    began = time.perf_counter()
    await each_bounded(reviews, concurrency, step)
    await worker.wait_for_activities(before + activities, within)
    phase.cases += len(reviews)
    await visible(client, "WorkflowType = 'BareWorkflow' AND ExecutionStatus = 'Completed'", phase.cases, within)
    phase.seconds += time.perf_counter() - began
    phase.updates += updates
    phase.activities += activities
