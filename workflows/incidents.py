"""What the case does when a channel fails: notices that give up, refusals for good.

Called by CaseWorkflow. A notice is retried for a few hours (NOTIFY_RETRY), then given up
with a warning: a notice never fails the case, and never holds a closed case open. A
refusal for good (the IOPC gateway's 4xx, a recipient the mail server rejects) is an
incident for Professional Standards: an escalation to them now, and, for the referral, a
referral_resolution task on the case (states/machine.py); the worker counts each one
(dvds_incidents, dvds/monitoring/interceptor.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from activities.iopc import IopcActivities
    from activities.notifications import NotificationActivities
    from states.messages import Escalation, ReferralReceipt, ReferralRequest
    from states.policy import Accountable

# About four hours of tries (1 s doubling to 5 minutes, 50 attempts): a mail outage longer
# than that loses the notice, logged; the case and its deadlines carry on.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5), maximum_attempts=50
)
# The gateway is retried until it accepts or refuses for good: a referral must never be dropped.
REFERRAL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)
TIMEOUT = timedelta(seconds=30)


def _why(failure: ActivityError) -> tuple[str, bool]:
    """The failure's message and whether it is a refusal for good (not a retry that ran out)."""
    cause = failure.cause
    if isinstance(cause, ApplicationError):
        return cause.message, cause.non_retryable
    return str(cause or failure), False


async def send_notice(activity: Callable[[Any, Any], Awaitable[Any]], notice: BaseModel, ref: str) -> str | None:
    """Send one notice; None once sent, else why it was refused for good (given up quietly
    after its retries run out)."""
    try:
        await workflow.execute_activity_method(activity, notice, start_to_close_timeout=TIMEOUT,
                                               retry_policy=NOTIFY_RETRY)
        return None
    except ActivityError as failed:
        why, for_good = _why(failed)
        workflow.logger.warning("notice not delivered", extra={"case_ref": ref, "reason": why})
        return why if for_good else None


async def refer(request: ReferralRequest) -> ReferralReceipt | str:
    """The gateway's receipt, or why it refused the referral for good."""
    try:
        receipt: ReferralReceipt = await workflow.execute_activity_method(
            IopcActivities.refer_to_iopc, request, start_to_close_timeout=TIMEOUT, retry_policy=REFERRAL_RETRY
        )
        return receipt
    except ActivityError as failed:
        why, _ = _why(failed)
        workflow.logger.warning("iopc referral refused", extra={"case_ref": request.ref, "reason": why})
        return why


async def report_incident(ref: str, about: str, reason: str) -> None:
    """Tell Professional Standards, now, that `about` (a deadline's name, or `notice`) needs
    a person. Its own failure is only logged: an incident never begets another."""
    now = workflow.now()
    # Two incidents in one workflow task share `now`: the (deterministic) id keeps their keys apart.
    key = f"{ref}:{about}-incident-{workflow.uuid4().hex[:8]}:{Accountable.professional_standards}:{now.isoformat()}"
    escalation = Escalation(
        ref=ref, deadline=about, due=now, notify=Accountable.professional_standards, breach=False,
        idempotency_key=key, incident=reason,
    )
    await send_notice(NotificationActivities.escalate, escalation, ref)
