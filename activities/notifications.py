"""Telling people: a task is waiting, a deadline rung has fired.

`NotificationActivities` sends through a `Notifier` adapter, so a real channel
(SMTP, a force's messaging system) replaces the default log line.

Each notice is sent once per activity, however often it is attempted: an attempt is retried
when its worker dies or its answer is lost, which can be after the channel took the notice.
As soon as the channel accepts, the attempt records "sent" in its heartbeat details, which
the server keeps with the activity and hands to the next attempt, on whichever worker it
runs: that attempt sends nothing. Nothing is kept on a worker's disk. The window left is
between the channel's acceptance and the heartbeat reaching the server; the Message-ID
(activities/smtp.py) covers it for mail systems that deduplicate.
"""

from __future__ import annotations

from typing import Protocol

import structlog
from pydantic import BaseModel
from temporalio import activity

from states.lookback import StaffAlert
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


SENT = "sent"  # the heartbeat detail an attempt records once its notice is accepted


class NotificationActivities:
    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    async def _send_once(self, notice: Notice) -> None:
        if SENT in activity.info().heartbeat_details:
            logger.info("notice already sent", to=notice.to, key=notice.idempotency_key)
            return
        await self.notifier.send(notice)
        activity.heartbeat(SENT)

    @activity.defn
    async def notify_task_waiting(self, waiting: TaskWaiting) -> None:
        due = waiting.due.isoformat() if waiting.due else "no deadline"
        urgency = "URGENT " if waiting.urgent else ""
        await self._send_once(
            Notice(
                to=f"team:{waiting.role}",
                subject=f"{urgency}DVDS {waiting.ref}: {waiting.task} is waiting",
                body=f"Case {waiting.ref} waits for the {waiting.task} task, due {due}.",
                idempotency_key=f"{waiting.ref}:{waiting.task}:waiting:{due}",
            )
        )

    @activity.defn
    async def escalate(self, escalation: Escalation) -> None:
        if escalation.incident is not None:
            await self._send_once(
                Notice(
                    to=f"accountable:{escalation.notify}",
                    subject=f"DVDS {escalation.ref}: incident: {escalation.incident}",
                    body=(
                        f"Case {escalation.ref}: {escalation.deadline}: {escalation.incident}. A person must act; "
                        f"you are accountable as {escalation.notify}."
                    ),
                    idempotency_key=escalation.idempotency_key,
                )
            )
            return
        what = "has breached" if escalation.breach else "is due"
        await self._send_once(
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

    @activity.defn
    async def alert_professional_standards(self, alert: StaffAlert) -> None:
        """A member of staff with several confirmed failures: ids and counts only."""
        await self._send_once(
            Notice(
                to="accountable:professional_standards",
                subject=f"DVDS: staff {alert.staff_id} has {alert.confirmed_failures} confirmed failures",
                body=(
                    f"Staff id {alert.staff_id} made the decision or did the research on {alert.confirmed_failures} "
                    f"cases with a confirmed failure, the latest {alert.latest_failure}. Their other cases have "
                    "look-back reviews at the top of the reviewers' queue."
                ),
                idempotency_key=f"staff-alert:{alert.staff_id}:{alert.confirmed_failures}",
            )
        )
