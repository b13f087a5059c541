"""CaseWorkflow: one DVDS application, from receipt to closed.

Updates: one per human task, named by states.roles.Task (research, risk_assessment,
    decision, ...), each with a validator that refuses without changing anything
Queries: snapshot (no personal data), case_file (everything, for staff who need it)
Timers: the next rung of an escalation ladder or the next breach, whichever is first.
Activities: notify_task_waiting, escalate, refer_to_iopc; check_start_proof (local, first run).
A start that is not the case's to take (workflows/start_check.py) ends the run as refused.
Continues as new when its history grows long (Temporal's suggestion, or the start input's
history_limit), once nothing is in flight, carrying its record (states/resume.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from activities.notifications import NotificationActivities
    from states.announcements import Announcements
    from states.messages import CaseFile, Escalation, ReferralReceipt, ReferralRequest, TaskInput, TaskWaiting
    from states.models import validation_summary
    from states.payloads import RefusedPayload
    from states.record import CaseInput, CaseSnapshot
    from states.resume import carried, rebuilt
    from states.roles import TASK_ROLE, Task
    from states.tasks import TASK_MODEL, TaskRefused
    from workflows import lookback, report_facts, safeguards, search
    from workflows.calendar import case_policy
    from workflows.incidents import refer, report_incident, send_notice
    from workflows.payload_gate import end_refused
    from workflows.start_check import start_refused

CONTINUE_AS_NEW = "continue-as-new-when-long"
ESCALATIONS_IN_ORDER = "escalations-one-at-a-time"
# Each task announced once each time it becomes pending (states/announcements.py), even if
# done before the case's first look; cases begun before announce as they did.
ANNOUNCE_ONCE = "announce-each-task-once"
REFERRAL_DUE_ATTRIBUTE = "search-attribute-referral-due"
# The deadline timer is kept while the next wakeup stays where it was, and left to lapse
# when the case ends: a task that moves no deadline (and the last task of all) cancels and
# starts no timer. Cases begun before cancel it at every task and set it again.
KEEP_DEADLINE_TIMER = "deadline-timer-kept-until-it-moves"


@workflow.defn
class CaseWorkflow:
    @workflow.init
    def __init__(self, start: CaseInput) -> None:
        if isinstance(start, RefusedPayload):
            return  # not encrypted under the ring: the payload gate ends the run before it runs
        self.case, self._notified = rebuilt(start, case_policy(start), workflow.now())
        self._version = 0  # bumped by every accepted task; the main loop wakes on it
        self._background: list[asyncio.Task[Any]] = []
        self._referral_started = False
        self._last_escalation: asyncio.Task[Any] | None = None
        self._report_facts = report_facts.Publishing()
        self._announcements = Announcements(self._notified, self.case.pending_tasks(), len(self.case.transitions))
        self._announce_once = False
        self._keep_timer = False
        self._timer: asyncio.Task[None] | None = None
        self._timer_due: datetime | None = None
        self._register_tasks()

    @workflow.run
    async def run(self, start: CaseInput) -> CaseSnapshot:
        # Retired patch (README: Changing workflow code safely): every case carries its
        # marker, none runs the old branch; deprecate_patch keeps the markers replaying.
        workflow.deprecate_patch(CONTINUE_AS_NEW)
        self._announce_once = workflow.patched(ANNOUNCE_ONCE)
        self._keep_timer = workflow.patched(KEEP_DEADLINE_TIMER)
        refused = await start_refused(start)
        if refused is not None:
            end_refused(refused, "StartRefused")
        self._upsert_search_attributes()
        while not self.case.finished:
            self._notify_new_tasks()
            self._start_referral_if_due()
            if self._continue_as_new_due():
                workflow.continue_as_new(carried(self.case, self._notified))
            if self._keep_timer:
                await self._wait_for_a_move_or_the_timer()
            else:
                await self._wait_for_a_move_or_a_new_timer()
            self._upsert_search_attributes()
        await asyncio.gather(*self._background)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._upsert_search_attributes()
        return self.case.snapshot(workflow.now())

    async def _wait_for_a_move_or_a_new_timer(self) -> None:
        """Cases begun before KEEP_DEADLINE_TIMER: a timer of its own for each wait."""
        seen = self._version
        wakeup = self.case.deadlines.next_wakeup()
        timeout = None if wakeup is None else max(wakeup - workflow.now(), timedelta(milliseconds=1))
        try:
            await workflow.wait_condition(
                lambda: self._version != seen or self._continue_as_new_due(),
                timeout=timeout,
            )
        except TimeoutError:
            self._fire_due_rungs()

    async def _wait_for_a_move_or_the_timer(self) -> None:
        """Until a task moves the case or the deadline timer fires. The timer is set again
        only when the next wakeup has moved; the one pending when the case ends lapses."""
        seen = self._version
        timer = self._deadline_timer(self.case.deadlines.next_wakeup())
        await workflow.wait_condition(
            lambda: self._version != seen or self._continue_as_new_due() or (timer is not None and timer.done())
        )
        if timer is not None and timer.done():
            self._timer, self._timer_due = None, None
            self._fire_due_rungs()

    def _deadline_timer(self, wakeup: datetime | None) -> asyncio.Task[None] | None:
        if self._timer is not None and self._timer_due == wakeup:
            return self._timer
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_due = None, wakeup
        if wakeup is not None:
            wait = max(wakeup - workflow.now(), timedelta(milliseconds=1))
            self._timer = asyncio.ensure_future(workflow.sleep(wait))
        return self._timer

    def _continue_as_new_due(self) -> bool:
        """A long history, and nothing in flight: no activity (a referral still retrying
        through an outage keeps the case in this run) and no update handler running."""
        info = workflow.info()
        limit = self.case.start.history_limit
        long = info.is_continue_as_new_suggested() or (limit is not None and info.get_current_history_length() >= limit)
        return long and all(task.done() for task in self._background) and workflow.all_handlers_finished()

    # ---- queries -----------------------------------------------------------

    @workflow.query
    def snapshot(self) -> CaseSnapshot:
        return self.case.snapshot(workflow.now())

    @workflow.query
    def case_file(self) -> CaseFile:
        return CaseFile(
            snapshot=self.case.snapshot(workflow.now()),
            application=self.case.start.application,
            historical=self.case.start.historical,
            tasks=self.case.tasks,
        )

    # ---- human tasks: validators refuse, handlers apply -------------------------

    def _register_tasks(self) -> None:
        """One update per human task, named by the task (states.roles.Task). Each takes the
        submission as plain data and parses it itself, so a malformed one is refused naming
        its fields instead of failing in the SDK's argument decoding."""
        for task in Task:
            workflow.set_update_handler(str(task), self._handler(task), validator=self._validator(task))

    def _handler(self, task: Task) -> Callable[[Any], Any]:
        if task is Task.failure_confirmation:
            return self._confirm
        return lambda submitted: self._apply(task, submitted)

    async def _confirm(self, raw: Any) -> CaseSnapshot:
        """A confirmed failure opens its look-backs before the confirmation returns (workflows/lookback.py)."""
        self._apply(Task.failure_confirmation, raw)
        await lookback.after_confirmation(self.case, self._background)
        return self.case.snapshot(workflow.now())

    def _validator(self, task: Task) -> Callable[[Any], None]:
        return lambda submitted: self._check(task, submitted)

    def _parse(self, task: Task, raw: Any) -> TaskInput[Any]:
        try:
            return TaskInput[TASK_MODEL[task]].model_validate(raw)  # type: ignore[misc,valid-type]
        except ValidationError as invalid:
            raise ApplicationError(
                f"invalid {task} submission: {validation_summary(invalid)}",
                type="InvalidSubmission",
                non_retryable=True,
            ) from None

    def _check(self, task: Task, raw: Any) -> None:
        submitted = self._parse(task, raw)
        try:
            self.case.check(task, submitted.actor, submitted.submission, workflow.now())
        except TaskRefused as refused:
            raise ApplicationError(str(refused), type="TaskRefused", non_retryable=True) from None

    def _apply(self, task: Task, raw: Any) -> CaseSnapshot:
        submitted = self._parse(task, raw)
        safeguards.before_task(self.case, task)
        made = self.case.apply(task, submitted.actor, submitted.submission, workflow.now(), submitted.proof)
        self._version += 1
        self._announcements.moved(self.case.pending_tasks(), len(self.case.transitions))
        for transition in made:
            workflow.logger.info(
                "case moved",
                extra={
                    "case_ref": self.case.start.ref,
                    "task": str(task),
                    "actor": submitted.actor.id,
                    "role": str(submitted.actor.role),
                    "from_state": str(transition.source),
                    "state": str(transition.dest),
                },
            )
        return self.case.snapshot(workflow.now())

    # ---- what the case does on its own --------------------------------------------

    def _in_background(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._background.append(task)
        return task

    async def _notice(self, activity: Callable[[Any, Any], Awaitable[Any]], notice: BaseModel) -> None:
        """A notice never fails the case: given up after its retries, or refused for good
        (then Professional Standards hear of it: workflows/incidents.py)."""
        refused = await send_notice(activity, notice, self.case.start.ref)
        if refused is not None:
            await report_incident(self.case.start.ref, "notice", refused)

    def _notify_new_tasks(self) -> None:
        if self._announce_once:
            self._announcements.moved(self.case.pending_tasks(), len(self.case.transitions))  # its own moves
            new = self._announcements.take()
        else:  # a case begun before: each pending task again after every move (the sent-log drops repeats)
            moves = str(len(self.case.transitions))
            new = [t for t in self.case.pending_tasks() if (str(t), moves) not in self._notified]
            self._notified.update((str(t), moves) for t in new)
        deadlines = {d.name: d for d in self.case.deadlines.all() if d.open}
        for task in new:
            deadline = deadlines.get(str(task)) or deadlines.get("outcome")
            waiting = TaskWaiting(
                ref=self.case.start.ref,
                task=task,
                role=TASK_ROLE[task],
                due=deadline.due if deadline else None,
                urgent=bool(deadline and deadline.urgent),
            )
            self._in_background(self._notice(NotificationActivities.notify_task_waiting, waiting))

    def _fire_due_rungs(self) -> None:
        due = self.case.deadlines.due_rungs(workflow.now())
        for deadline, rung in due:
            key = f"{self.case.start.ref}:{deadline.name}:{rung.notify}:{rung.due.isoformat()}"
            escalation = Escalation(
                ref=self.case.start.ref,
                deadline=deadline.name,
                due=rung.due,
                notify=rung.notify,
                breach=rung.breach,
                idempotency_key=key,
            )
            workflow.logger.info(
                "deadline rung fired",
                extra={"case_ref": self.case.start.ref, "deadline": deadline.name, "notify": str(rung.notify)},
            )
            # Rungs due together (after an outage) still reach people in ladder order. Retired
            # patch, where its marker was recorded: no case runs the old branch (all at once).
            workflow.deprecate_patch(ESCALATIONS_IN_ORDER)
            self._last_escalation = asyncio.ensure_future(self._escalate_after(self._last_escalation, escalation))
            self._background.append(self._last_escalation)
        safeguards.after_rungs(self.case, due)

    async def _escalate_after(self, previous: asyncio.Task[Any] | None, escalation: Escalation) -> None:
        if previous is not None:
            try:
                await previous
            except Exception:  # noqa: BLE001 - the next rung goes out whatever became of the last
                pass
        await self._notice(NotificationActivities.escalate, escalation)

    def _start_referral_if_due(self) -> None:
        referral = self.case.referral
        if referral is None or referral.iopc_reference is not None or self._referral_started:
            return
        if referral.refused is not None:
            return  # waits on Professional Standards (referral_resolution)
        self._referral_started = True
        review = self.case.last_review()
        assert review is not None and review.failure_type is not None
        request = ReferralRequest(
            ref=self.case.start.ref,
            category=referral.category,
            failure_type=str(review.failure_type),
            harm_occurred=review.harm_occurred,
            still_at_risk=review.still_at_risk,
            duty_arose_at=referral.duty_arose_at,
            idempotency_key=referral.idempotency_key,
        )
        self._in_background(self._refer(request))

    async def _refer(self, request: ReferralRequest) -> None:
        """Awaited, not read in a callback: a refusal for good opens an incident."""
        outcome = await refer(request)
        self._referral_started = False
        if isinstance(outcome, ReferralReceipt):
            # Referred when the gateway accepted, not when this worker heard of it.
            self.case.file_referral(outcome.iopc_reference, outcome.accepted_at)
            self._version += 1
            return
        self.case.refuse_referral(outcome, workflow.now())
        self._version += 1
        await report_incident(self.case.start.ref, "iopc_referral", outcome)

    def _upsert_search_attributes(self) -> None:
        """Upsert only what changed: every upsert is a history event."""
        snapshot = self.case.snapshot(workflow.now())
        # By name: TypedSearchAttributes.get scans every pair, and a case carries twenty.
        current = {pair.key.name: pair.value for pair in workflow.info().typed_search_attributes}
        wanted = search.wanted(snapshot, self.case.start.subject_keys)
        if workflow.patched(REFERRAL_DUE_ATTRIBUTE):  # a run begun before it never carries it
            wanted.append(search.referral_due(snapshot))
        if workflow.patched(lookback.STAFF_ATTRIBUTE):
            wanted.append(search.staff(snapshot))
        if self._report_facts.now():
            wanted += report_facts.wanted(snapshot, self.case.policy.timezone, workflow.now())
        updates = [
            key.value_set(value) if value is not None else key.value_unset()
            for key, value in wanted
            if current.get(key.name) != value
        ]
        if updates:
            workflow.upsert_search_attributes(updates)
