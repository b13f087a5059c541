"""Cases a page at a time from visibility, in the order staff take work: review priority
(1 first, cases without one last), then nearest deadline (none last).

The server's SQL visibility cannot sort on a search attribute, so a page is found with
counts: for each priority, count the cases due by a few bounds, narrow to a window of
deadlines that holds the page (a few hundred cases at most), list that window and sort it.
A window that stays large however narrow (cases due at the same moment, as an import
makes) is paged in the server's own order. The page token says where the next page
starts; a page costs a few counts and one or two lists, whatever the number of cases.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from dvds.cases.client import CaseClient, CaseError
from dvds.cases.listing import CaseListing
from states.record import ReviewPriority
from workflows import search

PRIORITIES: list[str | None] = [*sorted(str(p) for p in ReviewPriority), None]
LISTABLE = 100  # listing costs about a millisecond a case; a count a few, whatever it counts
SPLITS = 12
DAY = timedelta(days=1)
TIE = timedelta(seconds=1)  # cases due within this of each other are paged in the server's order
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # before any deadline: the first part's lower end
FIRST_OFFSETS = [timedelta(seconds=1), timedelta(hours=1), DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY,
                 90 * DAY, 365 * DAY, 3650 * DAY]
FROM_NOW = [-3650 * DAY, -365 * DAY, -30 * DAY, -7 * DAY, -DAY, timedelta(0), DAY, 7 * DAY, 30 * DAY,
            365 * DAY, 3650 * DAY]


@dataclass
class Page:
    cases: list[CaseListing]
    total: int  # every case the query matches, counted
    next_token: str | None


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: in priority `bucket`, after deadline `due` (and, at that due, after
    `ref`); or inside a window (due, tie_end] paged by the server; or among those with no due."""

    bucket: int = 0
    due: str | None = None
    ref: str | None = None
    tie_end: str | None = None
    no_due: bool = False
    server: str | None = None  # the server's page token, base64

    def encode(self) -> str:
        return base64.urlsafe_b64encode(json.dumps(asdict(self)).encode()).decode()

    @staticmethod
    def decode(token: str | None) -> Cursor:
        if not token:
            return Cursor()
        try:
            return Cursor(**json.loads(base64.urlsafe_b64decode(token.encode())))
        except (ValueError, TypeError):
            raise CaseError("page-token: not a page token this list gave") from None


def _at(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _priority(bucket: int) -> str:
    value = PRIORITIES[bucket]
    return f"{search.PRIORITY.name} IS NULL" if value is None else f"{search.PRIORITY.name} = '{value}'"


def _order(case: CaseListing) -> tuple[datetime, str]:
    return (case.next_due or datetime.max.replace(tzinfo=UTC), case.ref)


class WorkQueue:
    """One query's cases, paged in work order."""

    def __init__(self, cases: CaseClient, query: str) -> None:
        self.cases = cases
        self.query = query

    async def _count(self, clause: str) -> int:
        return await self.cases.count_cases(f"({self.query}) AND {clause}")

    async def _list(self, clause: str, size: int, token: bytes | None = None) -> tuple[list[CaseListing], bytes | None]:
        return await self.cases.list_page(f"({self.query}) AND {clause}", size, token)

    async def page(self, size: int, token: str | None = None) -> Page:
        cursor = Cursor.decode(token)
        # One count per priority: the total, and which priorities have cases left to page through.
        counts = await asyncio.gather(*(self._count(_priority(b)) for b in range(len(PRIORITIES))))
        cases, after = await self._fill(cursor, size, list(counts))
        return Page(cases, sum(counts), after.encode() if after is not None else None)

    async def _fill(self, cursor: Cursor, size: int, counts: list[int]) -> tuple[list[CaseListing], Cursor | None]:
        rows: list[CaseListing] = []
        current = cursor
        while current.bucket < len(PRIORITIES) and len(rows) < size:
            if not counts[current.bucket]:
                current = Cursor(current.bucket + 1)
                continue
            fresh = current == Cursor(current.bucket)
            if fresh and counts[current.bucket] <= LISTABLE:
                got, current = await self._whole(current, size - len(rows))
            else:
                got, current = await self._step(current, size - len(rows))
            rows += got
        return rows, current if current.bucket < len(PRIORITIES) else None

    async def _whole(self, cursor: Cursor, need: int) -> tuple[list[CaseListing], Cursor]:
        """A priority small enough to list at once, sorted: the first `need` of it."""
        got, _ = await self._list(_priority(cursor.bucket), LISTABLE + need)
        due = sorted((c for c in got if c.next_due is not None), key=_order)
        taken = due[:need]
        if len(taken) < len(due):
            last = taken[-1]
            assert last.next_due is not None
            return taken, Cursor(bucket=cursor.bucket, due=_at(last.next_due), ref=last.ref)
        # Those with no deadline come last, in the server's order, as in any other priority.
        return taken, Cursor(cursor.bucket, no_due=True) if len(due) < len(got) else Cursor(cursor.bucket + 1)

    async def _step(self, cursor: Cursor, need: int) -> tuple[list[CaseListing], Cursor]:
        """Up to `need` cases from the cursor within its priority, and where to go on."""
        bucket = _priority(cursor.bucket)
        token = base64.b64decode(cursor.server) if cursor.server else None
        if cursor.no_due:
            got, more = await self._list(f"{bucket} AND {search.NEXT_DUE.name} IS NULL", need, token)
            after = replace(cursor, server=base64.b64encode(more).decode()) if more else Cursor(cursor.bucket + 1)
            return got, after
        if cursor.tie_end is not None:
            window = f"{search.NEXT_DUE.name} > '{cursor.due}' AND {search.NEXT_DUE.name} <= '{cursor.tie_end}'"
            got, more = await self._list(f"{bucket} AND {window}", need, token)
            if more:
                return got, replace(cursor, server=base64.b64encode(more).decode())
            return got, Cursor(bucket=cursor.bucket, due=cursor.tie_end)
        return await self._window(cursor, need, bucket)

    async def _window(self, cursor: Cursor, need: int, bucket: str) -> tuple[list[CaseListing], Cursor]:
        """The next cases by deadline: the first bound by which `need` of them are due narrows
        the window to list; the cases before the bound below it are all on the page."""
        key = search.NEXT_DUE.name
        start = None if cursor.due is None else _when(cursor.due)
        # Back to just before `start` when the last page stopped among cases due then (after
        # `ref`): visibility's datetimes do not compare equal to the microsecond; those already
        # shown are left out when the window is sorted.
        low = ""
        base = (EARLIEST, 0)  # none of the scope is due by then
        if start is not None:
            base = (start - timedelta(milliseconds=1) if cursor.ref else start, 0)
            low = f" AND {key} > '{_at(base[0])}'"
        scope = f"{bucket} AND {key} IS NOT NULL{low}"
        if start is None:
            now = datetime.now(UTC)
            bounds = [now + offset for offset in FROM_NOW]
        else:
            bounds = [start + offset for offset in FIRST_OFFSETS]
        # Around one case's due from the start too: cases due together are then found in one round.
        sample, _ = await self._list(scope, 1)
        if sample and sample[0].next_due is not None:
            around = sample[0].next_due
            bounds = sorted({*bounds, *(b for b in (around - TIE / 2, around + TIE / 2) if start is None or b > start)})
        lower: datetime | None = None  # the last bound by which fewer than `need` are due
        while True:
            tallies = await self._due_by(scope, base, bounds)
            hit = next(((b, t) for b, t in zip(bounds, tallies, strict=True) if t >= need), None)
            below = [(b, t) for b, t in zip(bounds, tallies, strict=True) if t < need]
            if below:
                base = below[-1]
                lower = base[0]
            if hit is None:
                if await self._count(scope) <= LISTABLE:
                    return await self._listed(cursor, scope, need, None)
                assert lower is not None
                bounds = [lower + (i + 1) * 3650 * DAY for i in range(SPLITS)]
                continue
            end, inside = hit
            if inside <= LISTABLE:
                return await self._listed(cursor, scope, need, end)
            first = lower if lower is not None else end - 3650 * DAY
            if end - first <= TIE:
                # Many cases due at practically the same moment: those before, then these in the server's order.
                head: list[CaseListing] = []
                if lower is not None:
                    head, _ = await self._listed(cursor, scope, need, lower)
                tie = Cursor(bucket=cursor.bucket, due=_at(first), tie_end=_at(end))
                got, after = await self._step(tie, need - len(head))
                return head + got, after
            step = (end - first) / SPLITS
            bounds = [first + step * i for i in range(1, SPLITS)] + [end]
            # One case of the window, and a second around its due: an import leaves hundreds due
            # at the same moment, found this way at once instead of by halving down to it.
            window = f"{scope} AND {key} > '{_at(first)}' AND {key} <= '{_at(end)}'"
            sample, _ = await self._list(window, 1)
            if sample and sample[0].next_due is not None:
                around = sample[0].next_due
                bounds = sorted({*bounds, *(b for b in (around - TIE / 2, around + TIE / 2) if first < b < end)})

    async def _due_by(self, scope: str, base: tuple[datetime, int], bounds: list[datetime]) -> list[int]:
        """How many of `scope` are due by each bound (sorted, all after `base`, a moment by
        which a known number are due), counted as the parts between one bound and the next,
        both ends in the query, and added up: a count costs the server the rows it matches,
        and a two-ended range is read from the deadline's own index, where "due by" would
        read every case due by then."""
        key = search.NEXT_DUE.name
        after, before = base
        parts = await asyncio.gather(*(
            self._count(f"{scope} AND {key} > '{_at(low)}' AND {key} <= '{_at(high)}'")
            for low, high in zip([after, *bounds], bounds, strict=False)))
        return list(accumulate(parts, initial=before))[1:]

    async def _listed(
        self, cursor: Cursor, scope: str, need: int, end: datetime | None
    ) -> tuple[list[CaseListing], Cursor]:
        """The cases of `scope` due by `end` (all, when None), sorted; the first `need` of them."""
        clause = scope if end is None else f"{scope} AND {search.NEXT_DUE.name} <= '{_at(end)}'"
        got, _ = await self._list(clause, LISTABLE + need)
        ordered = sorted(got, key=_order)
        if cursor.ref is not None and cursor.due is not None:
            after = (_when(cursor.due), cursor.ref)
            ordered = [c for c in ordered if _order(c) > after]
        taken = ordered[:need]
        if len(taken) < len(ordered):
            last = taken[-1]
            assert last.next_due is not None
            return taken, Cursor(bucket=cursor.bucket, due=_at(last.next_due), ref=last.ref)
        if end is None:
            return taken, Cursor(bucket=cursor.bucket, no_due=True)
        return taken, Cursor(bucket=cursor.bucket, due=_at(end))
