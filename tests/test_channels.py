"""The real channels behind the adapters, against real servers on loopback: HTTP for the
IOPC gateway, SMTP (aiosmtpd) for notices, and the worker choosing them from settings."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from activities.iopc import FileOutboxGateway, IopcActivities
from activities.iopc_http import HttpIopcGateway, IopcGatewayError
from activities.notifications import Notice, NotificationActivities
from activities.sent_log import OnceNotifier, SentLog
from activities.smtp import SmtpNotifier
from dvds.audit.history import case_timeline
from dvds.audit.timeline import Kind
from dvds.monitoring.metrics import DomainMetrics
from dvds.settings import IopcSettings, Settings, SmtpSettings
from states.machine import CaseState
from states.messages import ReferralRequest
from states.record import CaseInput, CaseSnapshot
from states.roles import Task
from tests.helpers.cases import (
    OPERATOR,
    application,
    new_ref,
    referred,
    running_worker,
    settled,
    signed,
    signed_start,
    start_case,
    submit,
    task_input,
)
from tests.helpers.channels import IopcGatewayServer, SmtpServer
from tests.helpers.eventually import eventually
from tests.helpers.policies import SHORT_POLICY, RecordingNotifier, reviewed_with_failure, watched_worker
from worker import build_worker
from workflows.case import CaseWorkflow


@pytest.fixture
def gateway() -> Iterator[IopcGatewayServer]:
    server = IopcGatewayServer()
    yield server
    server.close()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


def request(key: str = "TEST-1:iopc-referral") -> ReferralRequest:
    return ReferralRequest(ref="TEST-1", category="voluntary", failure_type="service", harm_occurred=False,
                           still_at_risk=True, duty_arose_at=datetime(2026, 11, 2, tzinfo=UTC), idempotency_key=key)


def notice(key: str = "TEST-1:outcome:supervisor:2026-11-30T23:59:59+00:00") -> Notice:
    return Notice(to="accountable:supervisor", subject="DVDS TEST-1: outcome deadline is due",
                  body="Case TEST-1: the outcome deadline is due.", idempotency_key=key)


class TestHttpGateway:
    """The IOPC gateway posts JSON with an Idempotency-Key and returns the gateway's reference."""

    async def test_posts_json_with_key_and_returns_reference(self, gateway: IopcGatewayServer) -> None:
        """One POST carries the request, the key and the token; the answer's reference is the receipt."""
        receipt = await HttpIopcGateway(gateway.url, token="s3cret").refer(request())
        assert receipt.iopc_reference == gateway.filings["TEST-1:iopc-referral"]
        [sent] = gateway.requests
        assert sent.key == "TEST-1:iopc-referral" and sent.authorization == "Bearer s3cret"
        assert sent.body == json.loads(request().model_dump_json())

    async def test_a_repeated_key_files_nothing_new(self, gateway: IopcGatewayServer) -> None:
        """A retry with the same key gets the first reference back; the gateway holds one filing."""
        first = await HttpIopcGateway(gateway.url).refer(request())
        again = await HttpIopcGateway(gateway.url).refer(request())
        assert again.iopc_reference == first.iopc_reference and len(gateway.filings) == 1

    async def test_refusal_raises_with_the_status_only(self, gateway: IopcGatewayServer) -> None:
        """A 503 raises an error naming the status (so the activity retries), never the request."""
        gateway.accepting.clear()
        with pytest.raises(IopcGatewayError, match="answered 503") as refused:
            await HttpIopcGateway(gateway.url).refer(request())
        assert "TEST-1" not in str(refused.value) and gateway.filings == {}


    @pytest.mark.parametrize("status", [400, 401, 403, 422])
    async def test_a_4xx_is_refused_for_good(self, gateway: IopcGatewayServer, status: int) -> None:
        """A 4xx is a non-retryable IopcRefused naming the status only: retrying cannot change it."""
        gateway.refuse_with = status
        with pytest.raises(ApplicationError, match=f"refused the referral \\({status}\\)") as refused:
            await HttpIopcGateway(gateway.url).refer(request())
        assert refused.value.non_retryable and refused.value.type == "IopcRefused"
        assert "TEST-1" not in str(refused.value)

    @pytest.mark.parametrize("status", [429, 408, 500, 503])
    async def test_try_later_and_5xx_are_retried(self, gateway: IopcGatewayServer, status: int) -> None:
        """Too many requests, a timeout or a server error: an ordinary error, so the activity retries."""
        gateway.refuse_with = status
        with pytest.raises(IopcGatewayError, match=f"answered {status}"):
            await HttpIopcGateway(gateway.url).refer(request())


class TestSmtpNotifier:
    """Notices go by SMTP to the team's address, once per idempotency key."""

    async def test_notice_arrives_by_smtp(self, smtp: SmtpServer) -> None:
        """The message reaches the SMTP server addressed to the role, with a Message-ID from the key."""
        notifier = SmtpNotifier("127.0.0.1", smtp.port, "dvds@force.example", "dvds-{name}@force.example")
        await notifier.send(notice())
        [message] = smtp.messages
        assert message["To"] == "dvds-supervisor@force.example" and message["From"] == "dvds@force.example"
        assert message["Subject"] == "DVDS TEST-1: outcome deadline is due"
        assert message["Message-ID"].endswith("@force.example>")

    async def test_a_rejected_recipient_is_refused_for_good(self, smtp: SmtpServer) -> None:
        """A 550 for the team's address is a non-retryable NoticeRefused naming the code, not the address."""
        smtp.reject_recipients("dvds-supervisor@force.example")
        notifier = SmtpNotifier("127.0.0.1", smtp.port, "dvds@force.example", "dvds-{name}@force.example")
        with pytest.raises(ApplicationError, match="refused the recipient \\(550\\)") as refused:
            await notifier.send(notice())
        assert refused.value.non_retryable and refused.value.type == "NoticeRefused"
        assert "force.example" not in str(refused.value) and smtp.messages == []

    async def test_resent_notice_is_delivered_once(self, smtp: SmtpServer, tmp_path: Path) -> None:
        """A notice with a key already sent here (the case announcing a task again) is skipped; another key is sent."""
        notifier = OnceNotifier(SmtpNotifier("127.0.0.1", smtp.port, "dvds@force.example"), SentLog(tmp_path))
        await notifier.send(notice())
        await notifier.send(notice())
        await notifier.send(notice("TEST-1:outcome:senior_officer:2026-12-01T00:00:00+00:00"))
        assert len(smtp.messages) == 2
        assert len({m["Message-ID"] for m in smtp.messages}) == 2


class _LoseFirstAnswer(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await self.next.execute_activity(input)
        if activity.info().activity_type == "notify_task_waiting" and activity.info().attempt == 1:
            raise RuntimeError("the answer was lost")  # as when a worker dies before reporting
        return result


class LoseFirstAnswer(Interceptor):
    """Each notice's first attempt sends, then fails as if its worker died before reporting."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _LoseFirstAnswer(next)


class RefusingNotifier(RecordingNotifier):
    """A channel whose mail server rejects one team's address for good."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def send(self, notice: Notice) -> None:
        if notice.to == self.refused:
            raise ApplicationError("mail server refused the recipient (550)", type="NoticeRefused",
                                   non_retryable=True)
        await super().send(notice)


class TestWorkerChannels:
    """The worker sends through the channels its settings name."""

    async def test_retried_notice_is_delivered_once(self, client: Client, tmp_path: Path) -> None:
        """A notice whose first attempt was accepted but never reported is not sent again by the retry."""
        channel = RecordingNotifier()  # no sent-log: the heartbeat's mark alone stops the resend
        notifications = NotificationActivities(channel)
        worker = build_worker(client, Settings(home=tmp_path), task_queue=f"test-{uuid.uuid4()}",
                              interceptors=[LoseFirstAnswer()],
                              channels=[notifications.notify_task_waiting, notifications.escalate,
                                        IopcActivities(FileOutboxGateway(tmp_path / "outbox")).refer_to_iopc])
        async with worker:
            handle = await start_case(client, worker)
            await settled(handle)
            timeline = await case_timeline(client, handle.id, tmp_path / "archive")
        [notice_entry] = [e for e in timeline.entries if e.kind is Kind.notification]
        assert notice_entry.outcome == "completed" and notice_entry.attempts == 2
        assert notice_entry.details["last_failure"] == "the answer was lost"
        assert [n.subject for n in channel.notices] == [f"DVDS {handle.id}: research is waiting"]

    async def test_configured_worker_mails_escalations_and_posts_referrals(
        self, client: Client, tmp_path: Path, gateway: IopcGatewayServer, smtp: SmtpServer
    ) -> None:
        """With DVDS_SMTP_* and DVDS_IOPC_ENDPOINT set, rungs arrive by e-mail and the referral over HTTP."""
        async with running_worker(
            client, tmp_path, smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, to="dvds-{name}@force.example"),
            iopc=IopcSettings(endpoint=gateway.url),
        ) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)

            async def research_rung_mailed() -> bool:
                return any("research deadline is due" in (m["Subject"] or "") for m in smtp.messages)

            await eventually(research_rung_mailed, what="the research rung by e-mail")
            await reviewed_with_failure(handle)
            await submit(handle, Task.failure_confirmation, "PS600")
            snap = await referred(handle)
            assert list(gateway.filings.values()) == [snap.referral.iopc_reference]  # type: ignore[union-attr]
            await settled(handle)
        rung = next(m for m in smtp.messages if "research deadline is due" in m["Subject"])
        assert rung["To"] == "dvds-assigned_officer@force.example"
        text = "\n".join(m.as_string() for m in smtp.messages)
        assert "Alex Example" not in text and "Sam Placeholder" not in text  # no personal data by e-mail
        assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages)

    async def test_default_worker_files_to_the_outbox(self, client: Client, tmp_path: Path) -> None:
        """With no endpoint set, the referral is written once to the outbox under DVDS_HOME."""
        async with running_worker(client, tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)
            await reviewed_with_failure(handle)
            await submit(handle, Task.failure_confirmation, "PS600")
            snap: CaseSnapshot = await referred(handle)
        [filed] = list((tmp_path / "iopc-outbox").glob("*.json"))
        assert json.loads(filed.read_text())["request"]["ref"] == handle.id
        assert snap.state is CaseState.referred and snap.referral is not None and snap.referral.iopc_reference

    async def test_a_notice_refused_for_good_never_fails_the_case(self, client: Client, tmp_path: Path) -> None:
        """The reviewers' address rejected: the case still closes (nothing held open), Professional
        Standards are told, and the incident is counted."""
        channel = RefusingNotifier("team:reviewer")
        notifications = NotificationActivities(channel)
        metrics = DomainMetrics()
        worker = build_worker(client, Settings(home=tmp_path), task_queue=f"test-{uuid.uuid4()}", metrics=metrics,
                              channels=[notifications.notify_task_waiting, notifications.escalate,
                                        IopcActivities(FileOutboxGateway(tmp_path / "outbox")).refer_to_iopc])
        async with worker:
            handle = await start_case(client, worker)
            for task, actor in [(Task.research, "R100"), (Task.risk_assessment, "RA200"), (Task.decision, "DM300"),
                                (Task.disclosure, "DO400"), (Task.review, "RV500")]:
                await submit(handle, task, actor)
            result = await handle.result()
        assert result.state is CaseState.closed
        [incident] = [n for n in channel.notices if n.to == "accountable:professional_standards"]
        assert incident.subject == f"DVDS {handle.id}: incident: mail server refused the recipient (550)"
        assert metrics.registry.get_sample_value("dvds_incidents_total", {"kind": "notice_refused"}) == 1


def waiting(notifier: RecordingNotifier) -> list[str]:
    return [n.subject.split(": ", 1)[1] for n in notifier.notices if n.to.startswith("team:")]


class TestAnnouncements:
    """Each pending task is announced once, whatever moves the case makes itself, and none is missed."""

    async def test_a_move_the_case_makes_itself_announces_nothing_again(
        self, client: Client, tmp_path: Path
    ) -> None:
        """The remedial disclosure is announced once, though the referral is filed and the IOPC decides
        while it waits; the log notifier (no sent-log) sees each task once."""
        notifier = RecordingNotifier()
        async with watched_worker(client, notifier, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)
            await reviewed_with_failure(handle)
            await submit(handle, Task.failure_confirmation, "PS600")
            await referred(handle)
            await submit(handle, Task.iopc_decision, "PS600")
            await settled(handle)
            await submit(handle, Task.remedial_disclosure, "DO400")
            await handle.result()
        assert waiting(notifier) == [f"{task} is waiting" for task in (
            "research", "risk_assessment", "decision", "review", "failure_confirmation", "remedial_disclosure")]

    async def test_a_task_submitted_with_the_start_is_announced(self, client: Client, tmp_path: Path) -> None:
        """Research submitted with the start (before the case's first workflow task) was waiting too:
        it is announced, then the risk assessment, each once."""
        notifier = RecordingNotifier()
        async with watched_worker(client, notifier, home=tmp_path) as worker:
            start = signed_start(CaseInput(ref=new_ref(), application=application(), started_by=OPERATOR))
            starting = WithStartWorkflowOperation(
                CaseWorkflow.run, start, id=start.ref, task_queue=worker.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
            research = signed(start.ref, Task.research, task_input(Task.research, "R100"))
            snap = await client.execute_update_with_start_workflow(
                "research", research, start_workflow_operation=starting, result_type=CaseSnapshot
            )
            assert snap.pending_tasks == [Task.risk_assessment]
            await settled(await starting.workflow_handle())
        assert waiting(notifier) == ["research is waiting", "risk_assessment is waiting"]
