"""The gauges, from visibility count queries on a timer: how many open cases are in each
state, wait on each role (by how long since they were received), are overdue, and have an
IOPC referral not yet filed (and past its limit). One count query a gauge value, never a
read of each case, so the cost does not grow with the cases' histories.

Scoped to the deployment's task queue: other deployments (or test runs) may share the namespace.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Gauge
from temporalio.client import Client
from temporalio.service import RPCError

from dvds.monitoring.metrics import AGE_BANDS, DomainMetrics
from states.machine import CaseState
from states.roles import TASK_ROLE
from workflows import search

logger = structlog.get_logger()
ROLES = sorted({str(role) for role in TASK_ROLE.values()})
BAND_EDGES = (7, 14, 21, 28)  # days since receipt: the 2023 guidance's 28 days, in weeks
CONCURRENT_COUNTS = 8


def _at(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _received_between(now: datetime, band: int) -> str:
    """Clauses for age band `band` (AGE_BANDS[band]): received within its days."""
    clauses = []
    if band < len(BAND_EDGES):
        clauses.append(f"{search.RECEIVED.name} > '{_at(now - timedelta(days=BAND_EDGES[band]))}'")
    if band > 0:
        clauses.append(f"{search.RECEIVED.name} <= '{_at(now - timedelta(days=BAND_EDGES[band - 1]))}'")
    return " AND ".join(clauses)


@dataclass(frozen=True)
class GaugeCount:
    """One gauge value and the visibility query whose count it is."""

    gauge: str  # the DomainMetrics attribute
    labels: tuple[tuple[str, str], ...]
    query: str

    def apply(self, metrics: DomainMetrics, value: int) -> None:
        gauge: Gauge = getattr(metrics, self.gauge)
        (gauge.labels(**dict(self.labels)) if self.labels else gauge).set(value)


def gauge_counts(task_queue: str, now: datetime) -> list[GaugeCount]:
    """Every gauge value, with its query."""
    queue = task_queue.replace("'", "")
    # Open as "CloseTime IS NULL": an equality on the status would lead SQLite's planner to read
    # every running case for each count, instead of the counted attribute's own index.
    base = f"WorkflowType = 'CaseWorkflow' AND CloseTime IS NULL AND TaskQueue = '{queue}'"
    counts = [GaugeCount("open_cases", (("state", str(state)),), f"{base} AND {search.STATE.name} = '{state}'")
              for state in CaseState]
    for role in ROLES:
        for band, age in enumerate(AGE_BANDS):
            query = f"{base} AND {search.PENDING_ROLES.name} = '{role}' AND {_received_between(now, band)}"
            counts.append(GaugeCount("tasks_waiting", (("role", role), ("age", age)), query))
    counts += [
        GaugeCount("overdue_cases", (), f"{base} AND {search.OVERDUE.name} = true"),
        GaugeCount("referrals_pending", (), f"{base} AND {search.REFERRAL_DUE.name} IS NOT NULL"),
        GaugeCount("referrals_past_limit", (), f"{base} AND {search.REFERRAL_DUE.name} < '{_at(now)}'"),
    ]
    return counts


async def count_once(client: Client, task_queue: str, metrics: DomainMetrics) -> None:
    """Take every count, then set the gauges together (a scrape never sees half a count)."""
    counts = gauge_counts(task_queue, datetime.now(UTC))
    limit = asyncio.Semaphore(CONCURRENT_COUNTS)

    async def count(query: str) -> int:
        async with limit:
            return (await client.count_workflows(query)).count

    values = await asyncio.gather(*(count(c.query) for c in counts))
    for gauge_count, value in zip(counts, values, strict=True):
        gauge_count.apply(metrics, value)
    metrics.last_count.set(time.time())


async def keep_counting(client: Client, task_queue: str, metrics: DomainMetrics, every: float) -> None:
    """Count now and then every `every` seconds until cancelled. A failed count (the server
    away) is counted and logged; the gauges keep their last values until the next."""
    while True:
        try:
            await count_once(client, task_queue, metrics)
        except RPCError as err:
            metrics.count_failures.inc()
            logger.warning("metrics count failed", status=err.status.name)
        await asyncio.sleep(every)
