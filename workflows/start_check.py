"""A case's first act: is its start one the case may take? Called by CaseWorkflow.run.

A start carrying a record (resume) is taken only by a run the case itself continued;
a new application names its operator; a named starter's proof is checked by an
activity (activities/start_proof.py), so the verdict is in the history and a replay reads
it back instead of asking a directory that may have changed since.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.start_proof import StartProofActivities, StartProofCheck
    from states.admission import start_claim, start_refusal
    from states.record import CaseInput
    from workflows.payload_gate import security_event

# Cases started before starts were checked replay without the check.
START_CHECKED = "start-proof-checked"
# The check as an ordinary activity, not a local one. A query that reached a case while the
# local activity ran made the server close the first workflow task at the activity's marker
# and carry the rest of the case's first move into a second task; a replay then runs that move
# inside the first and meets its patch markers in the wrong task (nondeterminism), so the case
# would stop at its next worker restart. An ordinary activity's result is an event of its own,
# whatever queries arrive. Cases started before keep the local activity when they replay.
START_CHECK_ACTIVITY = "start-proof-activity"
CHECK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


async def start_refused(start: CaseInput) -> str | None:
    """Why this run must not become a case (a one-line reason naming the rule), or None."""
    if workflow.info().continued_run_id is not None:
        return None  # continued by the case itself, which checked its start when it first ran
    if not workflow.patched(START_CHECKED):
        return None
    refused = start_refusal(start, continued=False)
    if refused is not None:
        security_event("case start refused", str(refused.rule))
        return refused.message
    claim = start_claim(start)
    if claim is None:
        return None
    check = StartProofCheck.of(claim, start.proof, workflow.info().workflow_start_time)
    if workflow.patched(START_CHECK_ACTIVITY):
        verdict = await workflow.execute_activity_method(
            StartProofActivities.check_start_proof, check, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=CHECK_RETRY,
        )
    else:
        verdict = await workflow.execute_local_activity_method(
            StartProofActivities.check_start_proof, check, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=CHECK_RETRY,
        )
    if verdict.refusal is not None:
        security_event("case start refused", verdict.rule or "", actor=claim.actor.id)
    return verdict.refusal
