"""Which bank-holiday calendar a case counts by: fixed when it starts. Called by
CaseWorkflow.__init__ before the case's deadlines are armed.

A start whose policy names a calendar (the case client names the current one) keeps it,
and so does every later run (the policy travels with the record). A first run whose start
names none takes the newest version, and the version's own patch marker records which: a
replay asks for each version newest first and gets True only for the one in its history.
A case begun before calendars were fixed has no marker and counts, as it did, by the
installed `holidays` package.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from states import calendars
    from states.policy import DeadlinePolicy, default_policy
    from states.record import CaseInput

CALENDAR_PATCH = "bank-holidays-"  # + the version: one patch id per calendar version


def case_policy(start: CaseInput) -> DeadlinePolicy:
    policy = start.policy or default_policy()
    if policy.calendar is not None or start.resume is not None:
        return policy
    for version in reversed(calendars.versions()):
        if workflow.patched(CALENDAR_PATCH + version):
            return policy.with_calendar(version)
    return policy
