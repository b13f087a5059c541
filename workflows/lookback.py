"""After a failure is confirmed: open the look-backs (states/lookback.py) and, for a member of
staff with several confirmed failures, alert Professional Standards. Run inside the
confirmation's update, so its result says how many look-backs were opened.

Patches: look-back-on-confirmed-failure (cases confirmed before it open none);
search-attribute-staff (the DvdsStaff attribute the look-backs find cases by).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.lookback import LookBackActivities
    from activities.notifications import NotificationActivities
    from states.case import Case
    from states.lookback import LookBackRequest, StaffAlert

LOOK_BACK = "look-back-on-confirmed-failure"
STAFF_ATTRIBUTE = "search-attribute-staff"
# Inside the confirmation's update a few quick attempts; past them the update returns (the
# count unknown) and the look-backs are opened in the background, retried until they are.
FIRST_ATTEMPTS = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
LOOK_BACK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


async def after_confirmation(case: Case, background: list[asyncio.Task[Any]]) -> None:
    if not case.failure_confirmed_on_case() or case.look_backs_opened is not None:
        return
    if not workflow.patched(LOOK_BACK):
        return
    staff = case.staff_ids()
    if not staff:
        case.look_backs_opened = 0
        return
    request = LookBackRequest(failure=case.start.ref, staff_ids=staff, confirmed_at=workflow.now())
    try:
        await _open(case, request, FIRST_ATTEMPTS)
    except ActivityError:
        workflow.logger.warning("look-backs not opened yet; retrying in the background",
                                extra={"case_ref": case.start.ref})
        background.append(asyncio.ensure_future(_open(case, request, LOOK_BACK_RETRY)))


async def _open(case: Case, request: LookBackRequest, retry: RetryPolicy) -> None:
    result = await workflow.execute_activity_method(
        LookBackActivities.open_look_backs, request, start_to_close_timeout=timedelta(minutes=10),
        retry_policy=retry,
    )
    case.look_backs_opened = result.opened
    workflow.logger.info("look-backs opened", extra={"case_ref": case.start.ref, "opened": result.opened})
    for staff_id, failures in sorted(result.repeat_staff().items()):
        alert = StaffAlert(staff_id=staff_id, confirmed_failures=failures, latest_failure=case.start.ref)
        await workflow.execute_activity_method(
            NotificationActivities.alert_professional_standards, alert, start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LOOK_BACK_RETRY,
        )
