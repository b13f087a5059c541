"""Cases a page at a time from visibility, in the order staff take work: review priority
(1 first, cases without one last), then nearest deadline (none last).

The server's SQL visibility cannot sort on a search attribute, and a count costs it every
row it matches, so a page is found with listings and with counts of few rows. Each priority
is first listed in the server's own order (its index, read only as far as the listing goes):
a small one is sorted whole. In a large one, counts of deadline ranges narrow to a window
that holds the page (a few hundred cases at most), which is listed and sorted. A deadline
that most of a priority shares (an import leaves its cases due at the same moment) is never
counted: its cases are paged by listing the priority in the server's order and keeping
those due then. The page token says where the next page starts; a page costs a few small
counts and a few listings, whatever the number of cases. The total a list shows is one
count of its own (`WorkQueue.total`), asked beside the page.
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
SHARED = 4  # a deadline held by a quarter of a priority's first listing is paged as the server lists
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # before any deadline: the first part's lower end
FIRST_OFFSETS = [timedelta(seconds=1), timedelta(hours=1), DAY, 3 * DAY, 7 * DAY, 14 * DAY, 30 * DAY,
                 90 * DAY, 365 * DAY, 3650 * DAY]
FROM_NOW = [-3650 * DAY, -365 * DAY, -30 * DAY, -7 * DAY, -DAY, timedelta(0), DAY, 7 * DAY, 30 * DAY,
            365 * DAY, 3650 * DAY]


@dataclass
class Page:
    cases: list[CaseListing]
    next_token: str | None


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: in priority `bucket`, after deadline `due` (and, at that due, after
    `ref`); or inside a window (due, tie_end] paged by the server; or among those with no due.
    `shared_low`/`shared_high`: the window (low, high] of a deadline most of the priority
    shares; the cases before it come first, then (`in_shared`) its own in the server's order
    from `server`, leaving out the first `skip` of that listing of `batch` rows, then those after
    it. The first of those listings is the priority's own first listing."""

    bucket: int = 0
    due: str | None = None
    ref: str | None = None
    tie_end: str | None = None
    no_due: bool = False
    server: str | None = None  # the server's page token, base64
    shared_low: str | None = None
    shared_high: str | None = None
    in_shared: bool = False
    skip: int = 0
    batch: int = 0

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

    def after(self, due: str, ref: str | None = None) -> Cursor:
        """After deadline `due` in this priority (at that due, after `ref`), keeping its shared
        deadline; at that deadline's window, into it."""
        if self.shared_low is not None and ref is None and _when(due) >= _when(self.shared_low):
            return Cursor(bucket=self.bucket, shared_low=self.shared_low, shared_high=self.shared_high,
                          in_shared=True, batch=self.batch)
        return Cursor(bucket=self.bucket, due=due, ref=ref, shared_low=self.shared_low, shared_high=self.shared_high,
                      batch=self.batch)

    def shared_ahead(self) -> bool:
        """Whether this priority has a shared deadline not yet reached."""
        return self.shared_low is not None and (self.due is None or _when(self.due) < _when(self.shared_low))

    def past_scope(self) -> Cursor:
        """Where to go once every case with a deadline up to the scope's end has been shown."""
        if self.shared_ahead() and self.shared_low is not None:
            return self.after(self.shared_low)
        return Cursor(bucket=self.bucket, no_due=True)


def _at(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _priority(bucket: int) -> str:
    value = PRIORITIES[bucket]
    return f"{search.PRIORITY.name} IS NULL" if value is None else f"{search.PRIORITY.name} = '{value}'"


def _order(case: CaseListing) -> tuple[datetime, str]:
    return (case.next_due or datetime.max.replace(tzinfo=UTC), case.ref)


def _shared_deadline(cases: list[CaseListing]) -> tuple[datetime, datetime] | None:
    """The window (low, high] of the deadline that at least 1/SHARED of `cases` share (within
    TIE of each other), if one does: the most shared one."""
    dues = sorted(c.next_due for c in cases if c.next_due is not None)
    best, first, last, j = 0, 0, 0, 0
    for i, due in enumerate(dues):
        j = max(j, i)
        while j + 1 < len(dues) and dues[j + 1] - due <= TIE:
            j += 1
        if j - i + 1 > best:
            best, first, last = j - i + 1, i, j
    if not dues or best * SHARED < len(cases):
        return None
    # Half a TIE either side: visibility compares datetimes to the millisecond, and no other
    # case is then likely to fall on an end.
    return dues[first] - TIE / 2, dues[last] + TIE / 2


class WorkQueue:
    """One query's cases, paged in work order."""

    def __init__(self, cases: CaseClient, query: str) -> None:
        self.cases = cases
        self.query = query
        # Listings this page has read, by (clause, size, token): a priority's first listing is
        # also the first listing of its shared deadline, and is not read twice.
        self._listed_already: dict[tuple[str, int, bytes | None], tuple[list[CaseListing], bytes | None]] = {}

    async def total(self) -> int:
        """Every case the query matches: one count, which costs the server every one of them,
        so asked beside a page rather than inside it."""
        return await self.cases.count_cases(self.query)

    async def _count(self, clause: str) -> int:
        return await self.cases.count_cases(f"({self.query}) AND {clause}")

    async def _list(self, clause: str, size: int, token: bytes | None = None) -> tuple[list[CaseListing], bytes | None]:
        key = (clause, size, token)
        if key not in self._listed_already:
            self._listed_already[key] = await self.cases.list_page(f"({self.query}) AND {clause}", size, token)
        return self._listed_already[key]

    async def page(self, size: int, token: str | None = None) -> Page:
        rows: list[CaseListing] = []
        current = Cursor.decode(token)
        while current.bucket < len(PRIORITIES) and len(rows) < size:
            if current == Cursor(current.bucket):
                got, current = await self._begin(current, size - len(rows))
            else:
                got, current = await self._step(current, size - len(rows))
            rows += got
        if current == Cursor(current.bucket) and current.bucket < len(PRIORITIES):
            current = Cursor(await self._first_with_cases(current.bucket))
        return Page(rows, current.encode() if current.bucket < len(PRIORITIES) else None)

    async def _first_with_cases(self, bucket: int) -> int:
        """The first priority from `bucket` on with a case (len(PRIORITIES) when none has), so
        that a page ending a priority offers no next page when the rest are empty."""
        rest = range(bucket, len(PRIORITIES))
        found = await asyncio.gather(*(self._list(_priority(b), 1) for b in rest))
        return next((b for b, (got, _) in zip(rest, found, strict=True) if got), len(PRIORITIES))

    async def _begin(self, cursor: Cursor, need: int) -> tuple[list[CaseListing], Cursor]:
        """A priority's first listing, in the server's order, which reads its index only as far
        as it goes (the server spends about a millisecond a row): all of a small priority, sorted;
        in a larger one, the deadline most of it shares, if one is, which is then listed rather
        than counted, starting with this same listing."""
        got, more = await self._list(_priority(cursor.bucket), need)
        if more:  # a priority larger than the page (or exactly its size: then the windows find no more)
            shared = _shared_deadline(got)
            if shared is not None:
                cursor = Cursor(bucket=cursor.bucket, shared_low=_at(shared[0]), shared_high=_at(shared[1]),
                                batch=need)
            return await self._step(cursor, need)
        due = sorted((c for c in got if c.next_due is not None), key=_order)
        taken = due[:need]
        if len(taken) < len(due):
            last = taken[-1]
            assert last.next_due is not None
            return taken, cursor.after(_at(last.next_due), last.ref)
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
        if cursor.in_shared:
            return await self._shared(cursor, need, bucket, token)
        if cursor.tie_end is not None:
            window = f"{search.NEXT_DUE.name} > '{cursor.due}' AND {search.NEXT_DUE.name} <= '{cursor.tie_end}'"
            got, more = await self._list(f"{bucket} AND {window}", need, token)
            if more:
                return got, replace(cursor, server=base64.b64encode(more).decode())
            return got, cursor.after(cursor.tie_end)
        return await self._window(cursor, need, bucket)

    async def _shared(
        self, cursor: Cursor, need: int, bucket: str, token: bytes | None
    ) -> tuple[list[CaseListing], Cursor]:
        """The cases due at the shared deadline, in the server's order: the priority listed as
        it is stored (each listing a read of as many rows), keeping those due in the window.
        A listing holding more than the page has room for is listed again by the next page,
        from the same token, leaving out what this one showed."""
        assert cursor.shared_low is not None and cursor.shared_high is not None
        low, high = _when(cursor.shared_low), _when(cursor.shared_high)
        taken: list[CaseListing] = []
        skip, batch = cursor.skip, cursor.batch or need
        while True:
            got, more = await self._list(bucket, batch, token)
            inside = [c for c in got if c.next_due is not None and low < c.next_due <= high][skip:]
            room = need - len(taken)
            if len(inside) > room:
                server = base64.b64encode(token).decode() if token else None
                return taken + inside[:room], replace(cursor, server=server, skip=skip + room, batch=batch)
            taken += inside
            if not more:
                return taken, Cursor(bucket=cursor.bucket, due=cursor.shared_high)
            if len(taken) == need:
                return taken, replace(cursor, server=base64.b64encode(more).decode(), skip=0, batch=0)
            token, skip, batch = more, 0, min(1000, batch * 2)

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
        # Up to a shared deadline still ahead: its cases are listed, never counted.
        clipped = cursor.shared_ahead()
        ceiling = _when(cursor.shared_low) if clipped and cursor.shared_low else datetime.max.replace(tzinfo=UTC)
        high = f" AND {key} <= '{cursor.shared_low}'" if clipped else ""
        scope = f"{bucket} AND {key} IS NOT NULL{low}{high}"

        def within(bounds: list[datetime]) -> list[datetime]:
            return sorted({b for b in bounds if b < ceiling} | ({ceiling} if clipped else set()))

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
        bounds = within(bounds)
        lower: datetime | None = None  # the last bound by which fewer than `need` are due
        while True:
            tallies = await self._due_by(scope, base, bounds)
            hit = next(((b, t) for b, t in zip(bounds, tallies, strict=True) if t >= need), None)
            below = [(b, t) for b, t in zip(bounds, tallies, strict=True) if t < need]
            if below:
                base = below[-1]
                lower = base[0]
            if hit is None:
                # Fewer than `need` left: all of them fit one listing.
                if clipped or await self._count(scope) <= LISTABLE + need:
                    return await self._listed(cursor, scope, need, None)
                assert lower is not None
                bounds = within([lower + (i + 1) * 3650 * DAY for i in range(SPLITS)])
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
                tie = replace(cursor.after(_at(first)), tie_end=_at(end))
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
            return taken, cursor.after(_at(last.next_due), last.ref)
        if end is None:
            return taken, cursor.past_scope()
        return taken, cursor.after(_at(end))
