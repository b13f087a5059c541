"""The safeguards on the real server: a countersignature on a decline despite relevant
history, re-triage that shortens deadlines, the safeguarding contact on a late outcome, and
the referral policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from dvds.audit.history import case_timeline
from dvds.audit.timeline import Kind
from dvds.cases.referrals import ReferralError, organisational_referrals, refer_organisational
from states.machine import CaseState
from states.policy import ReferralPolicy
from states.record import CaseSnapshot
from states.roles import Task
from tests.helpers.cases import referred, settled, start_case, submit
from tests.helpers.cli import dvds
from tests.helpers.eventually import eventually
from tests.helpers.policies import LATE_OUTCOME_POLICY, SHORT_POLICY, RecordingNotifier, watched_worker
from tests.test_cli import cli_env


async def refused(handle: object, task: Task, actor: str, example: str | None = None, **changes: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as error:
        await submit(handle, task, actor, example, **changes)  # type: ignore[arg-type]
    return str(error.value.cause)


class TestCountersignature:
    """A decline despite relevant history waits for a second decision maker."""

    async def test_waits_and_refuses_the_same_person(self, client: Client, tmp_path: Path) -> None:
        """The decline waits; decider and researcher are refused; refused, it goes back; countersigned, declined."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=SHORT_POLICY)
            await submit(handle, Task.research, "DUAL6")
            await submit(handle, Task.risk_assessment, "RA200")
            snap = await submit(handle, Task.decision, "DM300", "decision_decline")
            assert snap.state is CaseState.awaiting_countersignature
            assert snap.pending_tasks == [Task.countersignature]
            before = await settled(handle)
            for who in ("DM300", "DUAL6"):
                assert "countersigner_is_a_second_decision_maker" in await refused(handle, Task.countersignature, who)
            assert len(await settled(handle)) == len(before)

            snap = await submit(handle, Task.countersignature, "DM310", "countersignature_refused")
            assert snap.state is CaseState.risk_assessed and snap.pending_tasks == [Task.decision]
            snap = await submit(handle, Task.decision, "DUAL6", "decision_decline")
            assert snap.state is CaseState.awaiting_countersignature  # DUAL6 researched: they cannot decide alone
            assert "countersigner_is_a_second_decision_maker" in await refused(handle, Task.countersignature, "DUAL6")
            snap = await submit(handle, Task.countersignature, "DM310")
            assert snap.state is CaseState.declined and snap.pending_tasks == [Task.review]
            await submit(handle, Task.review, "RV500")
            result = await handle.result()
            assert [t.trigger for t in result.transitions] == [
                "complete_research", "assess_risk", "decline_for_countersignature", "refuse_countersignature",
                "decline_for_countersignature", "countersign", "review", "close",
            ]

            async def countersignature_notified() -> bool:
                return sum(n.to == "team:decision_maker" and "countersignature" in n.subject
                           for n in recorder.notices) == 2

            await eventually(countersignature_notified, what="two countersignature notices")


class TestRetriage:
    """A risk update on an open case: raised to high, the urgent ladder fires at once."""

    async def test_raised_to_high_the_urgent_ladder_fires(self, client: Client, tmp_path: Path) -> None:
        """The outcome deadline moves to the 6-second urgent track; its rungs fire; lowering needs a supervisor."""
        recorder = RecordingNotifier()
        policy = SHORT_POLICY.model_copy(update={"outcome": SHORT_POLICY.outcome.model_copy(
            update={"limit": SHORT_POLICY.outcome.limit.model_copy(update={"amount": 600.0}), "ladder": []})})
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=policy)
            await submit(handle, Task.research, "R100")
            snap = await submit(handle, Task.risk_assessment, "RA200")
            outcome = next(d for d in snap.deadlines if d.name == "outcome" and d.open)
            assert not outcome.urgent
            snap = await submit(handle, Task.risk_update, "RA200")
            assert snap.risk_level == "high"
            outcome = next(d for d in snap.deadlines if d.name == "outcome" and d.open)
            assert outcome.urgent and (outcome.due - outcome.started_at).total_seconds() == 6

            async def urgent_breach() -> bool:
                return any(s.breach for s in recorder.escalations("outcome"))

            await eventually(urgent_breach, what="the urgent outcome breach")
            assert [s.notify for s in recorder.escalations("outcome")] == [
                "assigned_officer", "supervisor", "senior_officer"]
            assert "lowering_needs_supervisor" in await refused(handle, Task.risk_update, "RA200", "risk_update_lower")
            snap = await submit(handle, Task.risk_update, "SV700", "risk_update_lower", role="supervisor")
            assert snap.risk_level == "standard"
            assert [t.trigger for t in snap.transitions][-2:] == ["update_risk", "update_risk"]
            timeline = await case_timeline(client, handle.id, tmp_path / "archive")
            changes = [(e.actor, e.what) for e in timeline.entries if e.kind is Kind.task and "(risk " in e.what]
            moved = "risk_update done: risk_assessed -> risk_assessed"
            assert changes == [("RA200", f"{moved} (risk medium -> high)"),
                               ("SV700", f"{moved} (risk high -> standard)")]


class TestSafeguardingContact:
    """A breach of the outcome deadline opens a safeguarding contact with its own ladder."""

    async def test_breach_opens_the_contact(self, client: Client, tmp_path: Path) -> None:
        """The disclosing officer is told; the contact's rungs fire; recorded, it is met and no longer open."""
        recorder = RecordingNotifier()
        async with watched_worker(client, recorder, home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=LATE_OUTCOME_POLICY)

            async def contact_breached() -> bool:
                return any(s.breach for s in recorder.escalations("safeguarding_contact"))

            await eventually(contact_breached, what="the safeguarding contact's breach")
            waiting = [n for n in recorder.notices if "safeguarding_contact is waiting" in n.subject]
            assert [n.to for n in waiting] == ["team:disclosing_officer"]
            assert [(s.notify, s.breach) for s in recorder.escalations("safeguarding_contact")] == [
                ("supervisor", False), ("senior_officer", True)]
            snap = await handle.query("snapshot", result_type=CaseSnapshot)
            assert snap.pending_tasks == [Task.research, Task.safeguarding_contact]
            assert "needs the role disclosing_officer" in await refused(handle, Task.safeguarding_contact, "R100",
                                                                        role="researcher")
            snap = await submit(handle, Task.safeguarding_contact, "DO400")
            assert snap.pending_tasks == [Task.research]
            contact = next(d for d in snap.deadlines if d.name == "safeguarding_contact")
            assert contact.met_at is not None and contact.breaches == [contact.due]
            assert "safeguarding_contact is not open" in await refused(handle, Task.safeguarding_contact, "DO400")


class TestReferralPolicy:
    """The policy file's referral section decides which confirmed failures go to the IOPC."""

    @pytest.mark.parametrize(("automatic", "review", "refer", "state"), [
        (["service", "harm"], "review_failure", False, CaseState.referred),
        (["service", "harm"], "review_failure_administrative", False, CaseState.closed),
        (["service", "harm"], "review_failure_administrative", True, CaseState.referred),
        (["administrative"], "review_failure_administrative", False, CaseState.referred),
        (["administrative"], "review_failure", False, CaseState.closed),
    ])
    async def test_refers_exactly_the_configured_types(self, client: Client, tmp_path: Path, automatic: list[str],
                                                       review: str, refer: bool, state: CaseState) -> None:
        """Referred (one filing at the gateway) or recorded and closed (none), as the policy and PSD's choice say."""
        policy = SHORT_POLICY.model_copy(update={"referral": ReferralPolicy.model_validate({"automatic": automatic})})
        async with watched_worker(client, RecordingNotifier(), home=tmp_path) as worker:
            handle = await start_case(client, worker, policy=policy)
            await submit(handle, Task.research, "R100", "research_no_history")
            await submit(handle, Task.risk_assessment, "RA200")
            await submit(handle, Task.decision, "DM300", "decision_decline")
            await submit(handle, Task.review, "RV500", review)
            snap = await submit(handle, Task.failure_confirmation, "PS600", refer=refer)
            assert snap.state is state
            outbox = tmp_path / "iopc-outbox"
            if state is CaseState.referred:
                filed = await referred(handle)
                assert filed.referral is not None and filed.referral.category == "voluntary"
                assert len(list(outbox.glob("*.json"))) == 1
            else:
                result = await handle.result()
                assert result.referral is None and result.failure_type is not None
                assert [t.trigger for t in result.transitions][-1] == "record_failure"
                assert not list(outbox.glob("*.json"))


class TestOrganisationalReferral:
    """Professional Standards refers several cases in one referral, which keeps its category and cases."""

    async def test_one_referral_covers_several_cases(self, client: Client, tmp_path: Path) -> None:
        """One filing at the gateway, category organisational, naming both cases; listed for auditors; once only."""
        async with watched_worker(client, RecordingNotifier(), home=tmp_path) as worker:
            first = await start_case(client, worker, policy=SHORT_POLICY)
            second = await start_case(client, worker, policy=SHORT_POLICY)
            ref = f"ORG-{first.id}"
            raw = {"ref": ref, "referred_by": {"id": "PS600", "role": "professional_standards"},
                   "cases": [first.id, second.id], "concern": "The force's response to two earlier referrals."}
            referral = await refer_organisational(client, worker.task_queue, raw)
            assert referral.category == "organisational" and referral.cases == [first.id, second.id]
            again = await refer_organisational(client, worker.task_queue, raw)
            assert again == referral
            [filed] = [json.loads(p.read_text()) for p in (tmp_path / "iopc-outbox").glob("*.json")]
            assert filed["request"]["category"] == "organisational"
            assert filed["request"]["cases"] == [first.id, second.id] and "concern" not in filed["request"]

            async def listed() -> bool:  # visibility shows a finished workflow a moment later
                return referral in await organisational_referrals(client)

            await eventually(listed, 30, "the referral listed for auditors")

    async def test_from_the_command_line(self, client: Client, tmp_path: Path) -> None:
        """`dvds referral organisational` files it and `dvds referral list` shows its cases; a bad one is refused."""
        async with watched_worker(client, RecordingNotifier(), home=tmp_path) as worker:
            first = await start_case(client, worker, policy=SHORT_POLICY)
            second = await start_case(client, worker, policy=SHORT_POLICY)
            env = cli_env(client, worker.task_queue, tmp_path)
            ref = f"ORG-{first.id}"
            made = await dvds("referral", "organisational", ref, first.id, second.id, "--actor", "PS600",
                              "--concern", "The response to earlier referrals.", env=env)
            assert made.code == 0, made.err
            assert made.out.startswith(f"{ref}: IOPC-") and "(organisational, 2 cases)" in made.out

            async def shown() -> bool:  # visibility shows a finished workflow a moment later
                listed = await dvds("referral", "list", "--json", env=env)
                return any(r["ref"] == ref and r["cases"] == [first.id, second.id] for r in json.loads(listed.out))

            await eventually(shown, 30, "the referral in dvds referral list")
            refused = await dvds("referral", "organisational", f"{ref}-2", first.id, "--actor", "PS600",
                                 "--concern", "x", env=env)
            assert refused.code == 1 and "cases: List should have at least 2 items" in refused.err

    async def test_refused_before_anything_is_filed(self, client: Client, tmp_path: Path) -> None:
        """Not by Professional Standards, one case only, or an unknown case: refused naming the field."""
        async with watched_worker(client, RecordingNotifier(), home=tmp_path) as worker:
            case = await start_case(client, worker, policy=SHORT_POLICY)
            base = {"ref": f"ORG-{case.id}", "referred_by": {"id": "PS600", "role": "professional_standards"},
                    "cases": [case.id, "NO-SUCH-CASE-1"], "concern": "A concern."}
            attempts = [
                ({**base, "referred_by": {"id": "RV500", "role": "reviewer"}}, "referred_by: an organisational"),
                ({**base, "cases": [case.id]}, "cases: List should have at least 2 items"),
                (base, "cases.1: no case with that reference"),
            ]
            for raw, message in attempts:
                with pytest.raises(ReferralError, match=message):
                    await refer_organisational(client, worker.task_queue, raw)
            assert not list((tmp_path / "iopc-outbox").glob("*.json"))
