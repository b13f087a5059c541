"""A case: the state machine's model. Checks and applies human tasks, keeps the record.

Pure: no Temporal, no I/O. The workflow passes in workflow time (`now`) and turns
`TaskRefused` into an error the submitter sees.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from states.deadlines import DeadlineBook
from states.historical import imported_path
from states.machine import FINAL_STATES, OPEN_BEFORE_OUTCOME, RULES, CaseState, fire, shared_machine
from states.policy import DeadlinePolicy
from states.record import (
    Actor,
    CaseInput,
    CaseSnapshot,
    Referral,
    TaskRecord,
    TransitionRecord,
)
from states.roles import READ_ONLY_ROLES, READ_ONLY_RULE, TASK_ROLE, Task, separation_broken
from states.submissions import (
    DeadlineExtension,
    Decision,
    DecisionOutcome,
    Disclosure,
    FailureConfirmation,
    FailureType,
    IopcDecision,
    RemedialDisclosure,
    Research,
    Review,
    RiskAssessment,
    RiskLevel,
    Withdrawal,
)

TASK_MODEL: dict[Task, type[BaseModel]] = {
    Task.research: Research,
    Task.risk_assessment: RiskAssessment,
    Task.decision: Decision,
    Task.disclosure: Disclosure,
    Task.withdrawal: Withdrawal,
    Task.review: Review,
    Task.failure_confirmation: FailureConfirmation,
    Task.remedial_disclosure: RemedialDisclosure,
    Task.iopc_decision: IopcDecision,
    Task.deadline_extension: DeadlineExtension,
}


_DATE_FIELDS = frozenset({"delivered_on", "met_on", "decided_on"})


class TaskRefused(Exception):
    """A submission the case does not allow. The message names the rule; never a value."""


def _trigger_for(task: Task, submission: BaseModel) -> str | None:
    match task:
        case Task.research:
            return "complete_research"
        case Task.risk_assessment:
            return "assess_risk"
        case Task.decision:
            assert isinstance(submission, Decision)
            return "decide_to_disclose" if submission.outcome is DecisionOutcome.disclose else "decide_to_decline"
        case Task.disclosure:
            return "deliver_disclosure"
        case Task.withdrawal:
            return "withdraw"
        case Task.review:
            return "review"
        case Task.failure_confirmation:
            assert isinstance(submission, FailureConfirmation)
            return "confirm_failure" if submission.confirmed else "reject_failure"
        case Task.remedial_disclosure:
            return "complete_remedial_disclosure"
        case Task.iopc_decision:
            return "record_iopc_decision"
        case Task.deadline_extension:
            return None


class Case:
    """The model the transitions machine drives. `state` is set by the machine."""

    state: str

    def __init__(self, start: CaseInput, policy: DeadlinePolicy, started_at: datetime) -> None:
        self.start = start
        self.policy = policy
        self.received_at = start.received_at or started_at
        self.tasks: list[TaskRecord] = []
        self.transitions: list[TransitionRecord] = []
        self.referral: Referral | None = None
        self.deadlines = DeadlineBook(policy)
        initial = CaseState.received
        if start.historical is not None:
            initial = self._import_history(start)
        # The transitions machine sets `state`; one machine serves every case (states/machine.py).
        self.state = str(initial)
        if start.historical is None:
            self.deadlines.open("outcome", self.received_at, urgent=self.urgent)
        # A historical case was received years ago; its review is due from when it is imported.
        opened = started_at if start.historical is not None else self.received_at
        self.deadlines.sync(self.pending_tasks(), opened, self.urgent)

    def _trigger(self, trigger: str, record: TaskRecord | None) -> bool:
        return fire(self, trigger, record)

    def _import_history(self, start: CaseInput) -> CaseState:
        facts = start.historical
        assert facts is not None
        zone = ZoneInfo(self.policy.timezone)
        dates = {
            CaseState.researched: facts.research_completed_on,
            CaseState.risk_assessed: facts.research_completed_on,
            CaseState.declined: facts.decision_on,
            CaseState.withdrawn: facts.decision_on,
            CaseState.disclosed: facts.disclosure_delivered_on,
        }
        path = imported_path(facts)
        for source, dest in zip(path, path[1:], strict=False):
            on = dates.get(dest) or facts.received_on
            self.transitions.append(
                TransitionRecord(
                    trigger="imported",
                    source=source,
                    dest=dest,
                    at=datetime.combine(on, time(0), tzinfo=zone),
                    imported=True,
                )
            )
        return path[-1]

    # ---- reading -------------------------------------------------------------

    @property
    def current(self) -> CaseState:
        return CaseState(self.state)

    @property
    def historical(self) -> bool:
        return self.start.historical is not None

    @property
    def risk_level(self) -> RiskLevel | None:
        assessment = self._last(Task.risk_assessment)
        if assessment is not None:
            return RiskLevel(assessment.submission["level"])
        return self.start.historical.risk_level if self.start.historical else None

    @property
    def urgent(self) -> bool:
        return self.start.application.immediate_risk or self.risk_level is RiskLevel.high

    @property
    def finished(self) -> bool:
        return self.current in FINAL_STATES

    def _last(self, task: Task) -> TaskRecord | None:
        return next((r for r in reversed(self.tasks) if r.task is task), None)

    def actors_by_task(self) -> dict[Task, set[str]]:
        actors: dict[Task, set[str]] = {}
        for record in self.tasks:
            actors.setdefault(record.task, set()).add(record.actor.id)
        return actors

    def last_review(self) -> Review | None:
        record = self._last(Task.review)
        return Review.model_validate(record.submission) if record else None

    def pending_tasks(self) -> list[Task]:
        state = self.current
        if state in OPEN_BEFORE_OUTCOME and self.historical:
            return [Task.review]
        match state:
            case CaseState.received:
                return [Task.research]
            case CaseState.researched:
                return [Task.risk_assessment]
            case CaseState.risk_assessed:
                return [Task.disclosure] if self.decided_to_disclose() else [Task.decision]
            case CaseState.disclosed | CaseState.declined | CaseState.withdrawn:
                return [Task.review]
            case CaseState.reviewed:
                return [Task.failure_confirmation] if self.failure_found() else []
            case CaseState.referred:
                return [Task.remedial_disclosure] if self.remediation_open() else []
        return []

    def actions(self) -> list[Task]:
        available = []
        if self.current in OPEN_BEFORE_OUTCOME and not self.historical:
            available.append(Task.withdrawal)
        if self.deadlines.open_names():
            available.append(Task.deadline_extension)
        if self.current is CaseState.referred and self.referral_filed() and not self._last(Task.iopc_decision):
            available.append(Task.iopc_decision)
        return available

    def snapshot(self, now: datetime) -> CaseSnapshot:
        review = self.last_review()
        return CaseSnapshot(
            ref=self.start.ref,
            state=self.current,
            route=str(self.start.application.route),
            historical=self.historical,
            risk_level=self.risk_level,
            received_at=self.received_at,
            pending_tasks=self.pending_tasks(),
            actions=self.actions(),
            deadlines=self.deadlines.all(),
            overdue=self.deadlines.overdue(now),
            transitions=list(self.transitions),
            tasks_done=[r.task for r in self.tasks],
            failure_type=review.failure_type if review and review.failure_found else None,
            referral=self.referral,
            priority=self.start.historical.priority if self.start.historical else None,
        )

    # ---- rules the machine's conditions name (see RULES) --------------------------

    def checks_cover_aliases(self, record: TaskRecord) -> bool:
        return bool(record.submission.get("aliases_checked"))

    def risk_assessment_recorded(self, record: TaskRecord) -> bool:
        return self._last(Task.risk_assessment) is not None

    def not_yet_decided(self, record: TaskRecord) -> bool:
        return self._last(Task.decision) is None

    def decided_to_disclose(self, record: TaskRecord | None = None) -> bool:
        decision = self._last(Task.decision)
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

    # ---- tasks ---------------------------------------------------------------

    def check(self, task: Task, actor: Actor, submission: BaseModel, now: datetime) -> str | None:
        """Refuse what the case does not allow; return the trigger the task fires."""
        if not isinstance(submission, TASK_MODEL[task]):
            raise TaskRefused(f"submission: a {task} task takes a {TASK_MODEL[task].__name__}")
        if actor.role is not TASK_ROLE[task]:
            why = f" (rule {READ_ONLY_RULE}: an {actor.role} only reads)" if actor.role in READ_ONLY_ROLES else ""
            raise TaskRefused(f"role: the {task} task needs the role {TASK_ROLE[task]}, not {actor.role}{why}")
        if self.finished:
            raise TaskRefused(f"task: the case is {self.current}; nothing more can be done on it")
        if task not in self.pending_tasks() and task not in self.actions():
            open_tasks = ", ".join(self.pending_tasks() + self.actions()) or "none"
            raise TaskRefused(f"task: {task} is not open while the case is {self.current} (open: {open_tasks})")
        starter = self.start.started_by.id if self.start.started_by else None
        broken = separation_broken(task, actor.id, self.actors_by_task(), starter)
        if broken is not None:
            raise TaskRefused(f"actor: {broken.message} (rule {broken.name})")
        self._dated(submission, now)
        if isinstance(submission, DeadlineExtension):
            if submission.deadline not in self.deadlines.open_names():
                raise TaskRefused(f"deadline: no open deadline is called {submission.deadline!r}")
            return None
        trigger = _trigger_for(task, submission)
        assert trigger is not None
        record = TaskRecord(task=task, actor=actor, at=now, submission=submission.model_dump(mode="json"))
        transitions = shared_machine().get_transitions(trigger=trigger, source=self.state)
        failing = [
            next((c.func for c in t.conditions if self._holds(c.func, record) != c.target), None)
            for t in transitions
        ]
        if None in failing:
            return trigger
        rule = failing[0] or "state"
        raise TaskRefused(f"rule {rule}: {RULES.get(rule, 'not allowed in this state')}")

    def _dated(self, submission: BaseModel, now: datetime) -> BaseModel:
        """Refuse a date in the future or before receipt; an omitted one means today."""
        zone = ZoneInfo(self.policy.timezone)
        today = now.astimezone(zone).date()
        filled = {}
        for field in _DATE_FIELDS.intersection(type(submission).model_fields):
            value = getattr(submission, field)
            if value is None:
                filled[field] = today
            elif value > today:
                raise TaskRefused(f"{field}: must not be in the future")
            elif value < self.received_at.astimezone(zone).date():
                raise TaskRefused(f"{field}: must not be before the case was received")
        return submission.model_copy(update=filled) if filled else submission

    def apply(self, task: Task, actor: Actor, submission: BaseModel, now: datetime) -> list[TransitionRecord]:
        """Apply a checked task. Returns the transitions it caused (automatic ones too)."""
        trigger = self.check(task, actor, submission, now)
        submission = self._dated(submission, now)
        record = TaskRecord(task=task, actor=actor, at=now, submission=submission.model_dump(mode="json"))
        if isinstance(submission, DeadlineExtension):
            self.tasks.append(record)
            self.deadlines.extend(submission, actor, now)
            return []
        assert trigger is not None
        # The machine's conditions judge the case as it was before this task.
        made = [self._fire(trigger, record, now)]
        self.tasks.append(record)
        if isinstance(submission, IopcDecision) and self.referral is not None:
            self.referral = self.referral.model_copy(update={"mode_decided": str(submission.mode)})
        if self.current is CaseState.referred and self.referral is None:
            # Confirmation is the duty to refer: the referral opens with no further step.
            self.open_referral(self.referral_category(), f"{self.start.ref}:iopc-referral", now)
        # A review that finds nothing closes the case at once.
        if self.current is CaseState.reviewed and self.no_failure_found():
            made.append(self._fire("close", record, now))
        if self.current is CaseState.referred and self.referral_filed() and self.remediation_done():
            made.append(self._fire("close", record, now))
        self.deadlines.sync(self.pending_tasks(), now, self.urgent, outcome_met=self._outcome_reached())
        return made

    def _outcome_reached(self) -> bool:
        return self.current not in OPEN_BEFORE_OUTCOME or self.decided_to_disclose()

    def _fire(self, trigger: str, record: TaskRecord, now: datetime) -> TransitionRecord:
        source = self.current
        if not self._trigger(trigger, record):
            raise TaskRefused(f"rule: {trigger} was refused by the machine in state {source}")
        made = TransitionRecord(
            trigger=trigger, source=source, dest=self.current, at=now, task=record.task, actor=record.actor
        )
        self.transitions.append(made)
        return made

    # ---- events that are not human tasks -------------------------------------------

    def open_referral(self, category: str, key: str, now: datetime) -> Referral:
        deadline = self.deadlines.open("iopc_referral", now, urgent=False)
        self.referral = Referral(category=category, idempotency_key=key, duty_arose_at=now, due=deadline.due)
        self.deadlines.sync(self.pending_tasks(), now, self.still_at_risk())
        return self.referral

    def file_referral(self, reference: str, referred_at: datetime) -> None:
        assert self.referral is not None
        self.referral = self.referral.model_copy(
            update={"iopc_reference": reference, "referred_at": referred_at, "late": referred_at > self.referral.due}
        )
        self.deadlines.meet("iopc_referral", referred_at)
        source = self.current
        self._trigger("record_referral", None)
        self.transitions.append(
            TransitionRecord(trigger="record_referral", source=source, dest=self.current, at=referred_at)
        )
        # The remedial disclosure may be done before the gateway accepts: then filing closes the case.
        if self.remediation_done():
            self._trigger("close", None)
            self.transitions.append(TransitionRecord(trigger="close", source=source, dest=self.current, at=referred_at))
        self.deadlines.sync(self.pending_tasks(), referred_at, self.urgent)

    def still_at_risk(self) -> bool:
        review = self.last_review()
        return bool(review and review.still_at_risk)

    def failure_type(self) -> FailureType | None:
        review = self.last_review()
        return review.failure_type if review else None

    def _holds(self, rule: str, record: TaskRecord) -> bool:
        # A rule is a method taking the task record, or a property (like `historical`).
        value = getattr(self, rule)
        return bool(value(record)) if callable(value) else bool(value)

    def referral_category(self) -> str:
        """Mandatory for death or serious injury; voluntary otherwise, because force policy
        refers every confirmed failure."""
        review = self.last_review()
        return "mandatory" if review and review.death_or_serious_injury else "voluntary"
