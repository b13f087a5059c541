"""The audit report from visibility counts: the same figures as `build_report` over every
case's snapshot (dvds/audit/report.py, kept as the reference), at the cost of a few dozen
count queries whatever the number of cases.

Each case publishes the report's facts as search attributes (workflows/report_facts.py).
Counts give the tallies; medians, percentiles and maxima come from ranges: counts over a
handful of bounds narrow the range that holds the value of a given rank until it is small
enough to list. The overdue cases are listed (their number is what the report shows).
Cases without the facts (ended before they existed, or running and not woken since) are
read the old way, one snapshot each, and counted in `counted_by_snapshot`.
"""

from __future__ import annotations

import asyncio
import math
from datetime import datetime
from typing import Any

from temporalio.client import WorkflowExecution
from temporalio.common import SearchAttributeKey

from dvds.audit.report import (
    AuditReport,
    DecisionTimes,
    OverdueCase,
    ReferralFigures,
    build_report,
    gather_readable,
)
from dvds.audit.staff_report import StaffFigures, staff_figures
from dvds.cases.client import CaseClient
from dvds.cases.listing import ref_of
from states.machine import CaseState
from states.models import Route
from states.record import CaseSnapshot, ReviewPriority
from states.report_facts import REFERRAL_CATEGORIES, ReferralOutcome, decision_seconds, referral_seconds
from states.risk import RiskLevel
from states.submissions import FailureType
from workflows import report_facts as rf
from workflows import search

CONCURRENT_COUNTS = 12
SPLITS = 16  # bounds counted at once when narrowing a range
LISTABLE = 60  # a range holding this many cases or fewer is listed instead of narrowed (a list costs ~1 ms a case)
# Receipt to decision and confirmation to referral, in seconds: the first bounds tried.
DAY = 86400.0
FIRST_BOUNDS = [d * DAY for d in (1, 7, 14, 21, 28, 35, 56, 90, 180, 365, 1825)]
# Below and above any value a case can carry (decided before it was received, by a bad
# record, is below 0; ten thousand years above the last bound): the ends of the outer parts.
FLOOR, CEILING = -1e12, 1e12


def _literal(value: float) -> str:
    return repr(float(value))


class Counter:
    """Count queries under one base query, a few at a time."""

    def __init__(self, cases: CaseClient, base: str, gate: asyncio.Semaphore | None = None) -> None:
        self.cases = cases
        self.base = base
        self.gate = gate or asyncio.Semaphore(CONCURRENT_COUNTS)

    def within(self, clause: str) -> Counter:
        return Counter(self.cases, f"{self.base} AND {clause}", self.gate)

    async def count(self, clause: str) -> int:
        async with self.gate:
            return (await self.cases.client.count_workflows(f"{self.base} AND {clause}")).count

    async def counts(self, clauses: dict[str, str]) -> dict[str, int]:
        values = await asyncio.gather(*(self.count(c) for c in clauses.values()))
        return dict(zip(clauses, values, strict=True))

    async def listed(self, clause: str, limit: int | None = None) -> list[WorkflowExecution]:
        async with self.gate:
            query = f"{self.base} AND {clause}"
            return [e async for e in self.cases.client.list_workflows(query, limit=limit, page_size=limit or 1000)]


class Ranked:
    """Values of one numeric attribute by rank (1 = the smallest), over the counter's cases
    and `extra` values of cases read the old way.

    Ranges are counted as parts, (low, high] each with both ends in the query, never as
    "at most": a count costs the server the rows it matches, and a two-ended range is the one
    SQLite's planner reads from the attribute's own index. The parts of one round add up to
    the cases below the last bound; the first round's, with the part past it, to them all."""

    def __init__(self, counter: Counter, key: SearchAttributeKey[float], extra: list[float]) -> None:
        self.counter = counter
        self.key = key
        self.extra = sorted(extra)
        self._parts: dict[tuple[float, float], asyncio.Future[int]] = {}

    async def part(self, low: float, high: float) -> int:
        """How many are in (low, high]; asked once per part, however many ranks are looked for."""
        if (low, high) not in self._parts:
            self._parts[(low, high)] = asyncio.ensure_future(self.counter.count(self._range(low, high)))
        return await self._parts[(low, high)] + sum(1 for v in self.extra if low < v <= high)

    def _range(self, low: float, high: float) -> str:
        return f"{self.key.name} > {_literal(low)} AND {self.key.name} <= {_literal(high)}"

    async def parts(self, low: float, bounds: list[float]) -> list[int]:
        return list(await asyncio.gather(*(self.part(a, b) for a, b in zip([low, *bounds], bounds, strict=False))))

    async def total(self) -> int:
        """How many have a value: the first round's parts and the part past them."""
        return sum(await self.parts(FLOOR, [*FIRST_BOUNDS, CEILING]))

    async def between(self, low: float, high: float) -> list[float]:
        """The values in (low, high]."""
        listed = [e.typed_search_attributes.get(self.key) for e in await self.counter.listed(self._range(low, high))]
        local = [v for v in self.extra if low < v <= high]
        return sorted([float(v) for v in listed if v is not None] + local)

    async def value(self, rank: int) -> float:
        low, below = FLOOR, 0  # the value ranked `rank` lies above low; `below` are <= low
        bounds = [*FIRST_BOUNDS, CEILING]
        while True:
            window = (low, bounds[-1], below)
            counted = await self.parts(low, bounds)
            high, inside = bounds[-1], below + sum(counted)
            for bound, part in zip(bounds, counted, strict=True):
                if below + part >= rank:
                    high, inside = bound, below + part
                    break
                low, below = bound, below + part
            if inside < rank:  # cases moved while they were counted: the window, listed, says
                return _at(await self.between(window[0], window[1]), rank - window[2] - 1, window[1])
            narrow = high - low < 1.0
            if inside - below <= LISTABLE or narrow or (low == FLOOR and high <= 0):
                if narrow and (same := await self._all_equal(low, high, inside - below)):
                    return same
                return _at(await self.between(low, high), rank - below - 1, high)
            bounds = await self._splits(max(low, 0.0) if low == FLOOR else low, high, low)

    async def _splits(self, start: float, high: float, low: float) -> list[float]:
        """Bounds that part (low, high]: between whole days when it spans a few (imported
        decisions fall on whole days: one day's cases are then one part), else equal parts; and
        half a second either side of one value in it, which isolates values many cases share."""
        if high == CEILING:  # past the first bounds: out by doubling
            return [start * 2**i for i in range(1, SPLITS)] + [CEILING]
        days = (high - start) / DAY
        if 1 < days <= SPLITS:
            first = math.floor(start / DAY) * DAY + DAY / 2
            bounds = [b for b in (first + i * DAY for i in range(SPLITS + 1)) if start < b < high]
        else:  # within a day, most are likely one value: a few parts, and the sample's
            parts = 4 if days <= 1 else SPLITS
            step = (high - start) / parts
            bounds = [start + step * i for i in range(1, parts)]
        sample = await self.between_one(low, high)
        if sample is not None:
            bounds += [b for b in (sample - 0.5, sample + 0.5) if low < b < high]
        # From the floor, the first part ends at 0 (no value is below it but a bad record's).
        return sorted({*([start] if low == FLOOR and start > low else []), *bounds, high})

    async def between_one(self, low: float, high: float) -> float | None:
        listed = await self.counter.listed(self._range(low, high), limit=1)
        local = [v for v in self.extra if low < v <= high]
        found = [e.typed_search_attributes.get(self.key) for e in listed]
        values = [float(v) for v in found if v is not None] + local
        return values[0] if values else None

    async def _all_equal(self, low: float, high: float, inside: int) -> float | None:
        """The one value all `inside` values in (low, high] share, if they do."""
        sample = await self.between_one(low, high)
        if sample is None:
            return None
        same = await self.counter.count(f"{self.key.name} = {_literal(sample)}") + self.extra.count(sample)
        return sample if same == inside else None


def _at(values: list[float], index: int, otherwise: float) -> float:
    """values[index], or the nearest there is: a case that moved between a count and the list
    after it shifts a rank by one, and must not fail the report."""
    return values[min(max(index, 0), len(values) - 1)] if values else otherwise


async def _values(ranked: Ranked, ranks: list[int]) -> dict[int, float]:
    wanted = sorted(set(ranks))
    return dict(zip(wanted, await asyncio.gather(*(ranked.value(r) for r in wanted)), strict=True))


def _median(values: dict[int, float], n: int) -> float:
    """statistics.median from the ranked values."""
    if n % 2:
        return values[(n + 1) // 2]
    return (values[n // 2] + values[n // 2 + 1]) / 2


def _nearest_rank(share: float, n: int) -> int:
    return max(math.ceil(share * n), 1)


def _median_ranks(n: int) -> list[int]:
    return [(n + 1) // 2] if n % 2 else [n // 2, n // 2 + 1]


def _merged(counts: dict[str, int], old: dict[str, int]) -> dict[str, int]:
    keys = set(counts) | set(old)
    return dict(sorted((k, counts.get(k, 0) + old.get(k, 0)) for k in keys if counts.get(k, 0) + old.get(k, 0)))


async def _tallies(counter: Counter) -> dict[str, dict[str, int]]:
    def by(key: SearchAttributeKey[Any], values: list[str], none: bool = False) -> dict[str, str]:
        clauses = {v: f"{key.name} = '{v}'" for v in values}
        if none:
            clauses["none"] = f"{key.name} IS NULL"
        return clauses

    parts = {
        "state": by(search.STATE, [str(s) for s in CaseState]),
        "route": by(search.ROUTE, [str(r) for r in Route], none=True),
        "risk": by(search.RISK_LEVEL, [str(r) for r in RiskLevel], none=True),
        "failure": by(search.FAILURE_TYPE, [str(f) for f in FailureType]),
    }
    for category in REFERRAL_CATEGORIES:
        within = f"{search.REFERRAL.name} = '{category}'"
        parts[f"referral:{category}"] = {"cases": within} | {
            str(o): f"{within} AND {rf.REFERRAL_OUTCOME.name} = '{o}'" for o in ReferralOutcome}
    # Whole sections are often empty (no failure found, nothing referred): one count says so.
    present = await counter.counts({"failure": f"{search.FAILURE_TYPE.name} IS NOT NULL",
                                    "referral": f"{search.REFERRAL.name} IS NOT NULL"})

    async def counted(name: str, clauses: dict[str, str]) -> dict[str, int]:
        section = name.split(":")[0]
        if section in present and not present[section]:
            return dict.fromkeys(clauses, 0)
        return await counter.counts(clauses)

    results = await asyncio.gather(*(counted(name, clauses) for name, clauses in parts.items()))
    return dict(zip(parts, results, strict=True))


async def _overdue(counter: Counter) -> list[OverdueCase]:
    listed = await counter.listed(f"{search.OVERDUE.name} = true")
    found = []
    for execution in listed:
        attrs = execution.typed_search_attributes
        names = (attrs.get(rf.OVERDUE_DEADLINES) or "").split()
        found.append(OverdueCase(ref=ref_of(execution.id), state=attrs.get(search.STATE) or "unknown", deadlines=names))
    return found


async def _decision_times(counter: Counter, tallies: dict[str, int], old: list[CaseSnapshot],
                          old_report: AuditReport) -> DecisionTimes:
    """Receipt to decision; `not_decided` is left for the caller, who has the total."""
    extra = [s for s in (decision_seconds(snap) for snap in old) if s is not None]
    ranked = Ranked(counter, rf.DECISION_SECONDS, extra)
    decided = await ranked.total()  # the old cases' values are among them
    over_35 = tallies["over_35"] + old_report.decision_times.over_35_days
    over_28 = tallies["over_28"] + tallies["over_35"] + old_report.decision_times.over_28_days
    median = p90 = None
    if decided:
        p90_rank = _nearest_rank(0.9, decided)
        values = await _values(ranked, [*_median_ranks(decided), p90_rank])
        median, p90 = _median(values, decided), values[p90_rank]
    return DecisionTimes(
        decided=decided,
        not_decided=0,
        median_days=None if median is None else round(median / 86400, 1),
        p90_days=None if p90 is None else round(p90 / 86400, 1),
        over_28_days=over_28,
        over_35_days=over_35,
        share_over_28=round(over_28 / decided, 3) if decided else None,
        share_over_35=round(over_35 / decided, 3) if decided else None,
    )


async def _referral(counter: Counter, category: str, tallies: dict[str, int], old: list[CaseSnapshot],
                    old_report: AuditReport) -> ReferralFigures | None:
    before = next((r for r in old_report.referrals if r.category == category), None)
    extra = [s for s in (referral_seconds(snap) for snap in old
                         if snap.referral and snap.referral.category == category) if s is not None]
    cases = tallies["cases"] + (before.cases if before else 0)
    if not cases:
        return None
    within = tallies[ReferralOutcome.within_limit] + (before.within_limit if before else 0)
    late = tallies[ReferralOutcome.late] + (before.late if before else 0)
    referred = within + late
    median = top = None
    if referred:
        of_category = Ranked(counter.within(f"{search.REFERRAL.name} = '{category}'"), rf.REFERRAL_SECONDS, extra)
        values = await _values(of_category, [*_median_ranks(referred), referred])
        hours = {rank: value / 3600 for rank, value in values.items()}
        median, top = _median(hours, referred), hours[referred]
    return ReferralFigures(
        category=category, cases=cases, referred=referred, within_limit=within, late=late,
        pending_overdue=tallies[ReferralOutcome.pending_overdue] + (before.pending_overdue if before else 0),
        median_hours=None if median is None else round(median, 2),
        max_hours=None if top is None else round(top, 2),
    )


async def visibility_report(cases: CaseClient, query: str, now: datetime, timezone: str,
                            filters: dict[str, Any]) -> AuditReport:
    """The report on the cases `query` matches (the filters of dvds/cases/queries.py)."""
    old_query = f"{rf.REPORT_FACTS.name} IS NULL" + (f" AND ({query})" if query else "")
    old, unreadable = await gather_readable(cases, old_query)
    # Once every case carries the facts (the usual state: a case takes them the first time
    # it acts), the counts need not say so: a clause on DvdsReportFacts, a range over every
    # case, would lead SQLite's planner to read all of them for each count instead of the
    # counted attribute's own index.
    facts = f" AND {rf.REPORT_FACTS.name} >= {rf.VERSION}" if old or unreadable else ""
    counter = Counter(cases, cases.case_query(query) + facts)
    old_report = build_report(old, now, timezone, filters)
    over = {"over_28": f"{rf.DECIDED_OVER_DAYS.name} = 28", "over_35": f"{rf.DECIDED_OVER_DAYS.name} = 35"}
    tallies_counted = asyncio.ensure_future(_tallies(counter))

    async def referrals() -> list[ReferralFigures | None]:
        tallies = await tallies_counted
        return list(await asyncio.gather(*(
            _referral(counter, category, tallies[f"referral:{category}"], old, old_report)
            for category in REFERRAL_CATEGORIES)))

    async def decision_times() -> DecisionTimes:
        return await _decision_times(counter, await counter.counts(over), old, old_report)

    # The decision times' ranges, the tallies and the overdue list at once.
    times, tallies, overdue, referred, (staff, staff_unreadable) = await asyncio.gather(
        decision_times(), tallies_counted, _overdue(counter), referrals(), _staff(cases, query, old))
    # Every case has a state: the state tallies are the total, without a count of them all.
    total = sum(tallies["state"].values()) + len(old)
    failures = {k: v for k, v in tallies["failure"].items() if v}
    return AuditReport(
        generated_at=now,
        filters=filters,
        cases=total,
        by_state=_merged(tallies["state"], old_report.by_state),
        by_route=_merged(tallies["route"], old_report.by_route),
        by_risk_level=_merged(tallies["risk"], old_report.by_risk_level),
        overdue=sorted(overdue + old_report.overdue, key=lambda c: c.ref),
        decision_times=times.model_copy(update={"not_decided": total - times.decided}),
        failures_by_type=_merged(failures, old_report.failures_by_type),
        referrals=[r for r in referred if r is not None],
        counted_by_snapshot=len(old),
        staff=staff,
        unreadable=sorted(unreadable + staff_unreadable),
    )


async def _staff(cases: CaseClient, query: str, old: list[CaseSnapshot]) -> tuple[list[StaffFigures], list[str]]:
    """The per-staff table, from the only cases that carry its figures: those with a failure
    found and the look-backs (a few in a hundred), read one by one; the old path's are in `old`.
    With it, the cases among them that could not be read (left out of the table)."""
    carrying = (f"{rf.REPORT_FACTS.name} >= {rf.VERSION} AND ({search.FAILURE_TYPE.name} IS NOT NULL"
                f" OR {search.PRIORITY.name} = '{ReviewPriority.look_back}')")
    read, unreadable = await gather_readable(cases, carrying + (f" AND ({query})" if query else ""))
    return staff_figures(old + read), unreadable
