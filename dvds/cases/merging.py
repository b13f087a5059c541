"""One list made of several queries that share no case, in work order, a page at a time.

A list such as "my team's queue" is "live cases waiting on the team, or campaign cases waiting
on another of its roles". As one query that is an OR across two attributes, which SQLite's
visibility cannot answer from an index: it reads the whole campaign to find the few that match.
As two queries, each is read from its own index, and their pages are merged here.

Each part is read a page at a time, as its own list would be, and the merge takes the head
that comes first in work order (priority, deadline, reference) until the page is full, reading
a part's next page when its heads run out. Every part so gives up a run of its own order from
where it stood, and the pages together hold each case once. The token holds, for each part,
the token of the part's page that the merge stopped in, that page's size, and how many of its
cases were shown: the next page lists that same page again and leaves those out (a part's page
of another size need not begin with the same cases: ties are paged in the server's order).
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dvds.cases.client import CaseClient, CaseError
from dvds.cases.listing import CaseListing
from dvds.cases.paging import PRIORITIES, Page, WorkQueue

DONE = "done"  # a part with nothing left
FAR = datetime.max.replace(tzinfo=UTC)


def _work_order(case: CaseListing) -> tuple[int, datetime, str]:
    return PRIORITIES.index(case.priority if case.priority in PRIORITIES else None), case.next_due or FAR, case.ref


@dataclass
class _Part:
    """Where one part stands: in its page `token` of `batch` cases, after the first `skip`."""

    queue: WorkQueue
    token: str | None = None
    batch: int = 0
    skip: int = 0
    done: bool = False
    heads: list[CaseListing] = field(default_factory=list)
    next_token: str | None = None
    read: bool = False  # `heads` hold the rest of the page at `token`

    async def read_page(self, size: int) -> None:
        self.batch = self.batch or size
        page = await self.queue.page(self.batch, self.token)
        self.heads, self.next_token, self.read = page.cases[self.skip:], page.next_token, True

    def take(self) -> CaseListing:
        case = self.heads.pop(0)
        self.skip += 1
        if not self.heads:  # this page is all shown: the next one, read when it is needed
            if self.next_token is None:
                self.done = True
            self.token, self.batch, self.skip, self.read = self.next_token, 0, 0, False
        return case

    def state(self) -> str | list[object]:
        return DONE if self.done else [self.token, self.batch, self.skip]


class MergedQueue:
    """The cases of `queries` (which must not share a case) as one list, in work order."""

    def __init__(self, cases: CaseClient, queries: list[str]) -> None:
        self.queues = [WorkQueue(cases, q) for q in queries]

    async def total(self) -> int:
        return sum(await asyncio.gather(*(queue.total() for queue in self.queues)))

    def _decode(self, token: str | None) -> list[_Part]:
        if not token:
            return [_Part(queue) for queue in self.queues]
        refused = CaseError("page-token: not a page token this list gave")
        try:
            states = json.loads(base64.urlsafe_b64decode(token.encode()))
        except ValueError:
            raise refused from None
        if not isinstance(states, list) or len(states) != len(self.queues):
            raise refused
        parts = []
        for queue, state in zip(self.queues, states, strict=True):
            if state == DONE:
                parts.append(_Part(queue, done=True))
            elif (isinstance(state, list) and len(state) == 3 and (state[0] is None or isinstance(state[0], str))
                  and all(isinstance(n, int) for n in state[1:]) and 0 <= state[2] < max(state[1], 1)):
                parts.append(_Part(queue, state[0], state[1], state[2]))
            else:
                raise refused
        return parts

    async def page(self, size: int, token: str | None = None) -> Page:
        parts = self._decode(token)
        shown: list[CaseListing] = []
        while len(shown) < size:
            unread = [p for p in parts if not p.done and not p.read]
            if unread:
                await asyncio.gather(*(p.read_page(size) for p in unread))
                for p in unread:
                    if not p.heads:  # nothing past what was shown (cases moved on since): the next page
                        p.done = p.next_token is None
                        p.token, p.batch, p.skip, p.read = p.next_token, 0, 0, False
                continue
            ready = [p for p in parts if not p.done]
            if not ready:
                break
            shown.append(min(ready, key=lambda p: _work_order(p.heads[0])).take())
        if all(p.done for p in parts):
            return Page(shown, None)
        return Page(shown, base64.urlsafe_b64encode(json.dumps([p.state() for p in parts]).encode()).decode())


def work_list(cases: CaseClient, queries: list[str]) -> WorkQueue | MergedQueue:
    """One query's queue, or the merge of several that share no case."""
    return WorkQueue(cases, queries[0]) if len(queries) == 1 else MergedQueue(cases, queries)
