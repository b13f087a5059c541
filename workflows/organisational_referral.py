"""OrganisationalReferralWorkflow: one referral to the IOPC covering several cases.

Input: OrganisationalReferralInput (made by Professional Standards, at least two cases).
Activities: refer_to_iopc, retried until the gateway accepts (as a case's referral is).
Queries: none; the result is the referral as filed, kept by the server with its input.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.iopc import IopcActivities
    from states.messages import ReferralRequest
    from states.organisational_referral import ORGANISATIONAL, OrganisationalReferral, OrganisationalReferralInput

REFERRAL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(minutes=10)
)


@workflow.defn
class OrganisationalReferralWorkflow:
    @workflow.run
    async def run(self, start: OrganisationalReferralInput) -> OrganisationalReferral:
        arose = workflow.now()
        request = ReferralRequest(
            ref=start.ref, category=ORGANISATIONAL, failure_type=ORGANISATIONAL, harm_occurred=False,
            still_at_risk=False, duty_arose_at=arose, idempotency_key=f"{start.ref}:iopc-referral",
            cases=list(start.cases),
        )
        receipt = await workflow.execute_activity_method(
            IopcActivities.refer_to_iopc, request, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=REFERRAL_RETRY,
        )
        workflow.logger.info("organisational referral filed", extra={"ref": start.ref, "cases": len(start.cases)})
        return OrganisationalReferral(
            ref=start.ref, cases=list(start.cases), referred_by=start.referred_by.id, duty_arose_at=arose,
            iopc_reference=receipt.iopc_reference, referred_at=receipt.accepted_at,
        )
