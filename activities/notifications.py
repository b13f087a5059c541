"""Telling people: a task is waiting, a deadline rung has fired.

`NotificationActivities` sends through a `Notifier` adapter, so a real channel
(SMTP, a force's messaging system) replaces the default log line.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from pydantic import BaseModel
from temporalio import activity

from states.messages import Escalation, TaskWaiting

logger = structlog.get_logger()


class Notice(BaseModel):
    """A message to a team or a person. Subjects and bodies carry no personal data."""

    to: str
    subject: str
    body: str
    idempotency_key: str


class Notifier(Protocol):
    async def send(self, notice: Notice) -> None: ...


class LogNotifier:
    """The embedded default: one structured log line a notice."""

    async def send(self, notice: Notice) -> None:
        logger.info("notice", to=notice.to, subject=notice.subject, key=notice.idempotency_key)


class NotificationActivities:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    @activity.defn
    async def notify_task_waiting(self, waiting: TaskWaiting) -> None:
        due = waiting.due.isoformat() if waiting.due else "no deadline"
        urgency = "URGENT " if waiting.urgent else ""
        await self.notifier.send(
            Notice(
                to=f"team:{waiting.role}",
                subject=f"{urgency}DVDS {waiting.ref}: {waiting.task} is waiting",
                body=f"Case {waiting.ref} waits for the {waiting.task} task, due {due}.",
                idempotency_key=f"{waiting.ref}:{waiting.task}:waiting:{due}",
            )
        )

    @activity.defn
    async def escalate(self, escalation: Escalation) -> None:
        what = "has breached" if escalation.breach else "is due"
        await self.notifier.send(
            Notice(
                to=f"accountable:{escalation.notify}",
                subject=f"DVDS {escalation.ref}: {escalation.deadline} deadline {what}",
                body=(
                    f"Case {escalation.ref}: the {escalation.deadline} deadline {what} "
                    f"({escalation.due.isoformat()}). You are accountable as {escalation.notify}."
                ),
                idempotency_key=escalation.idempotency_key,
            )
        )
