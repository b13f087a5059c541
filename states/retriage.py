"""Re-triage at any stage: a `risk_update` on any open case records a new level and its
reason. Raising it to high puts the case's open deadlines on the urgent ladder at once
(DeadlineBook.go_urgent); lowering it needs a supervisor (rule `lowering_needs_supervisor`).
"""

from __future__ import annotations

from states.record import CaseInput, TaskRecord
from states.risk import RiskLevel
from states.roles import Role, Task

RANK = {RiskLevel.standard: 0, RiskLevel.medium: 1, RiskLevel.high: 2}


class RetriageRules:
    start: CaseInput
    tasks: list[TaskRecord]

    def current_risk(self) -> RiskLevel | None:
        """The latest assessment or update of the risk; for a historical case not yet
        re-assessed, the level its record shows."""
        record = next((r for r in reversed(self.tasks) if r.task in (Task.risk_assessment, Task.risk_update)), None)
        if record is not None:
            return RiskLevel(str(record.submission["level"]))
        return self.start.historical.risk_level if self.start.historical else None

    def lowering_needs_supervisor(self, record: TaskRecord) -> bool:
        current = self.current_risk()
        new = RiskLevel(str(record.submission["level"]))
        if current is None or RANK[new] >= RANK[current]:
            return True
        return record.actor.role is Role.supervisor
