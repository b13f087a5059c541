"""Look-back on a confirmed failure, on the real server: the same member of staff's other
cases each get one linked look-back review at the top of the queue; closed ones stay closed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle

from dvds.audit.report import build_report, gather_snapshots, report_rows
from dvds.cases.client import CaseClient
from dvds.settings import Settings
from states.machine import CaseState
from states.record import CaseSnapshot, HistoricalDecision, HistoricalFacts, ReviewPriority, SubjectHistory
from states.roles import Task
from tests.helpers.cases import settled, start_case, submit
from tests.helpers.eventually import eventually
from tests.helpers.policies import SHORT_POLICY, RecordingNotifier, watched_worker
from workflows import search


async def declined_with_failure(handle: WorkflowHandle[Any, Any], researcher: str, decider: str) -> None:
    await submit(handle, Task.research, researcher, "research_no_history")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, decider, "decision_decline")
    await submit(handle, Task.review, "RV500", "review_failure")


def imported(decided_by: str) -> HistoricalFacts:
    return HistoricalFacts(
        source_line=2, source_digest="x", received_on=date(2017, 1, 3), research_completed_on=date(2017, 1, 5),
        risk_level="medium", decision=HistoricalDecision.declined, decision_on=date(2017, 1, 20),
        subject_has_relevant_history=SubjectHistory.yes, priority=ReviewPriority.possible_failure_to_disclose,
        decided_by=decided_by,
    )


async def visible(client: Client, queue: str, staff: str, count: int) -> None:
    async def listed() -> bool:
        query = f"{search.STAFF.name} = '{staff}' AND TaskQueue = '{queue}'"
        return len([e async for e in client.list_workflows(query)]) == count

    await eventually(listed, what=f"{count} cases by {staff} in visibility")


async def snapshot(client: Client, ref: str) -> CaseSnapshot:
    return await client.get_workflow_handle(ref).query("snapshot", result_type=CaseSnapshot)


class TestLookBack:
    """A confirmed failure looks back at the same people's other cases, once each."""

    async def test_look_backs_open_once_and_closed_cases_stay_closed(self, client: Client, tmp_path: Path) -> None:
        """Three look-backs (a closed case, an open one, a historical one), linked and first in the queue;
        a second failure by the same decider opens none of them again, and alerts Professional Standards."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            queue = worker.task_queue
            failed = await start_case(client, worker, policy=SHORT_POLICY)
            await declined_with_failure(failed, "R100", "DM300")
            closed = await start_case(client, worker, policy=SHORT_POLICY)
            for task, actor in [(Task.research, "DUAL4"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300"),
                                (Task.disclosure, "DO400"), (Task.review, "RV500")]:
                await submit(closed, task, actor)
            closed_result = await closed.result()
            closed_history = len(await settled(closed))
            still_open = await start_case(client, worker, policy=SHORT_POLICY)
            await submit(still_open, Task.research, "R100")
            historical = await start_case(client, worker, policy=SHORT_POLICY, historical=imported("DM300"))
            other = await start_case(client, worker, policy=SHORT_POLICY)
            await submit(other, Task.research, "DUAL4")
            await visible(client, queue, "DM300", 3)
            await visible(client, queue, "R100", 2)

            confirmed = await submit(failed, Task.failure_confirmation, "PS600")
            assert confirmed.state is CaseState.referred and confirmed.look_backs_opened == 3
            for looked_at, state in [(closed, CaseState.disclosed), (still_open, CaseState.researched),
                                     (historical, CaseState.declined)]:
                review = await snapshot(client, f"{looked_at.id}.LB")
                assert review.look_back is not None and review.look_back.of_case == looked_at.id
                assert review.look_back.failure == failed.id and review.look_back.staff_ids == ["DM300", "R100"]
                assert review.priority is ReviewPriority.look_back and review.pending_tasks == [Task.review]
                assert review.state is state
            assert (await closed.describe()).status is WorkflowExecutionStatus.COMPLETED
            assert len(await settled(closed)) == closed_history and (await closed.result()) == closed_result
            assert (await snapshot(client, still_open.id)).state is CaseState.researched
            query = f"TaskQueue = '{queue}' AND DvdsPriority = '0-look-back'"
            listed = [e.id async for e in client.list_workflows(query)]
            assert sorted(listed) == sorted(f"{h.id}.LB" for h in (closed, still_open, historical))

            second = await start_case(client, worker, policy=SHORT_POLICY)
            await declined_with_failure(second, "DUAL4", "DM300")
            await visible(client, queue, "DM300", 4)
            confirmed = await submit(second, Task.failure_confirmation, "PS600")
            # The first failure's case (DM300's) and DUAL4's untouched one; the others have theirs already.
            assert confirmed.look_backs_opened == 2
            assert (await snapshot(client, f"{other.id}.LB")).look_back.failure == second.id  # type: ignore[union-attr]
            assert (await snapshot(client, f"{failed.id}.LB")).look_back.failure == second.id  # type: ignore[union-attr]
            assert (await snapshot(client, f"{closed.id}.LB")).look_back.failure == failed.id  # type: ignore[union-attr]

            async def alerted() -> list[str]:
                return [n.subject for n in recorder.notices if n.to == "accountable:professional_standards"]

            assert await eventually(alerted, what="the alert") == ["DVDS: staff DM300 has 2 confirmed failures"]

            await submit(client.get_workflow_handle(f"{closed.id}.LB"), Task.review, "RV500")
            cases = CaseClient(client, Settings(home=tmp_path))
            report = build_report(await gather_snapshots(cases, f"TaskQueue = '{queue}'"), datetime.now(UTC),
                                  "Europe/London", {})
            by_staff = {m.staff_id: m for m in report.staff}
            assert sorted(by_staff) == ["DM300", "DUAL4", "R100"]
            dm = by_staff["DM300"]
            assert (dm.confirmed_failures, dm.look_backs, dm.look_backs_open, dm.look_backs_clear, dm.alert) == (
                2, 5, 4, 1, True)
            assert (by_staff["R100"].confirmed_failures, by_staff["R100"].look_backs, by_staff["R100"].alert) == (
                1, 3, False)
            assert ("staff:DM300", "alert", "True") in report_rows(report)


class TestImportedStaff:
    """A historical export may name who decided and who researched; the look-back finds them by it."""

    def test_staff_columns_are_read_and_checked(self) -> None:
        """decided_by and researched_by are optional columns; a value that is no staff id is refused by name."""
        import csv
        import io

        from dvds.importer.campaign import PROFILES, write_campaign_export
        from dvds.importer.export import plan_import
        from dvds.importer.rows import RowContext

        out = io.StringIO()
        write_campaign_export(out, PROFILES["wiltshire-2024"], seed=1)
        # The profile's rows without its own staff columns, so this test names who decided.
        first, second = ({k: v for k, v in row.items() if k not in ("decided_by", "researched_by")}
                         for row in list(csv.DictReader(io.StringIO(out.getvalue())))[:2])

        def export(rows: list[dict[str, str]], staff: bool) -> str:
            written = io.StringIO()
            names = [*first] + (["decided_by", "researched_by"] if staff else [])
            writer = csv.DictWriter(written, fieldnames=names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
            return written.getvalue()

        text = export([{**first, "decided_by": "DM300", "researched_by": "R100"},
                       {**second, "decided_by": "DM 300", "researched_by": ""}], staff=True)
        plan = plan_import(text.encode(), RowContext(today=date.today()))
        [started] = plan.to_start
        assert started.case.historical is not None
        assert (started.case.historical.decided_by, started.case.historical.researched_by) == ("DM300", "R100")
        [rejected] = plan.rejects
        assert rejected.reasons == ("decided_by: must be a staff id: letters, digits, dot, dash or underscore",)
        without = plan_import(export([first], staff=False).encode(), RowContext(today=date.today()))
        assert without.to_start[0].digest == started.digest  # the staff columns are not in the row's digest
