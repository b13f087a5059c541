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
from states.lookback import LOOK_BACK_SEPARATION, staff_on
from states.machine import (
    FINAL_STATES,
    OPEN_BEFORE_OUTCOME,
    RULES,
    CaseState,
    Fired,
    Leaving,
    fire,
    first_failing,
    rows_from,
)
from states.policy import DeadlinePolicy
from states.proof import Envelope
from states.record import (
    Actor,
    CaseInput,
    CaseSnapshot,
    Referral,
    TaskRecord,
    TransitionRecord,
)
from states.roles import ACTIONS, READ_ONLY_ROLES, READ_ONLY_RULE, Task, may_do, roles_for, separation_broken
from states.rules import CaseRules
from states.submissions import (
    DeadlineExtension,
    FailureType,
    IopcDecision,
    ReferralAction,
    ReferralResolution,
    RiskLevel,
    RiskUpdate,
)
from states.tasks import TASK_MODEL, TaskRefused, dated


class Case(CaseRules):
    """The model the transitions machine drives. `state` is set by the machine; the rules
    its rows name are inherited from CaseRules."""

    state: str

    def __init__(self, start: CaseInput, policy: DeadlinePolicy, started_at: datetime) -> None:
        self.start = start
        self.policy = policy
        self.received_at = start.received_at or started_at
        self.tasks: list[TaskRecord] = []
        self.transitions: list[TransitionRecord] = []
        self.referral: Referral | None = None
        self.deadlines = DeadlineBook(policy)
        self.look_backs_opened: int | None = None  # set once a confirmed failure's look-backs are opened
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
    def risk_level(self) -> RiskLevel | None:
        return self.current_risk()

    @property
    def urgent(self) -> bool:
        return self.start.application.immediate_risk or self.risk_level is RiskLevel.high

    @property
    def finished(self) -> bool:
        return self.current in FINAL_STATES

    def actors_by_task(self) -> dict[Task, set[str]]:
        actors: dict[Task, set[str]] = {}
        for record in self.tasks:
            actors.setdefault(record.task, set()).add(record.actor.id)
        return actors

    def open_tasks(self) -> list[Task]:
        """Every task open now, in the table's order: a row leaving the state is fired by it
        and its conditions on the case hold. What a task submits is judged when it comes."""
        found: list[Task] = []
        for row in rows_from(self.state):
            if isinstance(row.fired_by, Task) and row.fired_by not in found and self._open(row):
                found.append(row.fired_by)
        return found

    def pending_tasks(self) -> list[Task]:
        """The steps the case waits for."""
        return [t for t in self.open_tasks() if t not in ACTIONS]

    def actions(self) -> list[Task]:
        """What may be done beside the steps (withdraw, extend a deadline, record the IOPC's decision)."""
        return [t for t in self.open_tasks() if t in ACTIONS]

    def _open(self, row: Leaving) -> bool:
        return first_failing(self, row, row.on_case) is None

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
            staff=self.staff_ids(),
            failure_confirmed=self.failure_confirmed_on_case(),
            look_back=self.start.look_back,
            look_backs_opened=self.look_backs_opened,
        )

    def staff_ids(self) -> list[str]:
        """Who made the decision or did the research on this case. A look-back's imported record
        is the looked-at case's: its staff are not the look-back's own."""
        return staff_on(self.tasks, None if self.start.look_back else self.start.historical)

    def failure_confirmed_on_case(self) -> bool:
        confirmation = self._last(Task.failure_confirmation)
        return confirmation is not None and bool(confirmation.submission["confirmed"])

    # ---- tasks ---------------------------------------------------------------

    def check(self, task: Task, actor: Actor, submission: BaseModel, now: datetime) -> str:
        """Refuse what the case does not allow; return the trigger the task fires."""
        return self._checked(task, actor, submission, now)[0]

    def _checked(self, task: Task, actor: Actor, submission: BaseModel, now: datetime) -> tuple[str, TaskRecord]:
        """The trigger a task fires and its record (dates filled in), or TaskRefused naming
        the first thing it breaks: its shape, the role, the case being open to it, the
        separation of duties, its dates, then the rules on what it submits."""
        if not isinstance(submission, TASK_MODEL[task]):
            raise TaskRefused(f"submission: a {task} task takes a {TASK_MODEL[task].__name__}")
        if not may_do(task, actor.role):
            why = f" (rule {READ_ONLY_RULE}: an {actor.role} only reads)" if actor.role in READ_ONLY_ROLES else ""
            needed = " or ".join(roles_for(task))
            raise TaskRefused(f"role: the {task} task needs the role {needed}, not {actor.role}{why}")
        if self.finished:
            raise TaskRefused(f"task: the case is {self.current}; nothing more can be done on it")
        rows = [r for r in rows_from(self.state) if r.fired_by == task and self._open(r)]
        if not rows:
            open_tasks = ", ".join(self.pending_tasks() + self.actions()) or "none"
            raise TaskRefused(f"task: {task} is not open while the case is {self.current} (open: {open_tasks})")
        starter = self.start.started_by.id if self.start.started_by else None
        broken = separation_broken(task, actor.id, self.actors_by_task(), starter)
        if broken is not None:
            raise TaskRefused(f"actor: {broken.message} (rule {broken.name})")
        if self.start.look_back is not None and actor.id in self.start.look_back.staff_ids:
            raise TaskRefused(f"actor: {LOOK_BACK_SEPARATION[1]} (rule {LOOK_BACK_SEPARATION[0]})")
        submission = dated(submission, now, self.received_at, self.policy.timezone)
        if isinstance(submission, DeadlineExtension) and submission.deadline not in self.deadlines.open_names():
            raise TaskRefused(f"deadline: no open deadline is called {submission.deadline!r}")
        record = TaskRecord(task=task, actor=actor, at=now, submission=submission.model_dump(mode="json"))
        # Rows fired by one task differ by what it submits (a decision to disclose or to decline).
        failing = [first_failing(self, row, row.on_submission, record) for row in rows]
        for row, rule in zip(rows, failing, strict=True):
            if rule is None:
                return row.trigger, record
        rule = str(failing[0])
        raise TaskRefused(f"rule {rule}: {RULES[rule]}")

    def apply(
        self, task: Task, actor: Actor, submission: BaseModel, now: datetime, proof: Envelope | None = None
    ) -> list[TransitionRecord]:
        """Apply a checked task, keeping its proof with it. Returns the transitions it caused
        (automatic ones too)."""
        trigger, record = self._checked(task, actor, submission, now)
        if proof is not None:
            record = record.model_copy(update={"proof": proof})
        if isinstance(submission, DeadlineExtension):
            # Its row moves nothing and is not kept among the transitions: the extension is
            # kept with the deadline it moved. No rule an automatic row reads has changed.
            self.tasks.append(record)
            self.deadlines.extend(submission, actor, now)
            return []
        # The machine's conditions judge the case as it was before this task.
        was_urgent = self.urgent
        made = [self._fire(trigger, record, now)]
        self.tasks.append(record)
        if isinstance(submission, RiskUpdate) and self.urgent and not was_urgent:
            self.deadlines.go_urgent(now)  # re-triaged to high: the urgent ladder at once
        if isinstance(submission, IopcDecision) and self.referral is not None:
            self.referral = self.referral.model_copy(update={"mode_decided": str(submission.mode)})
        if self.current is CaseState.referred and self.referral is None:
            # Confirmation is the duty to refer: the referral opens with no further step.
            self.open_referral(self.referral_category(), f"{self.start.ref}:iopc-referral", now)
        if isinstance(submission, ReferralResolution):
            self._resolve_referral(submission, now)
        made += self._settle(record, now)
        self.deadlines.sync(self.pending_tasks(), now, self.urgent, outcome_met=self._outcome_reached())
        return made

    def _outcome_reached(self) -> bool:
        return self.current not in OPEN_BEFORE_OUTCOME or self.decided_to_disclose()

    def _fire(self, trigger: str, cause: TaskRecord | None, at: datetime) -> TransitionRecord:
        source = self.current
        if not fire(self, trigger, cause):
            raise TaskRefused(f"rule: {trigger} was refused by the machine in state {source}")
        made = TransitionRecord(
            trigger=trigger,
            source=source,
            dest=self.current,
            at=at,
            task=cause.task if cause else None,
            actor=cause.actor if cause else None,
        )
        self.transitions.append(made)
        return made

    def _settle(self, cause: TaskRecord | None, at: datetime) -> list[TransitionRecord]:
        """Fire the automatic rows, one after another, until none holds."""
        made = []
        while automatic := next(
            (r for r in rows_from(self.state) if r.fired_by is Fired.automatically and self._open(r)), None
        ):
            made.append(self._fire(automatic.trigger, cause, at))
        return made

    # ---- events that are not human tasks -------------------------------------------

    def outcome_breached(self, at: datetime) -> None:
        """The outcome deadline has passed with no outcome: a safeguarding contact is owed
        (states/safeguarding.py), with its own deadline."""
        if self.current not in OPEN_BEFORE_OUTCOME:
            return
        self.safeguarding_since = at
        self.deadlines.sync(self.pending_tasks(), at, self.urgent)

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
        accepted = next((r for r in rows_from(self.state) if r.fired_by is Fired.referral_accepted), None)
        assert accepted is not None, f"a referral is not filed while the case is {self.current}"
        self._fire(accepted.trigger, None, referred_at)
        # The remedial disclosure may be done before the gateway accepts: then filing closes the case.
        self._settle(None, referred_at)
        self.deadlines.sync(self.pending_tasks(), referred_at, self.urgent)

    def refuse_referral(self, reason: str, now: datetime) -> None:
        """The gateway refused it for good: it waits on Professional Standards (referral_resolution)."""
        assert self.referral is not None
        self.referral = self.referral.model_copy(update={"refused": reason})
        self.deadlines.sync(self.pending_tasks(), now, self.urgent)

    def _resolve_referral(self, resolution: ReferralResolution, now: datetime) -> None:
        assert self.referral is not None
        self.referral = self.referral.model_copy(update={"refused": None})
        if resolution.action is ReferralAction.filed_by_hand:
            assert resolution.iopc_reference is not None
            self.file_referral(resolution.iopc_reference, now)

    def still_at_risk(self) -> bool:
        review = self.last_review()
        return bool(review and review.still_at_risk)

    def failure_type(self) -> FailureType | None:
        review = self.last_review()
        return review.failure_type if review else None

    def referral_category(self) -> str:
        """Mandatory for death or serious injury; voluntary otherwise, because force policy
        refers every confirmed failure."""
        review = self.last_review()
        return "mandatory" if review and review.death_or_serious_injury else "voluntary"
