"""A case carried across continue-as-new: what it takes with it, and how it is rebuilt.

Pure: the workflow decides when to continue as new; this module only moves the record.
"""

from __future__ import annotations

from datetime import datetime

from states.case import Case
from states.policy import DeadlinePolicy
from states.record import CaseInput, CaseResume


def carried(case: Case, notified: set[tuple[str, str]]) -> CaseInput:
    """The start input of the case's next run: the same start, and its record so far."""
    resume = CaseResume(
        state=case.current,
        received_at=case.received_at,
        tasks=list(case.tasks),
        transitions=list(case.transitions),
        deadlines=case.deadlines.all(),
        referral=case.referral,
        safeguarding_since=case.safeguarding_since,
        look_backs_opened=case.look_backs_opened,
        notified=sorted(f"{task}:{count}" for task, count in notified),
    )
    return case.start.model_copy(update={"resume": resume, "received_at": case.received_at, "policy": case.policy})


def rebuilt(start: CaseInput, policy: DeadlinePolicy, now: datetime) -> tuple[Case, set[tuple[str, str]]]:
    """The case as its previous run left it (or a new case when there was none), and the
    notices already sent, so the next run neither forgets nor repeats anything."""
    case = Case(start, policy, now)
    resume = start.resume
    if resume is None:
        return case, set()
    # Built as new, then given the record: the imported history and opening deadlines
    # the constructor makes are replaced by what actually happened.
    case.state = str(resume.state)
    case.received_at = resume.received_at
    case.tasks = list(resume.tasks)
    case.transitions = list(resume.transitions)
    case.referral = resume.referral
    case.safeguarding_since = resume.safeguarding_since
    case.look_backs_opened = resume.look_backs_opened
    case.deadlines.restore(resume.deadlines)
    notified = {(key.rsplit(":", 1)[0], key.rsplit(":", 1)[1]) for key in resume.notified}
    return case, notified
