"""Organisational referrals from the client side: Professional Standards refers several
cases in one referral (workflows/organisational_referral.py), and auditors list them."""

from __future__ import annotations

from pydantic import ValidationError
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dvds.errors import ReadableError
from states.models import validation_summary
from states.organisational_referral import OrganisationalReferral, OrganisationalReferralInput, workflow_id

WORKFLOW = "OrganisationalReferralWorkflow"


class ReferralError(ReadableError):
    """A referral that cannot be made: names the field or rule, never a value."""


def parsed(raw: object) -> OrganisationalReferralInput:
    try:
        return OrganisationalReferralInput.model_validate(raw)
    except ValidationError as invalid:
        raise ReferralError(f"invalid organisational referral: {validation_summary(invalid)}") from None


async def refer_organisational(client: Client, task_queue: str, raw: object) -> OrganisationalReferral:
    """Refer the cases in one referral once each named case is known to the server; the
    referral as filed (an existing one with the same reference is returned, not filed again)."""
    referral = parsed(raw)
    for position, ref in enumerate(referral.cases):
        try:
            await client.get_workflow_handle(ref).describe()
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                raise ReferralError(f"cases.{position}: no case with that reference") from None
            raise
    try:
        handle = await client.start_workflow(
            WORKFLOW, referral, id=workflow_id(referral.ref), task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, result_type=OrganisationalReferral,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:  # filed before under this reference: that referral stands
        handle = client.get_workflow_handle(workflow_id(referral.ref), result_type=OrganisationalReferral)
    try:
        return await handle.result()
    except WorkflowFailureError as failed:
        raise ReferralError(f"the referral failed: {failed.cause}") from None


async def organisational_referrals(client: Client) -> list[OrganisationalReferral]:
    """Every organisational referral filed, with its category and cases."""
    found = []
    async for execution in client.list_workflows(f"WorkflowType = '{WORKFLOW}' AND ExecutionStatus = 'Completed'"):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id, result_type=OrganisationalReferral)
        found.append(await handle.result())
    return sorted(found, key=lambda r: r.referred_at)
