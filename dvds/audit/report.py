"""The audit report across cases: where cases stand, how long decisions took, failures,
and whether referrals met the next-day limit.

`build_report` is pure: it takes each case's snapshot (`CaseClient.snapshot`: the workflow's
result once closed, its `snapshot` query while open, so open cases need a worker running).
It is the reference: the report people read is counted in visibility
(dvds/audit/visibility_report.py), with this path for the cases that carry no report facts.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dvds.audit.staff_report import StaffFigures, staff_figures
from dvds.cases.client import CaseClient, CaseError
from states.organisational_referral import OrganisationalReferral
from states.record import CaseSnapshot
from states.report_facts import OVER_28, OVER_35, decided_at


class OverdueCase(BaseModel):
    ref: str
    state: str
    deadlines: list[str] = Field(description="Open deadlines past due")


class DecisionTimes(BaseModel):
    """Receipt to decision, over cases that have a decision."""

    decided: int
    not_decided: int
    median_days: float | None
    p90_days: float | None = Field(description="90th percentile, nearest-rank")
    over_28_days: int
    over_35_days: int
    share_over_28: float | None
    share_over_35: float | None


class ReferralFigures(BaseModel):
    category: str
    cases: int
    referred: int
    within_limit: int = Field(description="Referred by the end of the day after confirmation")
    late: int = Field(description="Referred after the limit")
    pending_overdue: int = Field(description="Not referred yet and past the limit")
    median_hours: float | None = Field(description="Confirmation to referral")
    max_hours: float | None


class AuditReport(BaseModel):
    generated_at: datetime
    filters: dict[str, Any]
    cases: int
    by_state: dict[str, int]
    by_route: dict[str, int]
    by_risk_level: dict[str, int]
    overdue: list[OverdueCase]
    decision_times: DecisionTimes
    failures_by_type: dict[str, int]
    referrals: list[ReferralFigures]
    counted_by_snapshot: int = Field(
        default=0, description="Cases read one by one: no report facts (ended before them, or not woken since)"
    )
    staff: list[StaffFigures] = Field(default_factory=list, description="Failures and look-backs per staff id")
    unreadable: list[str] = Field(
        default_factory=list,
        description="Cases the report had to read one by one and could not (no worker answered): without report "
        "facts, not counted at all; with them, counted but left out of the per-staff table",
    )
    organisational_referrals: list[OrganisationalReferral] = Field(default_factory=list)


def _days(seconds: float) -> float:
    return round(seconds / 86400, 1)


def _nearest_rank(values: list[float], share: float) -> float | None:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else None


def _decision_times(snapshots: list[CaseSnapshot], timezone: str) -> DecisionTimes:
    elapsed, over_28, over_35 = [], 0, 0
    for snap in snapshots:
        at = decided_at(snap)
        if at is None:
            continue
        elapsed.append((at - snap.received_at).total_seconds())
        over_28 += at > OVER_28.due_from(snap.received_at, timezone)
        over_35 += at > OVER_35.due_from(snap.received_at, timezone)
    count = len(elapsed)
    p90 = _nearest_rank(elapsed, 0.9)
    return DecisionTimes(
        decided=count,
        not_decided=len(snapshots) - count,
        median_days=_days(statistics.median(elapsed)) if elapsed else None,
        p90_days=_days(p90) if p90 is not None else None,
        over_28_days=over_28,
        over_35_days=over_35,
        share_over_28=round(over_28 / count, 3) if count else None,
        share_over_35=round(over_35 / count, 3) if count else None,
    )


def _referrals(snapshots: list[CaseSnapshot], now: datetime) -> list[ReferralFigures]:
    by_category: dict[str, list[CaseSnapshot]] = {}
    for snap in snapshots:
        if snap.referral is not None:
            by_category.setdefault(snap.referral.category, []).append(snap)
    figures = []
    for category, cases in sorted(by_category.items()):
        referrals = [s.referral for s in cases if s.referral is not None]
        done = [r for r in referrals if r.referred_at is not None]
        hours = [(r.referred_at - r.duty_arose_at).total_seconds() / 3600 for r in done if r.referred_at]
        figures.append(ReferralFigures(
            category=category,
            cases=len(referrals),
            referred=len(done),
            within_limit=sum(1 for r in done if r.referred_at and r.referred_at <= r.due),
            late=sum(1 for r in done if r.referred_at and r.referred_at > r.due),
            pending_overdue=sum(1 for r in referrals if r.referred_at is None and now > r.due),
            median_hours=round(statistics.median(hours), 2) if hours else None,
            max_hours=round(max(hours), 2) if hours else None,
        ))
    return figures


def _counts(values: Iterable[str | None]) -> dict[str, int]:
    return dict(sorted(Counter(v or "none" for v in values).items()))


def build_report(snapshots: list[CaseSnapshot], now: datetime, timezone: str, filters: dict[str, Any]) -> AuditReport:
    return AuditReport(
        generated_at=now,
        filters=filters,
        cases=len(snapshots),
        by_state=_counts(str(s.state) for s in snapshots),
        by_route=_counts(s.route for s in snapshots),
        by_risk_level=_counts(s.risk_level and str(s.risk_level) for s in snapshots),
        overdue=[
            OverdueCase(ref=s.ref, state=str(s.state),
                        deadlines=[d.name for d in s.deadlines if d.open and d.due <= now])
            for s in sorted(snapshots, key=lambda s: s.ref) if s.overdue
        ],
        decision_times=_decision_times(snapshots, timezone),
        failures_by_type=_counts(str(s.failure_type) for s in snapshots if s.failure_type),
        referrals=_referrals(snapshots, now),
        staff=staff_figures(snapshots),
    )


async def _read_each(cases: CaseClient, query: str, concurrency: int, set_aside: bool) -> list[CaseSnapshot | str]:
    """Each matching case's snapshot, a few read at a time; with `set_aside`, the reference of
    a case that cannot be read in its place, else its CaseError raised."""
    listings = await cases.list_cases(query)
    gate = asyncio.Semaphore(concurrency)

    async def one(ref: str) -> CaseSnapshot | str:
        async with gate:
            try:
                return await cases.snapshot(ref)
            except CaseError:
                if not set_aside:
                    raise
                return ref

    return list(await asyncio.gather(*(one(c.ref) for c in listings)))


async def gather_snapshots(cases: CaseClient, query: str, concurrency: int = 16) -> list[CaseSnapshot]:
    """Every matching case's snapshot: visibility finds them, a few are read at a time."""
    return [r for r in await _read_each(cases, query, concurrency, set_aside=False) if not isinstance(r, str)]


async def gather_readable(cases: CaseClient, query: str, concurrency: int = 16) -> tuple[list[CaseSnapshot], list[str]]:
    """As gather_snapshots, but a case that cannot be read (its worker gone, the query
    refused) is set aside by reference instead of failing every other figure."""
    read = await _read_each(cases, query, concurrency, set_aside=True)
    return [r for r in read if not isinstance(r, str)], sorted(r for r in read if isinstance(r, str))


def report_rows(report: AuditReport) -> list[tuple[str, str, str]]:
    """The report flattened to (section, item, value): the CSV, and the tables for people."""
    rows: list[tuple[str, str, str]] = [("cases", "total", str(report.cases)),
                                        ("cases", "counted_by_snapshot", str(report.counted_by_snapshot))]
    rows += [("unreadable", ref, "could not be read: left out of the figures read case by case")
             for ref in report.unreadable]
    for section, counts in (("state", report.by_state), ("route", report.by_route),
                            ("risk_level", report.by_risk_level), ("failure_type", report.failures_by_type)):
        rows += [(section, key, str(value)) for key, value in counts.items()]
    rows += [("overdue", case.ref, f"{case.state}: {', '.join(case.deadlines) or 'deadline'}")
             for case in report.overdue]
    rows += [("decision_time", key, "" if value is None else str(value))
             for key, value in report.decision_times.model_dump().items()]
    for referral in report.referrals:
        rows += [(f"referral:{referral.category}", key, "" if value is None else str(value))
                 for key, value in referral.model_dump(exclude={"category"}).items()]
    for member in report.staff:
        rows += [(f"staff:{member.staff_id}", key, str(value))
                 for key, value in member.model_dump(exclude={"staff_id"}).items()]
    for organisational in report.organisational_referrals:
        rows.append((f"referral:{organisational.category}", organisational.ref,
                     f"{organisational.iopc_reference}: {' '.join(organisational.cases)}"))
    return rows
