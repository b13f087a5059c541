"""CaseWorkflow on the real dev server: whole cases driven through their tasks."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from states.machine import CaseState
from states.record import CaseSnapshot
from states.roles import Task
from tests.cases import running_worker, settled, start_case, submit


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
