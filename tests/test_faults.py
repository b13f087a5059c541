"""Faults on the real server: a worker SIGKILLed at every stage, the Temporal server
stopped (or killed) and started again on the same SQLite file, the IOPC gateway and
SMTP down and back. A case must carry on with nothing lost and nothing sent twice.

Run alone with `python -m pytest -m faults`; the plain `python -m pytest` (CI) runs them too.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from activities.smtp import message_id
from dvds.settings import IopcSettings, SmtpSettings
from states.machine import CaseState
from states.messages import Escalation, TaskWaiting
from states.policy import DeadlinePolicy
from states.record import CaseSnapshot
from states.roles import Task
from tests.helpers.cases import referred, running_worker, settled, start_case, submit
from tests.helpers.channels import IopcGatewayServer, SmtpServer
from tests.helpers.eventually import eventually
from tests.helpers.policies import SHORT_POLICY, RecordingNotifier, watched_worker
from tests.helpers.processes import WorkerProcess, server_on_disk

pytestmark = pytest.mark.faults

# A disclosed case whose review finds a failure: every task a case can have, in order.
STAGES: list[tuple[Task, str, str | None]] = [
    (Task.research, "R100", None),
    (Task.risk_assessment, "RA200", None),
    (Task.decision, "DM300", None),
    (Task.disclosure, "DO400", None),
    (Task.review, "RV500", "review_failure"),
    (Task.failure_confirmation, "PS600", None),
    (Task.iopc_decision, "PS600", None),
    (Task.remedial_disclosure, "DO400", None),
]
WAITING = ["research", "risk_assessment", "decision", "disclosure", "review", "failure_confirmation",
           "remedial_disclosure"]


def waiting_notices(messages: list[Any], ref: str) -> dict[str, set[str]]:
    """task -> the Message-IDs of its 'is waiting' notices for case `ref`."""
    found: dict[str, set[str]] = {}
    for message in messages:
        subject = (message["Subject"] or "").removeprefix("URGENT ")
        if subject.startswith(f"DVDS {ref}: ") and subject.endswith(" is waiting"):
            task = subject.removeprefix(f"DVDS {ref}: ").removesuffix(" is waiting")
            found.setdefault(task, set()).add(message["Message-ID"])
    return found


class TestWorkerKilled:
    """`python worker.py` SIGKILLed after every task: a new worker picks the case up where it was."""

    async def test_case_carries_on_after_a_kill_at_every_stage(self, client: Client, tmp_path: Path) -> None:
        """Eight kills, one per stage (one mid-referral): the case closes, every notice arrives, one IOPC filing."""
        smtp = SmtpServer()
        gateway = IopcGatewayServer()
        queue = f"test-{uuid.uuid4()}"
        address = client.service_client.config.target_host
        channels = {"smtp_host": "127.0.0.1", "smtp_port": str(smtp.port), "iopc_endpoint": gateway.url}
        workers: list[WorkerProcess] = []
        try:
            handle = await start_case(client, SimpleNamespace(task_queue=queue))  # type: ignore[arg-type]
            for number, (task, actor, example) in enumerate(STAGES):
                worker = WorkerProcess(address, queue, tmp_path, f"worker-{number}", **channels)
                workers.append(worker)
                await worker.start()
                if number == 0:
                    await settled(handle)  # the research notice decided before research is done
                if task is Task.iopc_decision:
                    await referred(handle, within=180)  # the referral the last worker died in the middle of
                await submit(handle, task, actor, example)
                await worker.kill()  # whatever it had in flight (notices, the referral) is abandoned
            last = WorkerProcess(address, queue, tmp_path, "worker-last", **channels)
            workers.append(last)
            await last.start()
            result: CaseSnapshot = await handle.result()
            await settled(handle, within=180)
        finally:
            for worker in workers:
                await worker.stop()
            smtp.down()
            gateway.close()

        assert result.state is CaseState.closed
        assert result.tasks_done == [task for task, _, _ in STAGES]  # each task done once, in order
        assert result.referral is not None and result.referral.mode_decided == "independent"
        assert list(gateway.filings) == [result.referral.idempotency_key]  # filed once, however often retried
        assert list(gateway.filings.values()) == [result.referral.iopc_reference]
        notices = waiting_notices(smtp.messages, handle.id)
        # Nothing lost; a copy resent by a retry after a kill carries the same Message-ID.
        assert {task: len(ids) for task, ids in notices.items()} == dict.fromkeys(WAITING, 1)


def restart_policy() -> DeadlinePolicy:
    """An outcome ladder whose rung and breach fall after the server is back."""
    return DeadlinePolicy.from_toml("""
name = "restart-seconds"
timezone = "Europe/London"
historical_outcome = { amount = 35, unit = "seconds" }

[outcome]
limit = { amount = 50, unit = "seconds" }
ladder = [
  { at = { amount = 30, unit = "seconds" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[iopc_referral]
limit = { amount = 600, unit = "seconds" }
ladder = [{ at = "breach", notify = "professional_standards" }]
""")


def kept(snap: CaseSnapshot) -> tuple[Any, ...]:
    """What a restart must not change: state, tasks, transitions, deadlines and their due times."""
    return (snap.state, snap.pending_tasks, snap.transitions, snap.tasks_done,
            [(d.name, d.started_at, d.due, [r.due for r in d.rungs]) for d in snap.deadlines])


class TestServerRestarted:
    """The embedded server stopped or killed, then started on the same SQLite file."""

    @pytest.mark.parametrize("how", ["stop", "kill"])
    async def test_cases_timers_and_tasks_survive(self, tmp_path: Path, how: str) -> None:
        """Cases, pending tasks and deadlines are as they were; timers set before fire after; work goes on."""
        notifier = RecordingNotifier()
        queue = f"test-{uuid.uuid4()}"
        policy = restart_policy()
        async with server_on_disk(tmp_path / "server") as server:
            before_client = await server.start()
            async with watched_worker(before_client, notifier, task_queue=queue, home=tmp_path) as worker:
                mid = await start_case(before_client, worker, policy=policy)
                fresh = await start_case(before_client, worker, policy=policy)
                await submit(mid, Task.research, "R100")
                await settled(mid)
                await settled(fresh)
                before = {h.id: await h.query("snapshot", result_type=CaseSnapshot) for h in (mid, fresh)}
            server.kill() if how == "kill" else server.stop()

            client = await server.start()
            async with watched_worker(client, notifier, task_queue=queue, home=tmp_path):
                handles: dict[str, WorkflowHandle[Any, Any]] = {
                    ref: client.get_workflow_handle(ref) for ref in before
                }
                for ref, handle in handles.items():
                    after = await handle.query("snapshot", result_type=CaseSnapshot)
                    assert kept(after) == kept(before[ref])

                async def both_breached() -> bool:
                    rungs = [(s.ref, s.notify) for s in notifier.escalations("outcome")]
                    return all((ref, "senior_officer") in rungs for ref in before)

                await eventually(both_breached, within=150, what="the outcome breach of both cases")
                for ref in before:
                    sent = [s.notify for s in notifier.escalations("outcome") if s.ref == ref]
                    assert sent == ["supervisor", "senior_officer"]  # each rung once, in order

                snap = await submit(handles[mid.id], Task.risk_assessment, "RA200")
                # The breach owes the applicant a safeguarding contact beside the next step.
                assert snap.state is CaseState.risk_assessed
                assert snap.pending_tasks == [Task.decision, Task.safeguarding_contact]
                snap = await submit(handles[fresh.id], Task.research, "R100")
                assert snap.state is CaseState.researched
                for handle in handles.values():
                    await settled(handle)
                    snap = await handle.query("snapshot", result_type=CaseSnapshot)
                    outcome = next(d for d in snap.deadlines if d.name == "outcome")
                    assert outcome.breaches == [outcome.due] and snap.overdue


async def notice_keys(client: Client, history: list[Any]) -> set[str]:
    """The idempotency key of every notice the case decided to send (the activities' inputs).
    A task notified again with the same due time has the same key: one notice, by design."""
    keys: set[str] = set()
    for event in history:
        if event.event_type != EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            continue
        attributes = event.activity_task_scheduled_event_attributes
        kind = {"notify_task_waiting": TaskWaiting, "escalate": Escalation}.get(attributes.activity_type.name)
        if kind is None:
            continue
        [message] = await client.data_converter.decode(attributes.input.payloads, [kind])
        if isinstance(message, TaskWaiting):
            due = message.due.isoformat() if message.due else "no deadline"
            keys.add(f"{message.ref}:{message.task}:waiting:{due}")
        else:
            keys.add(message.idempotency_key)
    return keys


async def retrying(handle: WorkflowHandle[Any, Any], activity: str, attempts: int) -> bool:
    """True once `activity` has failed and is on attempt `attempts` or later."""
    description = await handle.describe()
    return any(p.activity_type.name == activity and p.attempt >= attempts
               for p in description.raw_description.pending_activities)


class TestChannelsDown:
    """SMTP and the IOPC gateway unavailable for a while, then back."""

    async def test_nothing_lost_nothing_sent_twice(self, client: Client, tmp_path: Path) -> None:
        """Notices and the referral retried through the outage: each notice delivered once, one filing."""
        smtp = SmtpServer()
        gateway = IopcGatewayServer()
        try:
            async with running_worker(
                client, tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=smtp.port),
                iopc=IopcSettings(endpoint=gateway.url),
            ) as worker:
                smtp.down()
                gateway.accepting.clear()
                handle = await start_case(client, worker, policy=SHORT_POLICY)

                async def research_notice_failing() -> bool:
                    return await retrying(handle, "notify_task_waiting", 2)

                await eventually(research_notice_failing, what="the research notice failing")
                await submit(handle, Task.research, "R100", "research_no_history")
                await submit(handle, Task.risk_assessment, "RA200")
                await submit(handle, Task.decision, "DM300", "decision_decline")
                await submit(handle, Task.review, "RV500", "review_failure")
                await submit(handle, Task.failure_confirmation, "PS600")

                async def both_failing() -> bool:
                    return (await retrying(handle, "refer_to_iopc", 3)
                            and await retrying(handle, "notify_task_waiting", 3))

                await eventually(both_failing, within=120, what="the referral and a notice failing repeatedly")
                smtp.up()
                gateway.accepting.set()
                snap = await referred(handle, within=120)
                history = await settled(handle, within=180)
        finally:
            smtp.down()
            gateway.close()

        assert snap.state is CaseState.referred and snap.pending_tasks == [Task.remedial_disclosure]
        assert len(gateway.requests) >= 3 and len(gateway.filings) == 1
        assert list(gateway.filings.values()) == [snap.referral.iopc_reference]  # type: ignore[union-attr]
        decided = {message_id(key, "dvds@localhost") for key in await notice_keys(client, history)}
        ids = [m["Message-ID"] for m in smtp.messages]
        assert sorted(ids) == sorted(decided)  # every notice the case decided on, each delivered once
        assert set(waiting_notices(smtp.messages, handle.id)) == {
            "research", "risk_assessment", "decision", "review", "failure_confirmation", "remedial_disclosure"}
