"""`dvds demo-data --profile wiltshire-2024`: an export the review finds the Wiltshire mix in."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from temporalio.client import Client

from dvds.audit.report import build_report, gather_snapshots
from dvds.cases.client import CaseClient, CaseError
from dvds.importer.campaign import PROFILES, REPEAT_DECIDER, review_finding, write_campaign_export
from dvds.importer.export import plan_import
from dvds.importer.rows import RowContext
from dvds.importer.run import run_import, tally_for
from dvds.settings import Settings
from states.lookback import look_back_ref
from states.machine import CaseState
from states.record import Actor, ReviewPriority
from states.roles import Role, Task
from states.submissions import FailureType
from tests.helpers.cases import submission
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.policies import CALENDAR_POLICY, RecordingNotifier, watched_worker
from tests.helpers.staff import SIGNER
from workflows import search


def findings(text: str) -> Counter[str]:
    plan = plan_import(text.encode(), RowContext(today=date.today()))
    assert not plan.rejects, plan.rejects[:3]
    found = Counter[str]()
    for row in plan.to_start:
        assert row.case.historical is not None
        finding = review_finding(row.case.historical)
        found[str(finding.failure_type) if finding else "none"] += 1
    return found


class TestWiltshireProfile:
    """The profile's rows import cleanly, and the review finds exactly its failures."""

    def test_reviewed_it_gives_the_review_s_mix(self) -> None:
        """3,778 rows: 33 failures, 14 administrative, 17 service, 2 with harm; the same seed, the same file."""
        out = io.StringIO()
        write_campaign_export(out, PROFILES["wiltshire-2024"], seed=2024)
        assert findings(out.getvalue()) == Counter(none=3778 - 33, administrative=14, service=17, harm=2)
        again = io.StringIO()
        write_campaign_export(again, PROFILES["wiltshire-2024"], seed=2024)
        assert again.getvalue() == out.getvalue()

    def test_one_decision_maker_made_every_failing_decision(self) -> None:
        """Every failing row names one decision maker (alone: no other researcher), who decided other cases too."""
        out = io.StringIO()
        write_campaign_export(out, PROFILES["wiltshire-2024"], seed=2024)
        plan = plan_import(out.getvalue().encode(), RowContext(today=date.today()))
        failing, others = set(), Counter[str]()
        for row in plan.to_start:
            facts = row.case.historical
            assert facts is not None
            staff = {s for s in (facts.decided_by, facts.researched_by) if s}
            if review_finding(facts):
                failing |= staff
            elif REPEAT_DECIDER in staff:
                others[REPEAT_DECIDER] += 1
            if facts.decision_on is not None:
                assert facts.decided_by, row.case_ref
        assert failing == {REPEAT_DECIDER}
        assert 10 <= others[REPEAT_DECIDER] <= 200

    async def test_command_writes_the_profile(self) -> None:
        """`dvds demo-data --profile wiltshire-2024` writes the 3,778 rows; an unknown profile is refused by name."""
        result = await dvds("demo-data", "--profile", "wiltshire-2024", "--seed", "7", env={})
        assert result.code == 0, result.err
        found = findings(result.out)
        assert sum(found.values()) == 3778 and found["administrative"] == 14
        refused = await dvds("demo-data", "--profile", "nowhere", "--seed", "7", env={})
        assert refused.code == 2 and "profile: one of wiltshire-2024" in refused.err


def few_rows(prefix: str) -> tuple[bytes, dict[str, str]]:
    """From the wiltshire-2024 export: two rows of each failure kind (one harm), two more of the
    repeat decision maker's and one of someone else's; by reference (a fresh prefix), the kind."""
    out = io.StringIO()
    write_campaign_export(out, PROFILES["wiltshire-2024"], seed=2024, prefix=prefix)
    plan = {r.case_ref: r for r in plan_import(out.getvalue().encode(), RowContext(today=date.today())).to_start}
    wanted = {"service": 2, "harm": 1, "administrative": 2, "repeat": 2, "other": 1}
    chosen: dict[str, str] = {}
    kept = []
    for row in csv.DictReader(io.StringIO(out.getvalue())):
        facts = plan[row["case_ref"]].case.historical
        assert facts is not None
        found = review_finding(facts)
        kind = str(found.failure_type) if found else "repeat" if facts.decided_by == REPEAT_DECIDER else "other"
        if wanted[kind] > 0 and (found or facts.decided_by):
            wanted[kind] -= 1
            chosen[row["case_ref"]] = kind
            kept.append(row)
    assert not any(wanted.values()), wanted
    written = io.StringIO()
    writer = csv.DictWriter(written, fieldnames=list(kept[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(kept)
    return written.getvalue().encode(), chosen


class TestWiltshireReviewed:
    """A few wiltshire-2024 rows, imported and reviewed on the real server, end as the review did."""

    async def test_failures_confirmed_referred_by_policy_and_look_backs_open(self, client: Client,
                                                                            tmp_path: Path) -> None:
        """Each failure kind confirmed, referred as the policy says (administrative: closed); the repeat
        decision maker's other cases each get a look-back, and Professional Standards is alerted."""
        prefix = "W" + uuid.uuid4().hex[:8].upper()
        export, kinds = few_rows(prefix)
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            cases = CaseClient(client, Settings(task_queue=worker.task_queue), CALENDAR_POLICY, SIGNER)
            plan = plan_import(export, RowContext(today=date.today()))
            assert (await run_import(cases, plan, tally_for(plan))).counts()["started"] == len(kinds) == 8
            by_repeat = f"{search.STAFF.name} = '{REPEAT_DECIDER}' AND TaskQueue = '{worker.task_queue}'"

            async def all_visible() -> bool:
                return (await client.count_workflows(by_repeat)).count == 7

            await eventually(all_visible, what="the repeat decision maker's cases in visibility")
            reviewer = Actor(id="RV500", role=Role.reviewer)
            psd = Actor(id="PS600", role=Role.professional_standards)
            failing = {ref: FailureType(kind) for ref, kind in kinds.items() if kind not in ("repeat", "other")}
            for ref, kind in sorted(failing.items()):
                found = submission(Task.review, "review_failure", failure_type=kind,
                                   harm_occurred=kind is FailureType.harm).model_dump(mode="json")
                snap = await cases.complete(ref, Task.review, reviewer, found)
                assert snap.pending_tasks == [Task.failure_confirmation]
                confirmed = submission(Task.failure_confirmation).model_dump(mode="json")
                snap = await cases.complete(ref, Task.failure_confirmation, psd, confirmed)
                refers = CALENDAR_POLICY.referral.refers(str(kind), kind is FailureType.harm)
                assert snap.state is (CaseState.referred if refers else CaseState.closed), (kind, snap.state)
            assert sorted(str(k) for k in failing.values()) == ["administrative", "administrative", "harm",
                                                                "service", "service"]

            # Every case of the repeat decision maker's is another failure's "other case": 7 look-backs.
            for ref in sorted(r for r, kind in kinds.items() if kind != "other"):
                look = await cases.snapshot(look_back_ref(ref))
                assert look.look_back is not None and look.look_back.of_case == ref
                assert look.look_back.staff_ids == [REPEAT_DECIDER]
                assert look.priority is ReviewPriority.look_back and look.pending_tasks == [Task.review]
            other = next(r for r, kind in kinds.items() if kind == "other")
            assert not await _exists(cases, look_back_ref(other))

            async def alerted() -> list[str]:
                return [n.subject for n in recorder.notices if n.to == "accountable:professional_standards"]

            assert any(REPEAT_DECIDER in s for s in await eventually(alerted, what="the alert"))
            report = build_report(await gather_snapshots(cases, f"TaskQueue = '{worker.task_queue}'"),
                                  datetime.now(UTC), "Europe/London", {})
            assert report.failures_by_type == {"administrative": 2, "harm": 1, "service": 2}
            assert [(r.category, r.cases) for r in report.referrals] == [("voluntary", 3)]
            repeat = next(m for m in report.staff if m.staff_id == REPEAT_DECIDER)
            assert (repeat.confirmed_failures, repeat.look_backs, repeat.alert) == (5, 7, True)


async def _exists(cases: CaseClient, ref: str) -> bool:
    try:
        await cases.snapshot(ref)
    except CaseError:
        return False
    return True
