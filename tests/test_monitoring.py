"""Prometheus metrics: the endpoint, read with prometheus_client's own text parser, shows the
SDK's worker metrics and the case engine's, moving as cases move, with no personal data."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from activities.iopc import IopcActivities
from activities.notifications import NotificationActivities
from dvds.connection.client import connect
from dvds.monitoring.serving import exposing_metrics, telemetry
from dvds.settings import Settings
from states.messages import ReferralReceipt, ReferralRequest
from states.roles import Task
from tests.helpers.browser import staff_file_with_passwords
from tests.helpers.cases import application, start_case, submit
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.keys import TEST_KEYS
from tests.helpers.paths import EXAMPLES
from tests.helpers.policies import SHORT_POLICY, RecordingNotifier, reviewed_with_failure, with_iopc_limit
from tests.helpers.ports import free_port
from tests.helpers.processes import dvds_up
from worker import case_workers

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Scrape:
    """One read of the endpoint, parsed as Prometheus parses it."""

    def __init__(self, address: str) -> None:
        with urllib.request.urlopen(address, timeout=10) as answer:
            self.text = answer.read().decode()
        self.families = {f.name: f for f in text_string_to_metric_families(self.text)}
        self.samples: Samples = {
            (s.name, frozenset(s.labels.items())): s.value for f in self.families.values() for s in f.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))


async def scraped(address: str, ready: dict[tuple[str, frozenset[tuple[str, str]]], float],
                  within: float = 60.0) -> Scrape:
    """The endpoint once every sample in `ready` has its value."""

    async def read() -> Scrape:
        scrape = Scrape(address)
        wrong = {key: scrape.samples.get(key) for key, want in ready.items() if scrape.samples.get(key) != want}
        assert not wrong, wrong
        return scrape

    return await eventually(read, within, f"the metrics {sorted(k[0] for k in ready)}")


def sample(name: str, value: float, **labels: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(name, frozenset(labels.items())): value}


class GatewayAway:
    """An IOPC gateway that never answers: the referral stays pending."""

    def __init__(self) -> None:
        self.calls = 0

    async def refer(self, request: ReferralRequest) -> ReferralReceipt:
        self.calls += 1
        raise ConnectionError("gateway unreachable")


def dashboard_metrics() -> set[str]:
    """Every metric the shipped Grafana dashboard queries."""
    dashboard = json.loads((EXAMPLES / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    return {re.sub(r"_(bucket|total)$", "", name) for e in exprs for name in re.findall(r"\b(?:dvds|temporal)_\w+", e)}


class TestWorkerMetrics:
    """A worker's endpoint: the SDK's metrics and the domain's, from the real server."""

    async def test_values_move_as_cases_move(self, client: Client, tmp_path: Path) -> None:
        """Cases by state, tasks by role, escalations, refusals, overdue and pending referrals all follow the cases."""
        queue = f"test-{uuid.uuid4()}"
        settings = Settings(home=tmp_path, task_queue=queue, metrics_port=free_port(), metrics_interval=0.3)
        found = telemetry(settings)
        worker_client = await connect(settings, client.service_client.config.target_host, TEST_KEYS, found.runtime)
        notifications = NotificationActivities(RecordingNotifier())
        referrals = IopcActivities(GatewayAway())
        channels = [notifications.notify_task_waiting, notifications.escalate, referrals.refer_to_iopc]
        async with (
            case_workers(worker_client, settings, task_queue=queue, channels=channels, metrics=found.metrics) as worker,
            exposing_metrics(settings, found, worker_client) as address,
        ):
            assert address is not None
            first = await start_case(client, worker, policy=SHORT_POLICY)
            second = await start_case(client, worker, policy=with_iopc_limit(2))
            await scraped(address, {
                **sample("dvds_open_cases", 2, state="received"),
                **sample("dvds_tasks_waiting", 2, role="researcher", age="under_7_days"),
            })
            await submit(first, Task.research, "R100")
            await scraped(address, {
                **sample("dvds_open_cases", 1, state="received"),
                **sample("dvds_open_cases", 1, state="researched"),
                **sample("dvds_tasks_waiting", 1, role="researcher", age="under_7_days"),
                **sample("dvds_tasks_waiting", 1, role="risk_assessor", age="under_7_days"),
            })
            refused = [(Task.research, "RA200", "researcher"), (Task.decision, "DM300", "decision_maker")]
            for task, actor, role in refused:  # a role the staff member lacks; a task not open yet
                try:
                    await submit(second, task, actor, role=role)
                except Exception:  # noqa: BLE001 - refused, as meant
                    pass
            await scraped(address, {
                **sample("dvds_tasks_refused_total", 1, task="research", rule="staff_role_not_held"),
                **sample("dvds_tasks_refused_total", 1, task="decision", rule="task_not_open"),
                **sample("dvds_referrals_pending", 0),
            })
            await reviewed_with_failure(second)
            await submit(second, Task.failure_confirmation, "PS600")
            scrape = await scraped(address, {
                **sample("dvds_referrals_pending", 1),
                **sample("dvds_referrals_past_limit", 1),
                **sample("dvds_escalations_total", 1, deadline="iopc_referral", notify="professional_standards",
                         breach="true"),
            })
            assert (scrape.value("dvds_overdue_cases") or 0) >= 1

        sdk = {name for name in scrape.families if name.startswith("temporal_")}
        assert {"temporal_workflow_task_schedule_to_start_latency", "temporal_activity_execution_latency",
                "temporal_worker_task_slots_available", "temporal_activity_execution_failed"} <= sdk
        assert any(dict(labels).get("task_queue") == queue for (name, labels) in scrape.samples
                   if name.startswith("temporal_"))
        assert dashboard_metrics() <= set(scrape.families)  # the dashboard shipped asks for nothing missing
        for personal in (first.id, second.id, application().person_at_risk.name, "RA200", "DM300"):
            assert personal not in scrape.text


class TestDvdsUpMetrics:
    """`dvds up` prints its metrics address and serves the worker's and the web app's metrics there."""

    async def test_up_serves_worker_and_web_metrics(self, tmp_path: Path) -> None:
        """The address is printed; the SDK's metrics are there; a refused sign-in and a new case show."""
        port, web_port, metrics_port = free_port(), free_port(), free_port()
        env = {
            "DVDS_HOME": str(tmp_path / "home"), "DVDS_SERVER_PORT": str(port), "DVDS_UI_PORT": str(free_port()),
            "DVDS_WEB_PORT": str(web_port), "TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
            "DVDS_METRICS_PORT": str(metrics_port), "DVDS_METRICS_INTERVAL": "0.3",
            "DVDS_STAFF_FILE": str(staff_file_with_passwords(tmp_path)),
        }
        async with dvds_up(env) as printed:
            address = f"http://127.0.0.1:{metrics_port}/metrics"
            assert f"Metrics: {address}" in "".join(printed)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{web_port}") as browser:
                page = await browser.get("/sign-in")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                assert token is not None
                for staff_id in ("R100", "NOBODY1"):  # a wrong password; an id not in the directory
                    refused = await browser.post("/sign-in", data={"csrf_token": token[1], "staff_id": staff_id,
                                                                   "password": "not-the-password", "next": "/inbox"})
                    assert refused.status_code == 401
            started = await dvds("case", "start", "--file", "examples/application.json", "--actor", "OP1", env=env)
            assert started.code == 0, started.err
            scrape = await scraped(address, {
                **sample("dvds_open_cases", 1, state="received"),
                **sample("dvds_sign_ins_refused_total", 1, rule="wrong_password"),
                **sample("dvds_sign_ins_refused_total", 1, rule="unknown_or_inactive_staff"),
            })
        assert "temporal_workflow_task_execution_latency" in scrape.families
        assert started.out.strip() not in scrape.text
