"""Four eyes on non-disclosure. A decision to decline, on a case whose research found
relevant history, does not decline the case: it waits for a second decision maker's
countersignature (rows `decline_for_countersignature`, `countersign` and
`refuse_countersignature` in states/machine.py; rule `countersigner_is_a_second_decision_maker`
in states/roles.py). Refused, the decision no longer stands and a new one is owed.
"""

from __future__ import annotations

from states.record import TaskRecord
from states.roles import Task
from states.submissions import Research


class CountersignRules:
    tasks: list[TaskRecord]
    # Off only for a case whose decision the workflow replays from before countersignatures
    # existed (workflow.patched), so it declines as it did then.
    countersign_declines: bool = True

    def decision_in_force(self) -> TaskRecord | None:
        """The last decision, unless a countersignature has refused it since."""
        for record in reversed(self.tasks):
            if record.task is Task.countersignature and not record.submission["countersigned"]:
                return None
            if record.task is Task.decision:
                return record
        return None

    def research_found_relevant_history(self, record: TaskRecord | None = None) -> bool:
        if not self.countersign_declines:
            return False
        research = next((r for r in reversed(self.tasks) if r.task is Task.research), None)
        if research is None:
            return False
        return Research.model_validate(research.submission).found_relevant_history

    def countersigned(self, record: TaskRecord) -> bool:
        return bool(record.submission["countersigned"])

    def not_countersigned(self, record: TaskRecord) -> bool:
        return not record.submission["countersigned"]
