"""Opening the look-backs a confirmed failure calls for (states/lookback.py), through a
`LookBackOpener` adapter: the library's reads visibility and starts the look-back cases
(dvds/cases/lookback.py). Retried safely: a look-back already opened by this failure is
counted again, one opened by an earlier failure is not."""

from __future__ import annotations

import asyncio
from typing import Protocol

import structlog
from temporalio import activity

from states.lookback import LookBackRequest, LookBackResult
from states.record import LookBack

logger = structlog.get_logger()


class LookBackOpener(Protocol):
    async def cases_by(self, staff_ids: list[str]) -> list[str]:
        """References of every case (not a look-back) where one of them decided or researched."""
        ...

    async def open(self, ref: str, link: LookBack) -> str:
        """Open the look-back of case `ref` unless it has one; the failure its look-back is linked to."""
        ...

    async def confirmed_failures(self, staff_id: str) -> list[str]:
        """References of the cases with a confirmed failure where they decided or researched."""
        ...


class LookBackActivities:
    def __init__(self, opener: LookBackOpener, concurrency: int = 8) -> None:
        self.opener = opener
        self.concurrency = concurrency

    @activity.defn
    async def open_look_backs(self, request: LookBackRequest) -> LookBackResult:
        refs = [r for r in await self.opener.cases_by(request.staff_ids) if r != request.failure]
        link = LookBack(of_case="", failure=request.failure, staff_ids=request.staff_ids,
                        opened_at=request.confirmed_at)
        gate = asyncio.Semaphore(self.concurrency)

        async def one(ref: str) -> bool:
            async with gate:
                return await self.opener.open(ref, link.model_copy(update={"of_case": ref})) == request.failure

        opened = sum(await asyncio.gather(*(one(ref) for ref in refs)))
        failures = {}
        for staff_id in request.staff_ids:
            found = set(await self.opener.confirmed_failures(staff_id)) | {request.failure}
            failures[staff_id] = len(found)
        logger.info("look-backs opened", case_ref=request.failure, opened=opened, cases=len(refs))
        return LookBackResult(opened=opened, cases_looked_at=len(refs), confirmed_failures=failures)
