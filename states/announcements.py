"""Which pending tasks to announce: each task once each time it becomes pending.

A task is pending from a move of the case until it is done (or the case no longer waits
for it); that stretch is one announcement, keyed by the task and the number of moves the
case had made when it began (`task:moves`, the key a continued run carries over in
`CaseResume.notified`). A move that leaves a task pending (the referral filed while the
remedial disclosure waits) starts nothing new, and a stretch that ended before the case
looked (a task submitted before the case's first workflow task ran) is still announced.
Pure bookkeeping: the workflow says when the case moved and sends what is due.
"""

from __future__ import annotations

from states.roles import Task

Key = tuple[str, str]  # (task, moves when its stretch began)


class Announcements:
    def __init__(self, notified: set[Key], pending: list[Task], moves: int) -> None:
        """`notified`: what the case announced before (a continued run's record). A task
        pending now that was announced before keeps the stretch it was announced for."""
        self.notified = notified
        self._since: dict[Task, int] = {}
        self._due: list[tuple[Task, int]] = []
        for task in pending:
            earlier = [int(count) for name, count in notified if name == task and int(count) <= moves]
            self._begin(task, max(earlier, default=moves))

    def _begin(self, task: Task, since: int) -> None:
        self._since[task] = since
        if (str(task), str(since)) not in self.notified:
            self._due.append((task, since))

    def moved(self, pending: list[Task], moves: int) -> None:
        """The case's pending tasks after a move (`moves` so far): stretches begin and end."""
        for task in list(self._since):
            if task not in pending:
                del self._since[task]
        for task in pending:
            if task not in self._since:
                self._begin(task, moves)

    def take(self) -> list[Task]:
        """The tasks to announce now, in the order their stretches began; each is marked
        announced (its key joins `notified`)."""
        due, self._due = self._due, []
        for task, since in due:
            self.notified.add((str(task), str(since)))
        return [task for task, _ in due]
