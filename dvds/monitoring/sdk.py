"""The Temporal SDK's own metrics (workflow and activity task latencies, slots, pollers,
sticky cache, failures, requests), from its runtime telemetry.

The SDK's Prometheus exporter runs in its Rust core and serves its own registry, so it
listens on a loopback port of its own that only this process uses; the engine's single
endpoint (DVDS_METRICS_PORT) reads it at each scrape and serves its metrics beside the
domain's, under their documented `temporal_` names. A client is connected with the
runtime (dvds/connection/client.py: connect(..., runtime=)) for its worker to report through it.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

SCRAPE_TIMEOUT = 5.0  # seconds: a slow read must not hold the endpoint longer than a scrape allows


def loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def telemetry_runtime(port: int) -> Runtime:
    """A runtime whose metrics the SDK serves on 127.0.0.1:`port`, in Prometheus's
    conventions (seconds, `_total` counters)."""
    exporter = PrometheusConfig(bind_address=f"127.0.0.1:{port}", counters_total_suffix=True, durations_as_seconds=True)
    return Runtime(telemetry=TelemetryConfig(metrics=exporter))


class SdkMetrics:
    """A prometheus_client collector: the SDK exporter's metrics, read at each scrape."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/metrics"

    def collect(self) -> Iterator[Metric]:
        try:
            with urllib.request.urlopen(self.url, timeout=SCRAPE_TIMEOUT) as answer:  # noqa: S310 - loopback URL
                text = answer.read().decode()
        except OSError:
            return  # not up yet, or gone: the domain's metrics are still served
        yield from text_string_to_metric_families(text)
