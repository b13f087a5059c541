"""Where the case's safeguards meet running cases: each new path is taken only by a case
that reaches it on today's code (`workflow.patched`), so a case that took the old path
before a deploy replays as it ran.

- countersignature-on-declines: a decline despite relevant history waits for a
  countersignature (states/countersign.py), judged when the decision is applied.
- referral-policy: a confirmed failure is referred as the policy says (states/referral_policy.py),
  judged when the confirmation is applied.
- safeguarding-contact-on-breach: the outcome deadline's breach opens a safeguarding
  contact (states/safeguarding.py).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from states.case import Case
    from states.record import Deadline, RungRecord
    from states.roles import Task

COUNTERSIGNATURE = "countersignature-on-declines"
REFERRAL_POLICY = "referral-policy"
SAFEGUARDING_CONTACT = "safeguarding-contact-on-breach"


def before_task(case: Case, task: Task) -> None:
    """Called in the update handler, before the task is applied (never in a validator:
    a patch marker is a command)."""
    if task is Task.decision:
        case.countersign_declines = workflow.patched(COUNTERSIGNATURE)
    elif task is Task.failure_confirmation:
        case.referral_by_policy = workflow.patched(REFERRAL_POLICY)


def after_rungs(case: Case, fired: list[tuple[Deadline, RungRecord]]) -> None:
    """Called once the due rungs are marked: an outcome breach owes a safeguarding contact."""
    if any(deadline.name == "outcome" and rung.breach for deadline, rung in fired):
        if workflow.patched(SAFEGUARDING_CONTACT):
            case.outcome_breached(workflow.now())
