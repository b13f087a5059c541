"""`dvds audit report` and `dvds case list` filters, on a known set of cases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from temporalio.client import Client

from dvds.audit.report import AuditReport, build_report, gather_snapshots
from dvds.cases.client import CaseClient
from dvds.settings import Settings
from tests.helpers.cases import running_worker
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.known_cases import known_cases
from tests.helpers.staff import SIGNER


@dataclass
class KnownCases:
    refs: dict[str, str]  # label -> ref
    env: dict[str, str]
    now: datetime


@pytest.fixture(scope="module")
async def known(env, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KnownCases]:  # type: ignore[no-untyped-def]
    client = env.client
    home = tmp_path_factory.mktemp("report")
    async with running_worker(client, home) as worker:
        now = datetime.now(UTC)
        refs = await known_cases(client, worker, now)
        cases = CaseClient(client, Settings(home=home), signer=SIGNER)
        query = " OR ".join(f"WorkflowId = '{ref}'" for ref in refs.values())

        async def all_listed() -> bool:
            return len(await cases.list_cases(query)) >= len(refs)

        await eventually(all_listed, 30, "visibility listing the cases")
        env_vars = {"TEMPORAL_ADDRESS": client.service_client.config.target_host, "DVDS_HOME": str(home),
                    "DVDS_TASK_QUEUE": worker.task_queue, "COLUMNS": "200"}
        yield KnownCases(refs, env_vars, now)


async def report_on(client: Client, known: KnownCases, labels: str) -> AuditReport:
    cases = CaseClient(client, Settings(), signer=SIGNER)
    query = " OR ".join(f"WorkflowId = '{known.refs[label]}'" for label in labels)
    snapshots = await gather_snapshots(cases, query)
    return build_report(snapshots, datetime.now(UTC), "Europe/London", {})


class TestReport:
    """The report's figures on a known set of cases."""

    async def test_figures_onknown_cases(self, client: Client, known: KnownCases) -> None:
        """States, risk, overdue, receipt-to-decision, failures and referrals come out as the cases were driven."""
        report = await report_on(client, known, "ABCDE")
        assert report.cases == 5
        assert report.by_state == {"declined": 1, "received": 2, "referred": 1, "risk_assessed": 1}
        assert report.by_route == {"right_to_ask": 5}
        assert report.by_risk_level == {"medium": 3, "none": 2}
        # D's research target (24 hours from receipt) has passed; E's outcome (28 days) too.
        overdue = {c.ref: c.deadlines for c in report.overdue}
        assert overdue == {known.refs["D"]: ["research"], known.refs["E"]: ["outcome", "research"]}
        times = report.decision_times
        assert (times.decided, times.not_decided) == (3, 2)
        assert (times.median_days, times.p90_days) == (30.0, 40.0)
        assert (times.over_28_days, times.over_35_days) == (2, 1)
        assert (times.share_over_28, times.share_over_35) == (0.667, 0.333)
        assert report.failures_by_type == {"service": 1}
        [referral] = report.referrals
        assert (referral.category, referral.cases, referral.referred) == ("voluntary", 1, 1)
        assert (referral.within_limit, referral.late, referral.pending_overdue) == (1, 0, 0)
        assert referral.median_hours is not None and referral.median_hours < 24

    async def test_historical_decision_counts_from_imported_dates(self, client: Client, known: KnownCases) -> None:
        """A historical case's decision time runs from its recorded receipt to its recorded decision."""
        report = await report_on(client, known, "H")
        assert report.decision_times.decided == 1 and report.decision_times.over_35_days == 1

    async def test_cli_json_csv_and_filters(self, known: KnownCases) -> None:
        """--json and --csv export the report; received dates and --historical/--new filter it."""
        since = (known.now - timedelta(days=41)).date().isoformat()
        until = (known.now - timedelta(days=9)).date().isoformat()
        window = ("--received-from", since, "--received-to", until)
        exported = await dvds("audit", "report", "--json", *window, "--new", env=known.env)
        assert exported.code == 0, exported.err
        report = AuditReport.model_validate(json.loads(exported.out))
        assert report.filters == {"received_from": since, "received_to": until, "historical": False}
        overdue = {c.ref for c in report.overdue}
        assert known.refs["E"] in overdue and known.refs["D"] not in overdue
        assert report.cases >= 4 and report.decision_times.decided >= 3
        table = await dvds("audit", "report", *window, env=known.env)
        assert table.code == 0 and "Receipt to decision" in table.out and known.refs["E"] in table.out
        exported_csv = await dvds("audit", "report", "--csv", *window, env=known.env)
        assert exported_csv.code == 0, exported_csv.err
        rows = list(csv.reader(io.StringIO(exported_csv.out)))
        assert rows[0] == ["section", "item", "value"]
        assert ["overdue", known.refs["E"], "received: outcome, research"] in rows
        old = (known.now - timedelta(days=50)).date().isoformat()
        historical = await dvds("audit", "report", "--json", "--historical", "--received-to", old, env=known.env)
        assert historical.code == 0, historical.err
        assert json.loads(historical.out)["by_state"].get("declined", 0) >= 1


class TestCaseList:
    """`dvds case list` finds cases through visibility filters."""

    async def _listed(self, known: KnownCases, *filters: str) -> set[str]:
        result = await dvds("case", "list", "--json", "--all", *filters, env=known.env)
        assert result.code == 0, result.err
        return {c["ref"] for c in json.loads(result.out)} & set(known.refs.values())

    async def test_each_filter(self, known: KnownCases) -> None:
        """State, overdue, historical, risk level, pending task and received date each narrow the list."""
        r = known.refs
        assert await self._listed(known, "--state", "declined") == {r["C"], r["H"]}
        assert await self._listed(known, "--overdue") == {r["D"], r["E"]}
        assert await self._listed(known, "--historical") == {r["H"]}
        assert await self._listed(known, "--risk", "medium") == {r["A"], r["B"], r["C"]}
        assert await self._listed(known, "--pending-task", "research") == {r["D"], r["E"]}
        since = (known.now - timedelta(days=3)).date().isoformat()
        assert await self._listed(known, "--received-from", since) == {r["D"]}
        until = (known.now - timedelta(days=50)).date().isoformat()
        assert await self._listed(known, "--received-to", until) == {r["H"]}
        assert await self._listed(known, "--new", "--state", "received", "--received-to",
                                  date.today().isoformat()) == {r["D"], r["E"]}
