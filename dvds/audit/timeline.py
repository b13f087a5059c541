"""A case's timeline, built from the server's event history (not from the workflow's own
record of itself): who did which task when, what the case did on its own (notifications,
escalations, the IOPC referral, timers), how its state moved, and how it ended.

A case continued as new has several runs (several histories): the timeline reads them all,
oldest first, so a long case still shows every task by whom and when; each entry says which
run it came from.

Payloads are decoded with the client's data converter, so a payload codec (encryption)
on the client is honoured. Personal data: entries carry staff ids, roles, tasks, times,
outcomes and the non-personal activity inputs. What staff submitted, the application and
the imported notes appear only when `include_submissions` is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from temporalio.api.common.v1 import SearchAttributes
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    WorkflowSerializationContext,
    decode_typed_search_attributes,
)

from dvds.cases.listing import ref_of
from states.case import Case
from states.policy import default_policy
from states.record import CaseInput, CaseSnapshot, TransitionRecord
from states.report_facts import ReferralOutcome
from workflows import report_facts as rf
from workflows import search

# A blind index of the subject: not personal in itself, but nothing an auditor reads.
_HIDDEN_ATTRIBUTES = {search.SUBJECT_KEYS.name}
_ACTIVITY_KIND = {"notify_task_waiting": "notification", "escalate": "escalation", "refer_to_iopc": "referral"}


class Kind(StrEnum):
    started = "started"
    imported = "imported"
    task = "task"
    transition = "transition"
    state = "state"
    notification = "notification"
    escalation = "escalation"
    referral = "referral"
    activity = "activity"
    timer = "timer"
    engine = "engine"
    ended = "ended"


class Entry(BaseModel):
    """One line of the timeline: something that happened on the case."""

    event_id: int = Field(description="The history event this entry starts at (event ids restart in each run)")
    run: int = Field(default=1, description="Which run of the case it is from: 1, then 2 after a continue-as-new...")
    at: datetime
    kind: Kind
    what: str
    task: str | None = None
    actor: str | None = None
    role: str | None = None
    outcome: str | None = None
    state: str | None = Field(default=None, description="The case's state after this")
    attempts: int | None = None
    finished_at: datetime | None = None
    imported: bool = False
    bookkeeping: bool = Field(
        default=False, description="Only search attributes changed that no one reads as a fact (shown with --raw)"
    )
    details: dict[str, Any] = Field(default_factory=dict)
    submission: dict[str, Any] | None = Field(default=None, description="Only with include_submissions")


class Timeline(BaseModel):
    ref: str
    run_id: str = Field(description="The latest run")
    runs: list[str] = Field(default_factory=list, description="Every run's id, oldest first")
    status: str = Field(description="running, completed, failed, terminated, ...")
    source: str = Field(description="'server' or 'archive'")
    with_submissions: bool
    path: list[str] = Field(description="The states the case went through, in order")
    entries: list[Entry]

    def tasks(self) -> list[tuple[str, str | None, str | None]]:
        """(task, actor, role) of every task completed, in order."""
        done = [e for e in self.entries if e.kind is Kind.task and e.outcome == "completed"]
        return [(e.task or "", e.actor, e.role) for e in done]


class _Builder:
    def __init__(
        self, runs: Sequence[WorkflowHistory], converter: DataConverter, namespace: str, submissions: bool
    ) -> None:
        self.runs = runs
        self.history = runs[-1]  # the run being read (the latest, once built)
        self.run = 1
        self.namespace = namespace
        self.base = converter
        self.converter = converter.with_context(WorkflowSerializationContext(namespace, self.history.workflow_id))
        self.submissions = submissions
        self.entries: list[Entry] = []
        self.open: dict[int, Entry] = {}  # by the event id that opened them
        self.activity_converters: dict[int, DataConverter] = {}
        self.transitions: list[TransitionRecord] = []
        self.risk_level: str | None = None  # as the last task left it: a re-triage shows the change
        self.workflow_type = ""
        self.task_queue = ""
        self.status = "running"

    async def build(self, source: str) -> Timeline:
        for number, history in enumerate(self.runs, start=1):
            # Event ids restart in each run: what a run left open is not closed by the next.
            self.history, self.run = history, number
            self.open, self.activity_converters = {}, {}
            self.status = "running"  # until this run says how it ended
            for event in history.events:
                await self.add(event)
        return Timeline(
            ref=ref_of(self.history.workflow_id),
            run_id=self.history.run_id,
            runs=[history.run_id for history in self.runs],
            status=self.status,
            source=source,
            with_submissions=self.submissions,
            path=_path(self.transitions),
            entries=self.entries,
        )

    async def _decode(self, payloads: Any, hint: type | None = None, converter: DataConverter | None = None) -> Any:
        values = await (converter or self.converter).decode_wrapper(payloads, [hint] if hint else None)
        return values[0] if values else None

    def _entry(self, event: HistoryEvent, kind: Kind, what: str, **fields: Any) -> Entry:
        entry = Entry(event_id=event.event_id, run=self.run, at=_at(event), kind=kind, what=what, **fields)
        self.entries.append(entry)
        return entry

    def _new_transitions(self, snapshot: CaseSnapshot, event: HistoryEvent, task: str | None = None) -> list[str]:
        """Transitions the snapshot shows that the timeline has not: those of `task` are
        returned (they belong to its entry); the case's own become entries of their own."""
        moves = []
        for made in snapshot.transitions[len(self.transitions):]:
            if task is not None and made.task is not None and str(made.task) == task:
                moves.append(f"{made.source} -> {made.dest}")
            else:
                self._entry(event, Kind.transition, f"{made.trigger}: {made.source} -> {made.dest}",
                            state=str(made.dest), details={"trigger": made.trigger, "at": made.at.isoformat()})
        self.transitions = list(snapshot.transitions)
        return moves

    async def add(self, event: HistoryEvent) -> None:
        handler = getattr(self, f"_on_{EventType.Name(event.event_type).removeprefix('EVENT_TYPE_').lower()}", None)
        if handler is not None:
            await handler(event)

    # ---- the case starts ---------------------------------------------------------

    async def _on_workflow_execution_started(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_started_event_attributes
        self.workflow_type = attrs.workflow_type.name
        self.task_queue = attrs.task_queue.name
        start: CaseInput = await self._decode(attrs.input, CaseInput)
        if start.resume is not None:
            self._carried_on(event, start)
            return
        started_at = _at(event)
        case = Case(start, start.policy or default_policy(), started_at)
        details: dict[str, Any] = {
            "route": str(start.application.route),
            "applicant_relationship": str(start.application.applicant_relationship),
            "immediate_risk": start.application.immediate_risk,
            "received_at": case.received_at.isoformat(),
            "historical": start.historical is not None,
            "policy": (start.policy or default_policy()).name,
            "task_queue": self.task_queue,
        }
        actor = start.started_by
        self._entry(event, Kind.started, f"case started ({details['route']})", actor=actor and actor.id,
                    role=actor and str(actor.role), state=str(case.current), details=details,
                    submission={"application": start.application.model_dump(mode="json")} if self.submissions else None)
        if start.historical is not None:
            facts = start.historical
            imported = facts.model_dump(mode="json", exclude={"notes", "subject_has_relevant_history"})
            self._entry(event, Kind.imported, f"historical record imported (export line {facts.source_line})",
                        imported=True, details=imported, state=str(case.current),
                        submission=facts.model_dump(mode="json") if self.submissions else None)
            for made in case.transitions:
                self._entry(event, Kind.imported, f"imported: {made.source} -> {made.dest}", imported=True,
                            state=str(made.dest), details={"on": made.at.date().isoformat()})
        self.transitions = list(case.transitions)

    def _carried_on(self, event: HistoryEvent, start: CaseInput) -> None:
        """A later run of the case: it starts from the record the run before carried over.
        When the earlier runs are no longer on the server (past retention), what they did
        is shown from that record: each task by whom and when, each move, marked carried."""
        resume = start.resume
        assert resume is not None
        self.workflow_type = event.workflow_execution_started_event_attributes.workflow_type.name
        self.task_queue = event.workflow_execution_started_event_attributes.task_queue.name
        self._entry(event, Kind.engine, f"run {self.run} of the case began, carrying its record",
                    state=str(resume.state), details={"run_id": self.history.run_id})
        if self.run == 1:
            for done in resume.tasks:
                self._entry(event, Kind.task, f"{done.task} done (carried from an earlier run)", task=str(done.task),
                            actor=done.actor.id, role=str(done.actor.role), outcome="completed",
                            details={"at": done.at.isoformat(), "carried": True},
                            submission=done.submission if self.submissions else None)
        for made in resume.transitions[len(self.transitions):]:
            self._entry(event, Kind.transition, f"{made.trigger}: {made.source} -> {made.dest}", state=str(made.dest),
                        details={"trigger": made.trigger, "at": made.at.isoformat(), "carried": True})
        self.transitions = list(resume.transitions)

    # ---- human tasks (updates) -----------------------------------------------------

    async def _on_workflow_execution_update_accepted(self, event: HistoryEvent) -> None:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        raw = await self._decode(request.input.args) or {}
        actor = raw.get("actor") or {}
        self.open[event.event_id] = self._entry(
            event, Kind.task, f"{request.input.name} submitted", task=request.input.name,
            actor=actor.get("id"), role=actor.get("role"), outcome="accepted",
            details={"update_id": request.meta.update_id},
            submission=raw.get("submission") if self.submissions else None,
        )

    async def _on_workflow_execution_update_completed(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_update_completed_event_attributes
        entry = self.open.pop(attrs.accepted_event_id, None)
        if entry is None:
            return
        entry.finished_at = _at(event)
        if attrs.outcome.HasField("failure"):
            entry.outcome, entry.what = "failed", f"{entry.task} failed"
            entry.details["error"] = await _message(attrs.outcome.failure, self.converter)
            return
        snapshot: CaseSnapshot = await self._decode(attrs.outcome.success, CaseSnapshot)
        moves = self._new_transitions(snapshot, event, entry.task)
        entry.outcome, entry.state = "completed", str(snapshot.state)
        entry.what = f"{entry.task} done" + (f": {', '.join(moves)}" if moves else "")
        entry.details["moves"] = moves
        level = snapshot.risk_level and str(snapshot.risk_level)
        if level != self.risk_level:
            if self.risk_level is not None:
                entry.what += f" (risk {self.risk_level} -> {level})"
            entry.details["risk_level"] = level
            self.risk_level = level

    # ---- what the case does on its own -------------------------------------------------

    def _activity_context(self, activity_id: str, activity_type: str) -> DataConverter:
        return self.base.with_context(ActivitySerializationContext(
            namespace=self.namespace, activity_id=activity_id, activity_type=activity_type,
            activity_task_queue=self.task_queue, workflow_id=self.history.workflow_id,
            workflow_type=self.workflow_type, is_local=False,
        ))

    async def _on_activity_task_scheduled(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_scheduled_event_attributes
        name = attrs.activity_type.name
        converter = self._activity_context(attrs.activity_id, name)
        arg = await self._decode(attrs.input, converter=converter) or {}
        entry = self._entry(event, Kind(_ACTIVITY_KIND.get(name, "activity")), _activity_what(name, arg),
                            outcome="scheduled", attempts=0, details={"activity": name, "input": arg})
        self.activity_converters[event.event_id] = converter
        self.open[event.event_id] = entry

    async def _on_activity_task_started(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_started_event_attributes
        entry = self.open.get(attrs.scheduled_event_id)
        if entry is not None:
            entry.attempts, entry.outcome = attrs.attempt, "started"
            if attrs.HasField("last_failure"):
                converter = self.activity_converters.get(attrs.scheduled_event_id, self.converter)
                entry.details["last_failure"] = await _message(attrs.last_failure, converter)

    async def _on_activity_task_completed(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_completed_event_attributes
        entry = self._close(attrs.scheduled_event_id, event, "completed")
        if entry is not None:
            converter = self.activity_converters.pop(attrs.scheduled_event_id)
            entry.details["result"] = await self._decode(attrs.result, converter=converter)

    async def _on_activity_task_failed(self, event: HistoryEvent) -> None:
        attrs = event.activity_task_failed_event_attributes
        converter = self.activity_converters.pop(attrs.scheduled_event_id, self.converter)
        entry = self._close(attrs.scheduled_event_id, event, "failed")
        if entry is not None:
            entry.details["error"] = await _message(attrs.failure, converter)

    async def _on_activity_task_timed_out(self, event: HistoryEvent) -> None:
        self._close(event.activity_task_timed_out_event_attributes.scheduled_event_id, event, "timed out")

    async def _on_activity_task_canceled(self, event: HistoryEvent) -> None:
        self._close(event.activity_task_canceled_event_attributes.scheduled_event_id, event, "cancelled")

    def _close(self, opened_by: int, event: HistoryEvent, outcome: str) -> Entry | None:
        entry = self.open.pop(opened_by, None)
        if entry is not None:
            entry.outcome, entry.finished_at = outcome, _at(event)
        return entry

    async def _on_timer_started(self, event: HistoryEvent) -> None:
        attrs = event.timer_started_event_attributes
        due = _at(event) + attrs.start_to_fire_timeout.ToTimedelta()
        self.open[event.event_id] = self._entry(
            event, Kind.timer, f"timer set for {due.isoformat(timespec='seconds')}", outcome="set",
            details={"timer_id": attrs.timer_id, "due": due.isoformat()},
        )

    async def _on_timer_fired(self, event: HistoryEvent) -> None:
        self._close(event.timer_fired_event_attributes.started_event_id, event, "fired")

    async def _on_timer_canceled(self, event: HistoryEvent) -> None:
        self._close(event.timer_canceled_event_attributes.started_event_id, event, "cancelled")

    async def _on_upsert_workflow_search_attributes(self, event: HistoryEvent) -> None:
        values = _search_values(event.upsert_workflow_search_attributes_event_attributes.search_attributes)
        if not values:
            return
        state = values.get(search.STATE.name)
        facts = search_facts(values)
        self._entry(event, Kind.state, "; ".join(facts) or "search attributes updated", state=state,
                    details=values, bookkeeping=not facts)

    async def _on_workflow_task_failed(self, event: HistoryEvent) -> None:
        attrs = event.workflow_task_failed_event_attributes
        self._entry(event, Kind.engine, "workflow task failed (the engine retries it)", outcome="failed",
                    details={"cause": attrs.cause, "error": await _message(attrs.failure, self.converter)})

    # ---- how it ends --------------------------------------------------------------

    def _lapse_timers(self, event: HistoryEvent) -> None:
        """A deadline timer still set when the run ends lapses with it (workflows/case.py
        keeps its timer until the next wakeup moves, and cancels none at the end)."""
        for opened_by, entry in list(self.open.items()):
            if entry.kind is Kind.timer:
                self._close(opened_by, event, "lapsed")

    async def _on_workflow_execution_completed(self, event: HistoryEvent) -> None:
        self.status = "completed"
        self._lapse_timers(event)
        result = event.workflow_execution_completed_event_attributes.result
        snapshot: CaseSnapshot = await self._decode(result, CaseSnapshot)
        self._new_transitions(snapshot, event)
        self._entry(event, Kind.ended, f"case workflow completed: {snapshot.state}", outcome="completed",
                    state=str(snapshot.state))

    async def _on_workflow_execution_failed(self, event: HistoryEvent) -> None:
        self.status = "failed"
        self._entry(event, Kind.ended, "case workflow failed", outcome="failed",
                    details={"error": await _message(event.workflow_execution_failed_event_attributes.failure,
                                                     self.converter)})

    async def _on_workflow_execution_terminated(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_terminated_event_attributes
        self.status = "terminated"
        self._entry(event, Kind.ended, "case workflow terminated", outcome="terminated", actor=attrs.identity or None,
                    details={"reason": attrs.reason})

    async def _on_workflow_execution_canceled(self, event: HistoryEvent) -> None:
        self.status = "cancelled"
        self._entry(event, Kind.ended, "case workflow cancelled", outcome="cancelled")

    async def _on_workflow_execution_timed_out(self, event: HistoryEvent) -> None:
        self.status = "timed out"
        self._entry(event, Kind.ended, "case workflow timed out", outcome="timed out")

    async def _on_workflow_execution_continued_as_new(self, event: HistoryEvent) -> None:
        self.status = "continued as new"
        self._lapse_timers(event)
        run = event.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
        # Not an end when the next run is read too: the case carries on in it.
        kind = Kind.engine if self.run < len(self.runs) else Kind.ended
        self._entry(event, kind, "continued as a new run", outcome="continued", details={"new_run_id": run})


async def _message(failure: Failure, converter: DataConverter) -> str:
    """A failure's message, decoded by the codec (messages are encrypted too). Decoding
    works on a copy: the history itself stays as the server holds it, for the archive."""
    copy = Failure()
    copy.CopyFrom(failure)
    error = await converter.decode_failure(copy)
    return str(getattr(error, "message", None) or error)


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def _activity_what(name: str, arg: dict[str, Any]) -> str:
    match name:
        case "notify_task_waiting":
            urgent = " (urgent)" if arg.get("urgent") else ""
            return f"notify team {arg.get('role')}: {arg.get('task')} waiting{urgent}"
        case "escalate":
            what = "breached" if arg.get("breach") else "due"
            return f"escalate to {arg.get('notify')}: {arg.get('deadline')} deadline {what}"
        case "refer_to_iopc":
            return f"refer to the IOPC ({arg.get('category')}, {arg.get('failure_type')} failure)"
    return name


def for_people(entries: list[Entry], raw: bool = False) -> list[Entry]:
    """The entries a person reads: without bookkeeping; or, `raw`, all of them, state entries
    as the search attributes they set."""
    if raw:
        return [e.model_copy(update={"what": raw_what(e)}) for e in entries]
    return [e for e in entries if not e.bookkeeping]


def raw_what(entry: Entry) -> str:
    """An entry as the raw view shows it: a state entry's search attributes as they were set."""
    if entry.kind is not Kind.state:
        return entry.what
    return ", ".join(f"{k}={v}" for k, v in sorted(entry.details.items()))


def _days(seconds: float) -> str:
    return f"{seconds / 86400:.1f} days"


def search_facts(values: dict[str, Any]) -> list[str]:
    """What the upserted search attributes say, as facts a person reads; the rest (lists for
    queries, the next due time, markers) is bookkeeping, kept in the raw view and --json."""
    facts = []
    if values.get(search.STATE.name):
        facts.append(f"now {values[search.STATE.name]}")
    if search.PENDING_TASKS.name in values:
        waiting = values[search.PENDING_TASKS.name] or []
        facts.append(f"waiting for {', '.join(waiting)}" if waiting else "no task waiting")
    if search.RISK_LEVEL.name in values:
        facts.append(f"risk level {values[search.RISK_LEVEL.name] or 'not recorded'}")
    if values.get(search.OVERDUE.name) is True:
        names = (values.get(rf.OVERDUE_DEADLINES.name) or "").split()
        facts.append("overdue" + (f": {', '.join(names)}" if names else ""))
    elif values.get(search.OVERDUE.name) is False:
        facts.append("no longer overdue")
    if values.get(search.FAILURE_TYPE.name):
        facts.append(f"failure found: {values[search.FAILURE_TYPE.name]}")
    if values.get(search.REFERRAL.name):
        facts.append(f"IOPC referral: {values[search.REFERRAL.name]}")
    if values.get(rf.DECISION_SECONDS.name) is not None:
        over = values.get(rf.DECIDED_OVER_DAYS.name)
        facts.append(f"decided {_days(values[rf.DECISION_SECONDS.name])} after receipt"
                     + (f" (over {over} days)" if over else ""))
    outcome = values.get(rf.REFERRAL_OUTCOME.name)
    if outcome in (ReferralOutcome.within_limit, ReferralOutcome.late):
        hours = values.get(rf.REFERRAL_SECONDS.name)
        took = f" after {hours / 3600:.1f} hours" if isinstance(hours, (int, float)) else ""
        facts.append(f"referred{took}, {'within the limit' if outcome == ReferralOutcome.within_limit else 'LATE'}")
    elif outcome == ReferralOutcome.pending_overdue:
        facts.append("referral past its limit")
    return facts


def _search_values(attributes: SearchAttributes) -> dict[str, Any]:
    """Upserted search attributes by name; an unset one (a null payload) is None."""
    values: dict[str, Any] = {}
    for name, payload in attributes.indexed_fields.items():
        if name in _HIDDEN_ATTRIBUTES:
            continue
        if payload.data in (b"", b"null"):
            values[name] = None
            continue
        typed = decode_typed_search_attributes(SearchAttributes(indexed_fields={name: payload}))
        values[name] = _plain(typed.search_attributes[0].value) if typed.search_attributes else None
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return list(value) if isinstance(value, (list, tuple)) else value


def _path(transitions: list[TransitionRecord]) -> list[str]:
    path = [str(transitions[0].source)] if transitions else ["received"]
    for made in transitions:
        if str(made.dest) != path[-1]:
            path.append(str(made.dest))
    return path


async def build_timeline(
    history: WorkflowHistory | Sequence[WorkflowHistory], converter: DataConverter, namespace: str,
    include_submissions: bool = False, source: str = "server",
) -> Timeline:
    """The timeline of one case from its event history, or from the histories of all its
    runs, oldest first (dvds/audit/runs.py reads them)."""
    runs = [history] if isinstance(history, WorkflowHistory) else list(history)
    return await _Builder(runs, converter, namespace, include_submissions).build(source)
