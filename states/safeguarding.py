"""Delay communicated. When the outcome deadline is breached, a `safeguarding_contact` task
opens for the disclosing officer: contact the applicant by the recorded safe method, give
interim safeguarding advice, record when and how. It has its own deadline and ladder
(`stages.safeguarding_contact` in the policy) and is owed once per breach.
"""

from __future__ import annotations

from datetime import datetime

from states.record import TaskRecord
from states.roles import Task


class SafeguardingRules:
    tasks: list[TaskRecord]
    # When the outcome deadline was last breached, if the case has owed a contact since.
    safeguarding_since: datetime | None = None

    def safeguarding_contact_owed(self, record: TaskRecord | None = None) -> bool:
        since = self.safeguarding_since
        if since is None:
            return False
        return not any(r.task is Task.safeguarding_contact and r.at >= since for r in self.tasks)
