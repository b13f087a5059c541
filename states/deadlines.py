"""A case's deadlines: which are open, when each rung of their ladders is due, breaches.

The workflow asks `next_wakeup()` for its timer and calls `due_rungs(now)` when it fires;
everything else here is bookkeeping driven by the case's pending tasks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from states.policy import DeadlinePolicy, DeadlineRule
from states.record import Actor, Deadline, RungRecord
from states.roles import Task
from states.submissions import DeadlineExtension


class DeadlineBook:
    def __init__(self, policy: DeadlinePolicy) -> None:
        self.policy = policy
        self._deadlines: list[Deadline] = []

    def all(self) -> list[Deadline]:
        return list(self._deadlines)

    def restore(self, deadlines: list[Deadline]) -> None:
        """Take up the deadlines a case carried over from its previous run."""
        self._deadlines = list(deadlines)

    def open_names(self) -> list[str]:
        return [d.name for d in self._deadlines if d.open]

    def _find_open(self, name: str) -> int | None:
        return next((i for i, d in enumerate(self._deadlines) if d.name == name and d.open), None)

    def open(self, name: str, start: datetime, urgent: bool) -> Deadline:
        rule = self.policy.rule_for(name, urgent)
        assert rule is not None, f"no deadline rule for {name}"
        deadline = _arm(name, rule, start, self.policy.timezone, urgent, self.policy.calendar)
        self._deadlines.append(deadline)
        return deadline

    def meet(self, name: str, at: datetime) -> None:
        """Close a deadline. Met after its due time, it is a breach even if no timer saw it
        (a late referral, or a task done while the worker was down)."""
        index = self._find_open(name)
        if index is not None:
            deadline = self._deadlines[index]
            if deadline.due < at and deadline.due not in deadline.breaches:
                deadline = _breached(deadline)
            self._deadlines[index] = deadline.model_copy(update={"met_at": at})

    def sync(self, pending: list[Task], now: datetime, urgent: bool, outcome_met: bool = False) -> None:
        """Meet the deadlines of tasks no longer pending; open those of newly pending ones.
        When a case turns urgent, an open outcome deadline moves to the urgent track."""
        for deadline in list(self._deadlines):
            if not deadline.open or deadline.name in ("outcome", "iopc_referral"):
                continue
            if deadline.name not in pending:
                self.meet(deadline.name, now)
        if outcome_met:
            self.meet("outcome", now)
        outcome = self._find_open("outcome")
        if outcome is not None and urgent and not self._deadlines[outcome].urgent:
            start = self._deadlines[outcome].started_at
            self.meet("outcome", now)
            self.open("outcome", start, urgent=True)
        for task in pending:
            if self._find_open(task) is None and self.policy.rule_for(task, urgent) is not None:
                self.open(task, now, urgent)

    def go_urgent(self, now: datetime) -> None:
        """Put every open deadline the policy has an urgent rule for on that rule, counted
        from when it started (a re-triage to high): rungs already past on the urgent
        ladder fire at once, in order."""
        for deadline in list(self._deadlines):
            if deadline.open and not deadline.urgent and deadline.name in self.policy.urgent:
                self.meet(deadline.name, now)
                self.open(deadline.name, deadline.started_at, urgent=True)

    def extend(self, extension: DeadlineExtension, actor: Actor, now: datetime) -> None:
        """Move the due time and re-arm the ladder: rungs now in the future fire again."""
        index = self._find_open(extension.deadline)
        assert index is not None
        deadline = self._deadlines[index]
        delta = timedelta(hours=extension.extend_by_hours)
        rungs = [
            r.model_copy(update={"due": r.due + delta, "fired_at": None if r.due + delta > now else r.fired_at})
            for r in deadline.rungs
        ]
        # A breach already recorded stays recorded: the extension moves the next due time only.
        self._deadlines[index] = deadline.model_copy(
            update={
                "due": deadline.due + delta,
                "rungs": rungs,
                "extensions": [
                    *deadline.extensions, f"{actor.id} by {extension.extend_by_hours}h at {now.isoformat()}"
                ],
            }
        )

    def next_wakeup(self) -> datetime | None:
        times = [r.due for d in self._deadlines if d.open for r in d.rungs if r.fired_at is None]
        times += [d.due for d in self._deadlines if d.open and d.due not in d.breaches]
        return min(times, default=None)

    def due_rungs(self, now: datetime) -> list[tuple[Deadline, RungRecord]]:
        """Mark every rung and breach that is due by `now`; return the rungs, in order."""
        fired: list[tuple[Deadline, RungRecord]] = []
        for index, deadline in enumerate(self._deadlines):
            if not deadline.open:
                continue
            rungs = []
            for rung in deadline.rungs:
                if rung.fired_at is None and rung.due <= now:
                    rung = rung.model_copy(update={"fired_at": now})
                    fired.append((deadline, rung))
                rungs.append(rung)
            deadline = deadline.model_copy(update={"rungs": rungs})
            if deadline.due <= now and deadline.due not in deadline.breaches:
                deadline = _breached(deadline)
            self._deadlines[index] = deadline
        fired.sort(key=lambda pair: pair[1].due)
        return fired

    def overdue(self, now: datetime) -> bool:
        return any(d.open and d.due <= now for d in self._deadlines)

    def breaches(self) -> list[Deadline]:
        return [d for d in self._deadlines if d.breached_at is not None]


def _arm(name: str, rule: DeadlineRule, start: datetime, tz: str, urgent: bool, calendar: str | None) -> Deadline:
    due = rule.limit.due_from(start, tz, calendar)
    rungs = [
        RungRecord(
            due=due if rung.at == "breach" else rung.at.due_from(start, tz, calendar),
            notify=rung.notify,
            breach=rung.at == "breach",
        )
        for rung in rule.ladder
    ]
    rungs.sort(key=lambda r: r.due)
    return Deadline(name=name, started_at=start, due=due, urgent=urgent, rungs=rungs)


def _breached(deadline: Deadline) -> Deadline:
    """Record that the deadline's current due time passed while it was open."""
    return deadline.model_copy(
        update={"breached_at": deadline.breached_at or deadline.due, "breaches": [*deadline.breaches, deadline.due]}
    )
