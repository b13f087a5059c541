"""CaseWorkflow on the real dev server: whole cases driven through their tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from states.machine import CaseState
from states.record import CaseSnapshot
from states.roles import Task
from tests.helpers.cases import running_worker, settled, start_case, submit


class TestWholeCases:
    """A case driven through every task ends where the scheme says."""

    async def test_right_to_ask_disclosed_and_closed(self, client: Client, tmp_path: Path) -> None:
        """Research, risk, decision, disclosure and review take a case to closed."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100")
            await submit(handle, Task.risk_assessment, "RA200")
            snap = await submit(handle, Task.decision, "DM300")
            assert snap.state is CaseState.risk_assessed and snap.pending_tasks == [Task.disclosure]
            snap = await submit(handle, Task.disclosure, "DO400")
            assert snap.state is CaseState.disclosed
            await submit(handle, Task.review, "RV500")
            result = await handle.result()
            assert result.state is CaseState.closed
            assert [t.dest for t in result.transitions] == [
                CaseState.researched, CaseState.risk_assessed, CaseState.risk_assessed,
                CaseState.disclosed, CaseState.reviewed, CaseState.closed,
            ]
            assert result.transitions[0].actor is not None and result.transitions[0].actor.id == "R100"

    async def test_refused_submission_changes_nothing(self, client: Client, tmp_path: Path) -> None:
        """A decision before research is refused with the rule named, and history is unchanged."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            before = await settled(handle)
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await submit(handle, Task.decision, "DM300")
            assert "decision is not open while the case is received" in str(refused.value.cause)
            after = [e async for e in handle.fetch_history_events()]
            assert len(after) == len(before)
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            assert snap.state is CaseState.received and snap.tasks_done == []

    async def test_declined_case_closes_after_review(self, client: Client, tmp_path: Path) -> None:
        """A declined decision moves the case to declined; its review closes it."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
            snap = await submit(handle, Task.decision, "DM300", "decision_decline")
            assert snap.state is CaseState.declined and snap.pending_tasks == [Task.review]
            await submit(handle, Task.review, "RV500")
            assert (await handle.result()).state is CaseState.closed

    async def test_withdrawn_case_closes_after_review(self, client: Client, tmp_path: Path) -> None:
        """An applicant who cannot be contacted safely withdraws the case; review closes it."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100")
            snap = await submit(handle, Task.withdrawal, "OP1")
            assert snap.state is CaseState.withdrawn
            await submit(handle, Task.review, "RV500")
            result = await handle.result()
            assert [t.dest for t in result.transitions] == [
                CaseState.researched, CaseState.withdrawn, CaseState.reviewed, CaseState.closed]


class TestRefusals:
    """Every illegal submission is refused with a clear error and leaves no trace in the history."""

    async def test_each_kind_of_refusal_leaves_history_unchanged(self, client: Client, tmp_path: Path) -> None:
        """Wrong state, wrong role, separation of duties and a malformed payload are all refused."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
            await submit(handle, Task.decision, "DM300", "decision_decline")
            before = await settled(handle)
            attempts = [
                (submit(handle, Task.disclosure, "DO400"), "disclosure is not open"),
                (submit(handle, Task.review, "RV500", role="auditor"), "needs the role reviewer"),
                (submit(handle, Task.review, "DM300"), "reviewer_is_not_decision_maker"),
                (handle.execute_update("review", {"actor": {"id": "RV500", "role": "reviewer"},
                                                  "submission": {"failure_found": "perhaps"}}), "failure_found"),
            ]
            for attempt, message in attempts:
                with pytest.raises(WorkflowUpdateFailedError) as refused:
                    await attempt
                assert message in str(refused.value.cause), message
            after = await settled(handle)
            assert [e.event_type for e in after] == [e.event_type for e in before]
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            assert snap.state is CaseState.declined and len(snap.tasks_done) == 3


class TestWorkerRestart:
    """A case outlives the worker that was running it."""

    async def test_new_worker_carries_the_case_on(self, client: Client, tmp_path: Path) -> None:
        """Stop the worker mid-case; a new worker on the same queue takes the case to closed."""
        async with running_worker(client, tmp_path) as worker:
            queue = worker.task_queue
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
        from dvds.settings import Settings
        from worker import build_worker

        async with build_worker(client, Settings(home=tmp_path), task_queue=queue):
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            assert snap.state is CaseState.risk_assessed and snap.pending_tasks == [Task.decision]
            await submit(handle, Task.decision, "DM300", "decision_decline")
            await submit(handle, Task.review, "RV500")
            assert (await handle.result()).state is CaseState.closed
