"""Reads at scale, on a few hundred imported cases and a few driven ones: the audit report
counted in visibility gives the same figures as the reference (every case's snapshot); cases
from before the report facts are read the old way, counted as such, and publish the facts
when they act; the work lists read a page at a time, in the reference's order."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

import worker as worker_module
from dvds.audit.report import AuditReport, build_report, gather_snapshots
from dvds.audit.visibility_report import visibility_report
from dvds.cases import paging
from dvds.cases.client import CaseClient, CaseError, server_refusal
from dvds.cases.listing import CaseListing, ref_of
from dvds.cases.merging import MergedQueue
from dvds.cases.paging import WorkQueue
from dvds.importer.demo_data import write_demo_export
from dvds.importer.export import plan_import
from dvds.importer.rows import RowContext
from dvds.importer.run import run_import, tally_for
from dvds.settings import Settings
from dvds.web.inbox import outside_review_queue
from states.case_ref import workflow_id
from states.record import Actor, CaseInput, CaseSnapshot, ReviewPriority
from states.roles import TASK_ROLE, Role, Task
from tests.helpers.cases import (
    delete_case,
    referred,
    running_worker,
    settled,
    start_case,
    submission,
    submit,
)
from tests.helpers.eventually import eventually
from tests.helpers.known_cases import known_cases
from tests.helpers.staff import SIGNER
from workflows import search
from workflows.case import CaseWorkflow
from workflows.report_facts import REPORT_FACTS


class _NotYet:
    def now(self) -> bool:
        return False


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class CaseWorkflowBeforeFacts(CaseWorkflow):
    """The case workflow as it was before it published the report's facts."""

    @workflow.init
    def __init__(self, start: CaseInput) -> None:
        super().__init__(start)
        self._report_facts = _NotYet()  # type: ignore[assignment]

    @workflow.run
    async def run(self, start: CaseInput) -> CaseSnapshot:  # type: ignore[override]
        return await super().run(start)


def _plan(prefix: str, rows: int, seed: int) -> Any:
    out = io.StringIO(newline="")
    write_demo_export(out, rows, seed, prefix)
    return plan_import(out.getvalue().encode(), RowContext(today=date.today()))


async def _delete(client: Client, refs: list[str]) -> None:
    """Take cases from before the facts off the shared server once their worker has gone:
    left there, every later report (any module's) would wait out a query to each of them.
    Once the server has forgotten a case, reading it fails at once, whenever visibility
    drops its row."""
    await asyncio.gather(*(delete_case(client, workflow_id(ref)) for ref in refs))


async def _import(client: Client, queue: str, prefix: str, rows: int, seed: int) -> list[str]:
    plan = _plan(prefix, rows, seed)
    cases = CaseClient(client, Settings(task_queue=queue), signer=SIGNER)
    tally = await run_import(cases, plan, tally_for(plan), concurrency=16)
    assert not tally.rejects
    return tally.started


@dataclass
class World:
    cases: CaseClient
    query: str
    old_refs: list[str]
    total: int
    queue: str  # today's worker's


@pytest.fixture(scope="module")
async def world(env, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    """20 cases imported by a worker from before the facts (then served by today's), 300
    imported today (three of them referred), and the driven cases of the report's own test."""
    client: Client = env.client
    home: Path = tmp_path_factory.mktemp("report-visibility")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(worker_module, "CaseWorkflow", CaseWorkflowBeforeFacts)
        async with running_worker(client, home) as old_worker:
            old_queue = old_worker.task_queue
            old_refs = await _import(client, old_queue, "OLDF", 20, 7)
            for ref in old_refs:  # their notices sent: nothing left for them to do before a person acts
                await settled(client.get_workflow_handle(ref))
    async with (
        case_workers_on(client, home, old_queue),
        running_worker(client, home) as worker,
    ):
        new_refs = await _import(client, worker.task_queue, "NEWF", 300, 11)
        known = await known_cases(client, worker, datetime.now(UTC))
        for ref in new_refs[:3]:  # three more referrals, for a median of four
            handle = client.get_workflow_handle(ref)
            await submit(handle, Task.review, "RV500", "review_failure")
            await submit(handle, Task.failure_confirmation, "PS600")
            await referred(handle)
        cases = CaseClient(client, Settings(home=home), signer=SIGNER)
        query = f"TaskQueue = '{old_queue}' OR TaskQueue = '{worker.task_queue}'"
        total = len(old_refs) + len(new_refs) + len(known)
        # Confirmed failures open look-backs of the same staff's other cases: new cases too.
        look_backs = f"({query}) AND {search.PRIORITY.name} = '{ReviewPriority.look_back}'"

        async def all_listed() -> bool:
            return await cases.count_cases(query) - await cases.count_cases(look_backs) == total

        await eventually(all_listed, 60, "visibility listing every case")
        total += await cases.count_cases(look_backs)
        yield World(cases, query, old_refs, total, worker.task_queue)
    await _delete(client, old_refs)


def case_workers_on(client: Client, home: Path, queue: str) -> Any:
    from worker import case_workers

    return case_workers(client, Settings(home=home), task_queue=queue)


def _figures(report: AuditReport) -> dict[str, Any]:
    return report.model_dump(exclude={"generated_at", "counted_by_snapshot"})


async def _both(world: World) -> tuple[AuditReport, AuditReport]:
    now = datetime.now(UTC)
    reference = build_report(await gather_snapshots(world.cases, world.query), now, "Europe/London", {})
    counted = await visibility_report(world.cases, world.query, now, "Europe/London", {})
    return reference, counted


class TestReportFromVisibility:
    """The report from counts equals the report from every snapshot."""

    async def test_same_figures_as_the_reference(self, world: World) -> None:
        """Every figure, on 300 imported cases, 20 from before the facts and the driven ones."""

        async def same() -> tuple[AuditReport, AuditReport] | None:
            reference, counted = await _both(world)
            assert _figures(counted) == _figures(reference)
            return reference, counted

        reference, counted = await eventually(same, 60, "the counted report matching the reference")
        assert reference.cases == world.total
        assert counted.counted_by_snapshot == len(world.old_refs)
        assert counted.decision_times.decided > 200 and counted.referrals[0].referred == 4

    async def test_same_figures_when_every_case_carries_the_facts(self, world: World) -> None:
        """Today's queue alone (no case read the old way): the counts leave out the facts clause and still agree."""
        query = f"TaskQueue = '{world.queue}'"

        async def same() -> AuditReport:
            now = datetime.now(UTC)
            reference = build_report(await gather_snapshots(world.cases, query), now, "Europe/London", {})
            counted = await visibility_report(world.cases, query, now, "Europe/London", {})
            assert _figures(counted) == _figures(reference)
            return counted

        counted = await eventually(same, 60, "the counted report matching the reference")
        assert counted.counted_by_snapshot == 0 and counted.cases >= 300 and counted.decision_times.decided > 200

    async def test_a_case_no_worker_answers_for_is_set_aside(self, world: World, env,  # type: ignore[no-untyped-def]
                                                              tmp_path: Path) -> None:
        """A case from before the facts whose worker has gone is named as unreadable; the rest is still counted."""
        client: Client = env.client
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(worker_module, "CaseWorkflow", CaseWorkflowBeforeFacts)
            async with running_worker(client, tmp_path) as gone:
                refs = await _import(client, gone.task_queue, "GONE", 1, 3)
                await settled(client.get_workflow_handle(refs[0]))
        query = f"TaskQueue = '{gone.task_queue}' OR TaskQueue = '{world.queue}'"

        async def set_aside() -> AuditReport:  # once visibility lists the case
            counted = await visibility_report(world.cases, query, datetime.now(UTC), "Europe/London", {})
            assert counted.unreadable == refs
            return counted

        try:
            counted = await eventually(set_aside, 30, "the case no worker answers for named as unreadable")
        finally:
            await _delete(client, refs)
        today = await visibility_report(world.cases, f"TaskQueue = '{world.queue}'", datetime.now(UTC),
                                        "Europe/London", {})
        assert _figures(counted) | {"unreadable": []} == _figures(today)

    async def test_old_case_publishes_facts_when_it_acts(self, world: World) -> None:
        """A case from before the facts carries them once it next acts, and is no longer read the old way."""
        acted = world.old_refs[0]
        await submit(world.cases.handle(acted), Task.review, "RV500")

        async def published() -> bool:
            listed = [e async for e in world.cases.client.list_workflows(f"WorkflowId = '{acted}'")]
            return bool(listed and listed[0].typed_search_attributes.get(REPORT_FACTS))

        await eventually(published, 30, "the old case publishing its facts")

        async def same() -> AuditReport | None:
            reference, counted = await _both(world)
            assert _figures(counted) == _figures(reference)
            return counted

        counted = await eventually(same, 60, "the counted report matching the reference")
        assert counted.counted_by_snapshot == len(world.old_refs) - 1


def _work_order(case: CaseListing) -> tuple[str, datetime]:
    return (case.priority or "9", case.next_due or datetime.max.replace(tzinfo=UTC))


class TestPagedWork:
    """The pending tasks a page at a time: every case once, in work order, counted."""

    async def _pages(self, cases: CaseClient, query: str, size: int) -> tuple[list[CaseListing], int, int]:
        queue = WorkQueue(cases, query)
        page = await queue.page(size)
        found, pages = list(page.cases), 1
        while page.next_token:
            page = await queue.page(size, page.next_token)
            found += page.cases
            pages += 1
        return found, await queue.total(), pages

    @pytest.mark.parametrize(("listable", "shared"), [(400, False), (25, True), (25, False)],
                             ids=["windows listed", "a shared deadline listed", "ties counted, paged by the server"])
    async def test_pages_make_the_whole_queue(self, world: World, listable: int, shared: bool,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
        """Pages of 37 together are the reference's whole queue, each case once, by priority then deadline."""
        monkeypatch.setattr(paging, "LISTABLE", listable)
        if not shared:  # no deadline is taken as shared: ties are counted and paged by the server
            monkeypatch.setattr(paging, "_shared_deadline", lambda cases: None)
        listed_shared = 0
        shared_step = WorkQueue._shared

        async def spy(queue: WorkQueue, *args: Any) -> Any:
            nonlocal listed_shared
            listed_shared += 1
            return await shared_step(queue, *args)

        monkeypatch.setattr(WorkQueue, "_shared", spy)
        cases = CaseClient(world.cases.client, Settings(task_queue=world.queue), signer=SIGNER)
        reference = await cases.pending_tasks("reviewer")
        found, total, pages = await self._pages(cases, cases.work_query(["reviewer"]), 37)
        assert sorted(c.ref for c in found) == sorted(c.ref for c in reference)
        assert total == len(reference) and pages == -(-total // 37)
        assert [_work_order(c) for c in found] == sorted(_work_order(c) for c in found)
        if listable == 400:  # no ties paged in the server's order: the reference's order exactly
            assert [c.ref for c in found] == [c.ref for c in reference]
        # The import leaves its cases due at one moment: listed, not counted, unless told not to.
        assert (listed_shared > 0) == shared

    @pytest.mark.parametrize("size", [7, 50])
    async def test_team_pages_make_the_whole_team_queue(self, world: World, size: int) -> None:
        """A team holding every role: its two queries (live cases; campaign cases waiting on a role
        besides review) paged and merged are the cases of the one query they replace, each once,
        in work order, counted; a page token of another kind of list is refused."""
        cases = CaseClient(world.cases.client, Settings(task_queue=world.queue), signer=SIGNER)
        roles = set(TASK_ROLE.values())
        others = sorted(str(r) for r in roles - {Role.reviewer})
        one_query = (f"{cases.work_query(sorted(str(r) for r in roles))} AND (DvdsHistorical = false "
                     f"OR DvdsPendingRoles IN ({', '.join(repr(r) for r in others)}))")
        reference = await cases.list_cases(one_query)
        queries = outside_review_queue(cases, roles)
        parts = [await cases.list_cases(q) for q in queries]
        assert len(queries) == 2 and all(parts), "both parts hold cases, or the merge is not tested"
        queue = MergedQueue(cases, queries)
        page = await queue.page(size)
        found, pages = list(page.cases), 1
        while page.next_token:
            page = await queue.page(size, page.next_token)
            found += page.cases
            pages += 1
        assert sorted(c.ref for c in found) == sorted(c.ref for c in reference)
        assert await queue.total() == len(reference) and pages == -(-len(reference) // size)
        assert [_work_order(c) for c in found] == sorted(_work_order(c) for c in found)
        work_token = (await WorkQueue(cases, queries[0]).page(1)).next_token
        with pytest.raises(CaseError, match="page-token"):
            await queue.page(size, work_token or "not-a-token")

    async def test_listings_read_as_the_sdk_reads_them(self, world: World) -> None:
        """A listing read straight from the server's reply equals the SDK's decoding of the same row."""
        attrs = search  # the SDK's typed attributes, as listings were read before
        expected = {}
        async for e in world.cases.client.list_workflows(world.cases.case_query(world.query)):
            typed = e.typed_search_attributes
            expected[ref_of(e.id)] = CaseListing(
                ref=ref_of(e.id), state=typed.get(attrs.STATE) or "unknown", route=typed.get(attrs.ROUTE),
                risk_level=typed.get(attrs.RISK_LEVEL), historical=bool(typed.get(attrs.HISTORICAL)),
                overdue=bool(typed.get(attrs.OVERDUE)), pending_tasks=list(typed.get(attrs.PENDING_TASKS) or []),
                next_due=typed.get(attrs.NEXT_DUE), priority=typed.get(attrs.PRIORITY),
                received_at=typed.get(attrs.RECEIVED))
        listed = {c.ref: c for c in await world.cases.list_cases(world.query)}
        assert len(listed) == len(expected) >= world.total and listed == expected
        assert any(c.next_due for c in listed.values()) and any(c.pending_tasks for c in listed.values())

    def test_attribute_json_read_as_json(self) -> None:
        """The listing's quick reading of an attribute's JSON agrees with the JSON parser, escapes included."""
        import json

        from dvds.cases.listing import _json

        for value in ["routine", "", 'say "no"', "a\\b", "<&>", "caf\u00e9", True, False, None, 3, 2.5,
                      ["review", "decision"], "2026-12-16T23:59:59.999999Z"]:
            for encoded in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
                assert _json(encoded.encode()) == value, encoded
        assert _json(b'"\\u003c"') == "<" and _json(b"not json") is None

    async def test_a_token_from_elsewhere_is_refused(self, world: World) -> None:
        """A page token that no list gave is refused, naming the field."""
        with pytest.raises(CaseError, match="page-token"):
            await WorkQueue(world.cases, world.cases.work_query()).page(10, "not-a-token")


class TestClearAnswers:
    """What a person reads when the case is closed or the server is busy."""

    async def test_task_to_a_closed_case_says_closed_and_when(self, client: Client, tmp_path: Path) -> None:
        """A task sent to a closed case is refused as closed, with when, not as a case that does not exist."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            # Research found no relevant history: the decline needs no countersignature.
            for task, actor, example in ((Task.research, "R100", "research_no_history"),
                                         (Task.risk_assessment, "RA200", None),
                                         (Task.decision, "DM300", "decision_decline"), (Task.review, "RV500", None)):
                await submit(handle, task, actor, example)
            await handle.result()
            cases = CaseClient(client, Settings(task_queue=worker.task_queue), signer=SIGNER)
            with pytest.raises(CaseError, match=rf"case {handle.id} is closed \(since 20\d\d-.*nothing changed"):
                await cases.complete(handle.id, Task.review, Actor(id="RV500", role=Role.reviewer),
                                     submission(Task.review).model_dump(mode="json"))

    def test_busy_server_says_try_again(self) -> None:
        """A server refusing under load is busy: nothing changed, try again, where to look if it goes on."""
        for status in (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED):
            message = server_refusal(RPCError("x", status, b""))
            assert message.startswith("server busy") and "try again" in message and "log" in message
