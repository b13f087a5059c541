"""What a case remembers: its start input, each task done, each transition, its
deadlines and breaches, its referral. Pydantic models, so they cross Temporal as
they are (temporalio's pydantic data converter)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from states.actor import Actor as Actor  # where it lived first; most callers import it from here
from states.machine import CaseState
from states.models import Application, CaseRef
from states.policy import Accountable, DeadlinePolicy
from states.proof import Envelope
from states.risk import RiskLevel
from states.roles import Task
from states.submissions import FailureType


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class HistoricalDecision(StrEnum):
    disclosed = "disclosed"
    declined = "declined"
    withdrawn = "withdrawn"
    none = "none"


class SubjectHistory(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class ReviewPriority(StrEnum):
    """The review queue's order: 0 first."""

    look_back = "0-look-back"  # a case of a member of staff with a confirmed failure (states/lookback.py)
    possible_failure_to_disclose = "1-possible-failure-to-disclose"
    late_or_no_decision = "2-late-or-no-decision"
    routine = "3-routine"


class HistoricalFacts(Record):
    """Facts recorded at the time, imported from the force's export. They are the
    case's starting point, not fake human steps."""

    source_line: int = Field(ge=1, description="Line of the export the facts came from")
    source_digest: str = Field(description="Hash of the row, to match a re-import")
    field_digests: dict[str, str] = Field(
        default_factory=dict,
        description="Keyed hash of each field's value, by our field name, to name what changed since import; "
        "empty for cases imported before it was kept",
    )
    received_on: date
    research_completed_on: date | None = None
    risk_level: RiskLevel | None = None
    decision: HistoricalDecision
    decision_on: date | None = None
    disclosure_delivered_on: date | None = None
    subject_has_relevant_history: SubjectHistory
    notes: str | None = None
    priority: ReviewPriority
    decided_by: str | None = Field(default=None, description="Staff id of who made the decision, if recorded")
    researched_by: str | None = Field(default=None, description="Staff id of who did the research, if recorded")


class LookBack(Record):
    """What a look-back review looks at, and why."""

    of_case: str = Field(description="The case looked back at (its history stays its own)")
    failure: str = Field(description="The case whose confirmed failure opened this look-back")
    staff_ids: list[str] = Field(description="Whose decisions or research are looked at")
    opened_at: datetime


class CaseInput(Record):
    """How a case starts: a new application, or a historical one with its facts."""

    ref: CaseRef
    application: Application
    received_at: datetime | None = Field(default=None, description="Defaults to the start time")
    started_by: Actor | None = None
    historical: HistoricalFacts | None = None
    policy: DeadlinePolicy | None = Field(
        default=None,
        description="The policy fixed into the case; clients set the one in force, else the built-in default",
    )
    subject_keys: list[str] = Field(default_factory=list, description="Blind index of the subject")
    resume: CaseResume | None = Field(
        default=None, description="Set only when a case continues as new: the record it carries over"
    )
    history_limit: int | None = Field(
        default=None, ge=20, description="Continue as new past this many history events; unset: when Temporal suggests"
    )
    proof: Envelope | None = Field(
        default=None, description="started_by's signature over the application (states/admission.py: when required)"
    )
    look_back: LookBack | None = Field(default=None, description="Set on a look-back review (states/lookback.py)")


class TaskRecord(Record):
    task: Task
    actor: Actor
    at: datetime
    submission: dict[str, object]
    proof: Envelope | None = Field(default=None, description="Who submitted it, signed; none on tasks done before")


class TransitionRecord(Record):
    trigger: str
    source: CaseState
    dest: CaseState
    at: datetime
    task: Task | None = None
    actor: Actor | None = None
    imported: bool = False


class RungRecord(Record):
    due: datetime
    notify: Accountable
    breach: bool
    fired_at: datetime | None = None


class Deadline(Record):
    name: str = Field(description="'outcome', 'iopc_referral' or the task's name")
    started_at: datetime
    due: datetime
    urgent: bool = False
    rungs: list[RungRecord] = Field(default_factory=list)
    met_at: datetime | None = None
    breached_at: datetime | None = Field(default=None, description="When it was first breached; never cleared")
    breaches: list[datetime] = Field(
        default_factory=list, description="Each due time that passed while it was open (an extension can add one)"
    )
    extensions: list[str] = Field(default_factory=list, description="Who extended and why")

    @property
    def open(self) -> bool:
        return self.met_at is None


class Referral(Record):
    category: str
    idempotency_key: str
    duty_arose_at: datetime
    due: datetime
    iopc_reference: str | None = None
    referred_at: datetime | None = None
    late: bool = False
    mode_decided: str | None = None
    refused: str | None = Field(
        default=None, description="Why the IOPC gateway refused it for good (its status), until resolved"
    )


class CaseSnapshot(BaseModel):
    """What `case show` and the inbox read. No personal data: names, dates of birth,
    addresses and free text stay in the case file."""

    ref: str
    state: CaseState
    route: str
    historical: bool
    risk_level: RiskLevel | None
    received_at: datetime
    pending_tasks: list[Task]
    actions: list[Task]
    deadlines: list[Deadline]
    overdue: bool
    transitions: list[TransitionRecord]
    tasks_done: list[Task]
    failure_type: FailureType | None = None
    referral: Referral | None = None
    priority: ReviewPriority | None = None
    linked_cases: list[str] = Field(default_factory=list)
    staff: list[str] = Field(default_factory=list, description="Staff ids who made the decision or did the research")
    failure_confirmed: bool = False
    look_back: LookBack | None = None
    look_backs_opened: int | None = Field(default=None, description="Set by the confirmation of a failure")


class CaseResume(Record):
    """Everything a case has done, carried into its next run when its history grows long
    (continue-as-new). The case is rebuilt from this and the start input, not replayed."""

    state: CaseState
    received_at: datetime
    tasks: list[TaskRecord]
    transitions: list[TransitionRecord]
    deadlines: list[Deadline]
    referral: Referral | None = None
    safeguarding_since: datetime | None = Field(default=None, description="When a safeguarding contact became owed")
    look_backs_opened: int | None = None
    notified: list[str] = Field(default_factory=list, description="'task:transitions' notices already sent")


CaseInput.model_rebuild()
