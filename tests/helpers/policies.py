"""A deadline policy in seconds, and workers whose channels the test can watch.

The policy keeps the default's shape (outcome ladder, stage targets, an urgent track,
the IOPC limit) with every limit scaled down to seconds, so a case escalates rung by
rung within a test. Escalations are observed through a recording notifier injected into
`NotificationActivities`: a fake adapter, the real activities and the real server.
"""

from __future__ import annotations

import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from activities.iopc import FileOutboxGateway, IopcActivities, IopcGateway
from activities.notifications import Notice, NotificationActivities
from dvds.settings import Settings
from states.policy import DeadlinePolicy, DeadlineRule, Limit, Unit, default_policy
from states.roles import Task
from tests.helpers.cases import submit
from worker import build_worker

SHORT_POLICY = DeadlinePolicy.from_toml("""
name = "test-seconds"
timezone = "Europe/London"
historical_outcome = { amount = 35, unit = "seconds" }

[outcome]
limit = { amount = 20, unit = "seconds" }
ladder = [
  { at = { amount = 4, unit = "seconds" }, notify = "assigned_officer" },
  { at = { amount = 8, unit = "seconds" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[stages.research]
limit = { amount = 16, unit = "seconds" }
ladder = [
  { at = { amount = 3, unit = "seconds" }, notify = "assigned_officer" },
  { at = "breach", notify = "supervisor" },
]

[stages.remedial_disclosure]
limit = { amount = 600, unit = "seconds" }
ladder = [{ at = "breach", notify = "senior_officer" }]

[iopc_referral]
limit = { amount = 600, unit = "seconds" }
ladder = [{ at = "breach", notify = "professional_standards" }]

# The urgent track's hour-scale targets (72 h, 24 h, 48 h; 4 h research; 24 h remedial),
# scaled to one second for twelve hours.
[urgent.outcome]
limit = { amount = 6, unit = "seconds" }
ladder = [
  { at = { amount = 2, unit = "seconds" }, notify = "assigned_officer" },
  { at = { amount = 4, unit = "seconds" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]

[urgent.research]
limit = { amount = 1, unit = "seconds" }
ladder = [{ at = "breach", notify = "supervisor" }]

[urgent.remedial_disclosure]
limit = { amount = 2, unit = "seconds" }
ladder = [
  { at = { amount = 1, unit = "seconds" }, notify = "supervisor" },
  { at = "breach", notify = "senior_officer" },
]
""")


def with_iopc_limit(seconds: float) -> DeadlinePolicy:
    """The short policy with a tighter IOPC referral limit."""
    ladder = [{"at": "breach", "notify": "professional_standards"}]
    rule = DeadlineRule.model_validate({"limit": Limit(amount=seconds, unit=Unit.seconds), "ladder": ladder})
    return SHORT_POLICY.model_copy(update={"iopc_referral": rule})


class Sent:
    """One escalation as the accountable person receives it."""

    def __init__(self, notice: Notice) -> None:
        # The escalation key is '<ref>:<deadline>:<accountable>:<due ISO time>'.
        self.ref, self.deadline, self.notify, due = notice.idempotency_key.split(":", 3)
        self.due = datetime.fromisoformat(due)
        self.breach = "has breached" in notice.subject
        self.notice = notice

    def __repr__(self) -> str:
        return f"Sent({self.deadline}, {self.notify}, {self.due.isoformat()}, breach={self.breach})"


class RecordingNotifier:
    """A fake channel: keeps every notice in the order the activities sent them."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def send(self, notice: Notice) -> None:
        self.notices.append(notice)

    def escalations(self, deadline: str | None = None) -> list[Sent]:
        sent = [Sent(n) for n in self.notices if n.to.startswith("accountable:")]
        return [s for s in sent if deadline is None or s.deadline == deadline]


def watched_worker(client: Client, notifier: RecordingNotifier, gateway: IopcGateway | None = None,
                   task_queue: str | None = None, home: Path | None = None) -> Worker:
    """The production worker (staff gate, sandbox) with the recording notifier and `gateway`
    as its channels."""
    home = home or Path(tempfile.mkdtemp(prefix="dvds-test-"))
    notifications = NotificationActivities(notifier)
    iopc = IopcActivities(gateway or FileOutboxGateway(home / "iopc-outbox"))
    return build_worker(
        client, Settings(home=home), task_queue=task_queue or f"test-{uuid.uuid4()}",
        channels=[notifications.notify_task_waiting, notifications.escalate, iopc.refer_to_iopc,
                  notifications.alert_professional_standards],
    )



async def reviewed_with_failure(handle: WorkflowHandle[Any, Any]) -> None:
    """A declined case whose review finds a service failure, the person still at risk."""
    await submit(handle, Task.research, "R100", "research_no_history")
    await submit(handle, Task.risk_assessment, "RA200")
    await submit(handle, Task.decision, "DM300", "decision_decline")
    await submit(handle, Task.review, "RV500", "review_failure")


# The default policy with failure confirmation on a calendar-day limit, so a test that
# reads due times does not depend on which days are bank holidays.
CALENDAR_POLICY = default_policy().model_copy(update={"stages": {
    **default_policy().stages,
    Task.failure_confirmation: DeadlineRule(limit=Limit(amount=7, unit=Unit.calendar_days)),
}})


# The outcome due in three seconds, and the safeguarding contact its breach opens on a short
# ladder of its own (the default: 24 hours, a rung at 12).
LATE_OUTCOME_POLICY = SHORT_POLICY.model_copy(update={
    "outcome": DeadlineRule.model_validate({
        "limit": {"amount": 3, "unit": "seconds"}, "ladder": [{"at": "breach", "notify": "senior_officer"}]}),
    "stages": {
        Task.research: DeadlineRule.model_validate({"limit": {"amount": 600, "unit": "seconds"}}),
        Task.safeguarding_contact: DeadlineRule.model_validate({
            "limit": {"amount": 4, "unit": "seconds"},
            "ladder": [{"at": {"amount": 2, "unit": "seconds"}, "notify": "supervisor"},
                       {"at": "breach", "notify": "senior_officer"}]}),
    },
})
