"""The look-back opener the worker's LookBackActivities use (activities/lookback.py): finds a
member of staff's cases through visibility (DvdsStaff) and starts each look-back case
(states/lookback.py) with the policy in force. Only cases on this worker's task queue are
looked at: the queue is the deployment's set of cases."""

from __future__ import annotations

import re

from temporalio.client import Client

from dvds.cases.client import CaseClient, CaseError
from dvds.settings import Settings
from states.lookback import look_back_ref, look_back_start
from states.record import LookBack
from workflows import search

# Staff ids go into a visibility query: anything else in one is refused, never quoted.
_STAFF_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class ServerLookBackOpener:
    def __init__(self, client: Client, settings: Settings, task_queue: str) -> None:
        self.cases = CaseClient(client, settings.model_copy(update={"task_queue": task_queue}))
        self.task_queue = task_queue

    def _by(self, staff_ids: list[str]) -> str:
        ids = [s for s in staff_ids if _STAFF_ID.fullmatch(s)]
        if not ids:
            return "false"
        clause = " OR ".join(f"{search.STAFF.name} = '{s}'" for s in ids)
        return f"({clause}) AND TaskQueue = '{self.task_queue}'"

    async def cases_by(self, staff_ids: list[str]) -> list[str]:
        listings = await self.cases.list_cases(self._by(staff_ids))
        return sorted({c.ref for c in listings})

    async def open(self, ref: str, link: LookBack) -> str:
        existing = await self._linked_failure(look_back_ref(ref))
        if existing is not None:
            return existing
        looked_at = await self.cases.case_file(ref)
        try:
            await self.cases.start(look_back_start(looked_at, link, self.cases.policy.timezone))
        except CaseError:  # opened meanwhile by another failure's look-back
            return await self._linked_failure(look_back_ref(ref)) or ""
        return link.failure

    async def _linked_failure(self, ref: str) -> str | None:
        try:
            snapshot = await self.cases.snapshot(ref)
        except CaseError:
            return None
        return snapshot.look_back.failure if snapshot.look_back else None

    async def confirmed_failures(self, staff_id: str) -> list[str]:
        query = f"{self._by([staff_id])} AND {search.FAILURE_TYPE.name} IS NOT NULL"
        found = []
        for listing in await self.cases.list_cases(query):
            snapshot = await self.cases.snapshot(listing.ref)
            if snapshot.failure_confirmed:
                found.append(snapshot.ref)
        return found
