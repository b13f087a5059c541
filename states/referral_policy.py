"""What is referred to the IOPC, as policy. The policy file's `[referral]` section names the
failure types referred automatically once confirmed (default: service failures, and any
failure where harm occurred); any other confirmed failure is recorded and reported, and
referred only if Professional Standards chooses (`refer` on the confirmation). Rows
`confirm_failure` and `record_failure` in states/machine.py.
"""

from __future__ import annotations

from states.policy import DeadlinePolicy
from states.record import TaskRecord
from states.roles import Task


class ReferralRules:
    policy: DeadlinePolicy
    tasks: list[TaskRecord]
    # Off only for a case whose confirmation the workflow replays from before the referral
    # policy existed (workflow.patched): then every confirmed failure was referred.
    referral_by_policy: bool = True

    def referral_due(self, record: TaskRecord) -> bool:
        if not self.referral_by_policy or record.submission.get("refer"):
            return True
        review = next((r for r in reversed(self.tasks) if r.task is Task.review), None)
        if review is None:
            return False
        return self.policy.referral.refers(str(review.submission.get("failure_type")),
                                           bool(review.submission.get("harm_occurred")))

    def referral_not_due(self, record: TaskRecord) -> bool:
        return not self.referral_due(record)
