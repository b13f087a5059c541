"""Serving a process's metrics: one endpoint (DVDS_METRICS_HOST:DVDS_METRICS_PORT/metrics)
with the SDK's worker metrics and the case engine's, and the timer that keeps the gauges
counted. Off unless DVDS_METRICS_PORT is set.

Entry points (`dvds up`, `python worker.py`, `dvds web`) build one `Telemetry` first,
connect their client with its runtime, hand its `metrics` to the worker and the web app,
and serve it for as long as they run.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from prometheus_client import start_http_server
from temporalio.client import Client
from temporalio.runtime import Runtime

from dvds.errors import ReadableError
from dvds.monitoring.metrics import DomainMetrics
from dvds.monitoring.sdk import SdkMetrics, loopback_port, telemetry_runtime
from dvds.monitoring.visibility import keep_counting
from dvds.settings import Settings


class MetricsError(ReadableError):
    """The metrics endpoint cannot start: says which setting to change."""


@dataclass
class Telemetry:
    metrics: DomainMetrics = field(default_factory=DomainMetrics)
    runtime: Runtime | None = None  # None: metrics off, the SDK's default runtime


def telemetry(settings: Settings) -> Telemetry:
    """With DVDS_METRICS_PORT set, a runtime whose SDK metrics join the endpoint's."""
    if settings.metrics_port is None:
        return Telemetry()
    port = loopback_port()
    found = Telemetry(runtime=telemetry_runtime(port))
    found.metrics.registry.register(SdkMetrics(port))
    return found


@contextlib.asynccontextmanager
async def exposing_metrics(settings: Settings, found: Telemetry, client: Client) -> AsyncIterator[str | None]:
    """Serve the endpoint and keep the gauges counted while the block runs; yields the
    endpoint's address, or None when metrics are off."""
    if settings.metrics_port is None:
        yield None
        return
    try:
        server, thread = start_http_server(settings.metrics_port, settings.metrics_host, found.metrics.registry)
    except OSError:
        where = f"{settings.metrics_host}:{settings.metrics_port}"
        raise MetricsError(f"metrics: cannot serve on {where} (DVDS_METRICS_PORT sets the port)") from None
    counting = asyncio.create_task(keep_counting(client, settings.task_queue, found.metrics, settings.metrics_interval))
    try:
        yield f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"
    finally:
        counting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await counting
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
