"""Staff identity, roles and segregation of duties, enforced by the workflow's update
validators with the worker's staff directory. Every rule is refused on the real server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError

from dvds.settings import Settings
from dvds.staff.directory import StaffFile, StaffFileError
from states.case import Case
from states.policy import default_policy
from states.record import Actor, CaseInput
from states.roles import READ_ONLY_ROLES, SEPARATIONS, TASK_ROLE, Role, Task
from states.tasks import TaskRefused
from tests.helpers.cases import application, new_ref, settled, start_case, submission, submit, task_input
from tests.helpers.security import staff_for_tests, staffed_worker
from tests.helpers.staff import signed_with_key_of
from worker import build_worker

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def refused(handle: WorkflowHandle[Any, Any], task: Task, actor: str, example: str | None = None,
                  **changes: Any) -> str:
    """Submit and return the refusal's message; fail if it was accepted. History must not change."""
    before = await settled(handle)
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await submit(handle, task, actor, example, **changes)
    after = await settled(handle)
    assert [e.event_type for e in after] == [e.event_type for e in before]
    return str(error.value.cause)


async def refused_as(handle: WorkflowHandle[Any, Any], task: Task, actor: str, key_of: str) -> str:
    """Submit as `actor` with a proof signed by `key_of`'s own key; return the refusal. History must not change."""
    before = await settled(handle)
    submitted = task_input(task, actor)
    forged = submitted.model_copy(update={"proof": signed_with_key_of(key_of, handle.id, task, submitted.actor,
                                                                      submitted.submission)})
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await handle.execute_update(str(task), forged)
    after = await settled(handle)
    assert [e.event_type for e in after] == [e.event_type for e in before]
    return str(error.value.cause)


async def declined_and_failing(handle: WorkflowHandle[Any, Any], decider: str, reviewer: str) -> None:
    await submit(handle, Task.research, "R100", "research_no_history")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, decider, "decision_decline")
    await submit(handle, Task.review, reviewer, "review_failure")


class TestStaffIdentity:
    """Only a known, active staff member holding the role may submit a task."""

    async def test_unknown_staff_id_is_refused(self, client: Client, tmp_path: Path) -> None:
        """A staff id not in the directory has no key to prove anything with: refused by the proof
        rule before the case is consulted, and without saying whether the id exists."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            message = await refused_as(handle, Task.research, "NOBODY9", key_of="R100")
            assert "(rule key_not_the_actors)" in message and "NOBODY9" not in message
            # Not even the case's own refusal is shown to an unknown id.
            message = await refused_as(handle, Task.decision, "NOBODY9", key_of="DM300")
            assert "(rule key_not_the_actors)" in message and "not open" not in message

    async def test_inactive_staff_is_refused(self, client: Client, tmp_path: Path) -> None:
        """A staff member marked inactive is refused, though they hold the role."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
            await submit(handle, Task.decision, "DM300", "decision_decline")
            assert "(rule member_inactive)" in await refused(handle, Task.review, "GONE1")

    async def test_staff_without_the_role_is_refused(self, client: Client, tmp_path: Path) -> None:
        """A researcher claiming the risk_assessor role is refused: the directory, not the claim, decides."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100")
            message = await refused(handle, Task.risk_assessment, "R100")
            assert "staff id R100 does not hold the role risk_assessor" in message

    async def test_auditor_cannot_submit(self, client: Client, tmp_path: Path) -> None:
        """An auditor submits nothing: not as auditor, nor in another role they also hold."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
            await submit(handle, Task.decision, "DM300", "decision_decline")
            as_auditor = await refused(handle, Task.review, "AU800", role="auditor")
            assert "auditors_only_read" in as_auditor
            as_reviewer = await refused(handle, Task.review, "AUD2")
            assert "holds the role auditor, which only reads (rule auditors_only_read)" in as_reviewer

    async def test_staff_file_change_applies_without_restart(self, client: Client, tmp_path: Path) -> None:
        """A staff member made inactive in the staff file is refused by the running worker."""
        path = tmp_path / "staff.json"
        path.write_text(staff_for_tests().model_dump_json())
        async with staffed_worker(client, tmp_path, StaffFile(path)) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100")
            data = json.loads(path.read_text())
            for member in data["staff"]:
                if member["id"] == "RA200":
                    member["active"] = False
            path.write_text(json.dumps(data, indent=1))
            assert "(rule member_inactive)" in await refused(handle, Task.risk_assessment, "RA200")

    async def test_worker_without_staff_file_does_not_start(self, client: Client, tmp_path: Path) -> None:
        """No staff directory: the worker refuses to start, naming the file, rather than let anyone act."""
        with pytest.raises(StaffFileError) as missing:
            build_worker(client, Settings(home=tmp_path, staff_file=tmp_path / "none.json"))
        assert "no staff directory at" in str(missing.value) and "none.json" in str(missing.value)


class TestSegregationOfDuties:
    """Each rule in states/roles.py SEPARATIONS, refused on the real server for a
    person who holds both roles (so only the rule can stop them)."""

    async def test_reviewer_is_not_the_decision_maker(self, client: Client, tmp_path: Path) -> None:
        """The decision maker cannot review their own decision."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
            await submit(handle, Task.decision, "DUAL1", "decision_decline")
            assert "reviewer_is_not_decision_maker" in await refused(handle, Task.review, "DUAL1")
            await submit(handle, Task.review, "RV500")  # a second person may

    async def test_confirmer_is_not_the_reviewer(self, client: Client, tmp_path: Path) -> None:
        """The reviewer cannot confirm the failure they found."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await declined_and_failing(handle, "DM300", "DUAL2")
            assert "confirmer_is_independent" in await refused(handle, Task.failure_confirmation, "DUAL2")

    async def test_confirmer_is_not_the_decision_maker(self, client: Client, tmp_path: Path) -> None:
        """The decision maker cannot confirm a failure in their own case."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await declined_and_failing(handle, "DUAL3", "RV500")
            assert "confirmer_is_independent" in await refused(handle, Task.failure_confirmation, "DUAL3")

    async def test_supervisor_cannot_extend_on_a_case_they_worked(self, client: Client, tmp_path: Path) -> None:
        """A supervisor who did the research cannot extend the case's deadline."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker)
            await submit(handle, Task.research, "DUAL4")
            assert "supervisor_not_on_own_case" in await refused(handle, Task.deadline_extension, "DUAL4")
            await submit(handle, Task.deadline_extension, "SV700")  # another supervisor may

    async def test_supervisor_cannot_extend_on_a_case_they_started(self, client: Client, tmp_path: Path) -> None:
        """A supervisor who recorded the application cannot extend its deadline."""
        async with staffed_worker(client, tmp_path, staff_for_tests()) as worker:
            handle = await start_case(client, worker, started_by=Actor(id="DUAL5", role=Role.operator))
            assert "supervisor_not_on_own_case" in await refused(handle, Task.deadline_extension, "DUAL5")


class TestDeclaredRules:
    """The rules are declared tables in states/, and cover what the scheme requires."""

    def test_separations_cover_the_required_rules(self) -> None:
        """SEPARATIONS holds the required rules (the countersigner too), and no task needs a read-only role."""
        rules = {r.task: frozenset(r.not_by_actor_of) for r in SEPARATIONS}
        assert rules[Task.review] >= {Task.decision, Task.countersignature}
        assert rules[Task.failure_confirmation] >= {Task.review, Task.decision}
        assert rules[Task.countersignature] == {Task.decision, Task.research}
        own_case = next(r for r in SEPARATIONS if r.task is Task.deadline_extension)
        assert own_case.nor_case_starter and Task.research in own_case.not_by_actor_of
        assert Role.auditor in READ_ONLY_ROLES and not READ_ONLY_ROLES.intersection(TASK_ROLE.values())

    def test_case_refuses_an_auditor_with_the_rule(self) -> None:
        """The pure case model names the read-only rule when an auditor submits."""
        case = Case(CaseInput(ref=new_ref(), application=application()), default_policy(), NOW)
        with pytest.raises(TaskRefused, match="auditors_only_read"):
            case.check(Task.research, Actor(id="AU800", role=Role.auditor), submission(Task.research), NOW)
