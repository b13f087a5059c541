"""The rules the machine's rows name as conditions, read from a case's record.

`RULES` in states/machine.py says each in words. A rule on the case takes an optional
task record and ignores it: it is judged both when a task is offered (no submission
yet) and when the machine fires. A rule on the submission (a row's `submission` list)
reads the task record being submitted, and is only judged once there is one.
"""

from __future__ import annotations

from states.countersign import CountersignRules
from states.deadlines import DeadlineBook
from states.record import CaseInput, Referral, TaskRecord
from states.referral_policy import ReferralRules
from states.retriage import RetriageRules
from states.roles import Task
from states.safeguarding import SafeguardingRules
from states.submissions import DecisionOutcome, Review


class CaseRules(CountersignRules, RetriageRules, SafeguardingRules, ReferralRules):
    """The named conditions. `Case` inherits them, so the one shared machine finds each by
    its name on whichever case it fires (transitions resolves a condition's name on the model)."""

    start: CaseInput  # type: ignore[misc]
    tasks: list[TaskRecord]
    referral: Referral | None
    deadlines: DeadlineBook

    def _last(self, task: Task) -> TaskRecord | None:
        return next((r for r in reversed(self.tasks) if r.task is task), None)

    def last_review(self) -> Review | None:
        record = self._last(Task.review)
        return Review.model_validate(record.submission) if record else None

    # ---- on the case -----------------------------------------------------------

    @property
    def historical(self) -> bool:
        return self.start.historical is not None

    def risk_assessment_recorded(self, record: TaskRecord | None = None) -> bool:
        return self._last(Task.risk_assessment) is not None

    def not_yet_decided(self, record: TaskRecord | None = None) -> bool:
        return self.decision_in_force() is None

    def decided_to_disclose(self, record: TaskRecord | None = None) -> bool:
        decision = self.decision_in_force()
        return decision is not None and decision.submission["outcome"] == DecisionOutcome.disclose

    def failure_found(self, record: TaskRecord | None = None) -> bool:
        review = self.last_review()
        return review is not None and review.failure_found

    def no_failure_found(self, record: TaskRecord | None = None) -> bool:
        return not self.failure_found()

    def remediation_open(self, record: TaskRecord | None = None) -> bool:
        return self.referral is not None and self._last(Task.remedial_disclosure) is None

    def remediation_done(self, record: TaskRecord | None = None) -> bool:
        return self._last(Task.remedial_disclosure) is not None

    def referral_filed(self, record: TaskRecord | None = None) -> bool:
        return self.referral is not None and self.referral.iopc_reference is not None

    def referral_refused(self, record: TaskRecord | None = None) -> bool:
        return self.referral is not None and self.referral.refused is not None and self.referral.iopc_reference is None

    def iopc_not_yet_decided(self, record: TaskRecord | None = None) -> bool:
        return self._last(Task.iopc_decision) is None

    def deadline_open(self, record: TaskRecord | None = None) -> bool:
        return bool(self.deadlines.open_names())

    # ---- on the submission -------------------------------------------------------

    def checks_cover_aliases(self, record: TaskRecord) -> bool:
        return bool(record.submission.get("aliases_checked"))

    def decision_discloses(self, record: TaskRecord) -> bool:
        return record.submission["outcome"] == DecisionOutcome.disclose

    def decision_declines(self, record: TaskRecord) -> bool:
        return record.submission["outcome"] == DecisionOutcome.decline

    def failure_confirmed(self, record: TaskRecord) -> bool:
        return bool(record.submission["confirmed"])

    def failure_not_confirmed(self, record: TaskRecord) -> bool:
        return not record.submission["confirmed"]
