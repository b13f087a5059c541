"""The safeguards on their own, no Temporal: four eyes on a decline, re-triage, the
safeguarding contact on a late outcome, and the referral policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from states.machine import CaseState
from states.policy import DeadlinePolicy, ReferralPolicy, default_policy
from states.record import Actor
from states.roles import Role, Task
from states.submissions import FailureType
from states.tasks import TaskRefused
from tests.helpers.cases import submission
from tests.helpers.domain import NOW, do, new_case


def assessed(research: str | None = None, level: str = "medium"):  # type: ignore[no-untyped-def]
    case = new_case()
    do(case, Task.research, research)
    do(case, Task.risk_assessment, level=level)
    return case


class TestCountersignature:
    """A decline despite relevant history waits for a second decision maker."""

    def test_decline_with_relevant_history_waits(self) -> None:
        """The case is not declined: a countersignature opens, with its own deadline."""
        case = assessed()
        do(case, Task.decision, "decision_decline")
        assert case.current is CaseState.awaiting_countersignature
        assert case.pending_tasks() == [Task.countersignature]
        deadline = next(d for d in case.deadlines.all() if d.name == "countersignature")
        assert deadline.open and [r.notify for r in deadline.rungs] == ["supervisor", "senior_officer"]
        assert next(d for d in case.deadlines.all() if d.name == "outcome").open

    def test_decline_without_relevant_history_declines(self) -> None:
        """Research that found nothing relevant: the decline stands on its own."""
        case = assessed("research_no_history")
        do(case, Task.decision, "decision_decline")
        assert case.current is CaseState.declined

    @pytest.mark.parametrize(("who", "role"), [("DM300", Role.decision_maker), ("R100", Role.decision_maker)])
    def test_not_the_decider_nor_the_researcher(self, who: str, role: Role) -> None:
        """The first decision maker, or the researcher holding the role, cannot countersign."""
        case = assessed()
        do(case, Task.decision, "decision_decline")
        with pytest.raises(TaskRefused, match="countersigner_is_a_second_decision_maker"):
            case.check(Task.countersignature, Actor(id=who, role=role), submission(Task.countersignature), NOW)

    def test_refused_goes_back_for_a_new_decision(self) -> None:
        """Not countersigned: back to risk_assessed, a new decision owed; that decider cannot countersign it."""
        case = assessed()
        do(case, Task.decision, "decision_decline")
        do(case, Task.countersignature, "countersignature_refused")
        assert case.current is CaseState.risk_assessed and case.pending_tasks() == [Task.decision]
        do(case, Task.decision, "decision_decline", actor="DM320")
        assert case.current is CaseState.awaiting_countersignature
        for who in ("DM300", "DM320"):
            with pytest.raises(TaskRefused, match="countersigner_is_a_second_decision_maker"):
                do(case, Task.countersignature, actor=who)
        do(case, Task.countersignature)
        assert case.current is CaseState.declined
        assert not next(d for d in case.deadlines.all() if d.name == "outcome").open

    def test_reviewer_is_not_the_countersigner(self) -> None:
        """Whoever countersigned the decline cannot review the case."""
        case = assessed()
        do(case, Task.decision, "decision_decline")
        do(case, Task.countersignature)
        with pytest.raises(TaskRefused, match="reviewer_is_not_decision_maker"):
            do(case, Task.review, actor="DM310")

    def test_replayed_case_declines_as_before(self) -> None:
        """With the safeguard off (a case replayed from before it), the decline is final."""
        case = assessed()
        case.countersign_declines = False
        do(case, Task.decision, "decision_decline")
        assert case.current is CaseState.declined


    def test_historical_decline_with_relevant_history_is_reviewed_first(self) -> None:
        """Imported as declined despite relevant history: the import's top priority (only look-backs come first)."""
        from states.historical import review_priority
        from states.record import HistoricalDecision, ReviewPriority, SubjectHistory

        first = review_priority(HistoricalDecision.declined, SubjectHistory.yes, 10, disclosure_delivered=False)
        assert first is ReviewPriority.possible_failure_to_disclose
        assert sorted(ReviewPriority)[:2] == [ReviewPriority.look_back, first]


class TestRetriage:
    """A risk update records a new level; high moves the open deadlines to the urgent ladder."""

    def test_raising_to_high_switches_open_deadlines(self) -> None:
        """Outcome and open stage deadlines are re-armed on the urgent rules, from when they started."""
        case = new_case()
        research = next(d for d in case.deadlines.all() if d.name == "research")
        do(case, Task.risk_update)
        assert case.risk_level == "high" and case.urgent
        open_now = {d.name: d for d in case.deadlines.all() if d.open}
        assert open_now["outcome"].urgent and open_now["research"].urgent
        assert open_now["research"].started_at == research.started_at
        assert open_now["research"].due == research.started_at + timedelta(hours=4)
        assert case.transitions[-1].trigger == "update_risk" and case.current is CaseState.received

    def test_lowering_needs_a_supervisor(self) -> None:
        """A risk assessor may raise the level, not lower it; a supervisor may lower it."""
        case = assessed()
        with pytest.raises(TaskRefused, match="rule lowering_needs_supervisor"):
            do(case, Task.risk_update, "risk_update_lower")
        case.apply(Task.risk_update, Actor(id="SV700", role=Role.supervisor),
                   submission(Task.risk_update, "risk_update_lower"), NOW)
        assert case.risk_level == "standard"

    def test_other_roles_refused(self) -> None:
        """Only a risk assessor or a supervisor updates the risk."""
        case = new_case()
        with pytest.raises(TaskRefused, match="needs the role risk_assessor or supervisor, not reviewer"):
            case.check(Task.risk_update, Actor(id="RV500", role=Role.reviewer), submission(Task.risk_update), NOW)


class TestSafeguardingContact:
    """A breached outcome owes the applicant a contact, once per breach."""

    def test_breach_opens_the_contact_with_its_deadline(self) -> None:
        """The disclosing officer's task opens beside the step, with a 24-hour deadline; doing it meets it."""
        case = new_case()
        case.outcome_breached(NOW)
        assert case.pending_tasks() == [Task.research, Task.safeguarding_contact]
        deadline = next(d for d in case.deadlines.all() if d.name == "safeguarding_contact")
        assert deadline.due == NOW + timedelta(hours=24)
        do(case, Task.safeguarding_contact)
        assert case.pending_tasks() == [Task.research]
        assert next(d for d in case.deadlines.all() if d.name == "safeguarding_contact").met_at == NOW

    def test_not_owed_after_the_outcome(self) -> None:
        """A case already declined owes no contact for a late breach."""
        case = assessed("research_no_history")
        do(case, Task.decision, "decision_decline")
        case.outcome_breached(NOW)
        assert Task.safeguarding_contact not in case.pending_tasks()


class TestReferralPolicy:
    """The policy says which confirmed failures are referred."""

    @pytest.mark.parametrize(("review", "changes", "refer", "state"), [
        ("review_failure", {}, False, CaseState.referred),
        ("review_failure_administrative", {}, False, CaseState.closed),
        ("review_failure_administrative", {}, True, CaseState.referred),
        ("review_failure_administrative", {"harm_occurred": True}, False, CaseState.referred),
        ("review_failure", {"failure_type": "harm", "harm_occurred": True}, False, CaseState.referred),
    ])
    def test_default_policy(self, review: str, changes: dict[str, Any], refer: bool, state: CaseState) -> None:
        """Service and harm referred; administrative recorded and closed unless PSD refers it."""
        case = assessed("research_no_history")
        do(case, Task.decision, "decision_decline")
        do(case, Task.review, review, **changes)
        do(case, Task.failure_confirmation, refer=refer)
        assert case.current is state
        assert (case.referral is not None) is (state is CaseState.referred)

    def test_policy_file_sets_the_types(self) -> None:
        """A policy that refers administrative failures automatically, and service ones not."""
        text = default_policy_toml().replace('automatic = ["service", "harm"]', 'automatic = ["administrative"]')
        policy = DeadlinePolicy.from_toml(text)
        assert policy.referral == ReferralPolicy(automatic=[FailureType.administrative])
        assert policy.referral.refers("administrative", False) and not policy.referral.refers("service", False)


def default_policy_toml() -> str:
    from states.policy import DEFAULT_POLICY_TOML

    assert default_policy().referral.automatic == [FailureType.service, FailureType.harm]
    return DEFAULT_POLICY_TOML


class TestLookBackCase:
    """A look-back case waits for its review, by anyone but the people it looks at."""

    def test_look_back_starts_where_the_case_stands(self) -> None:
        """From a declined case: declined, review pending, priority 0, linked; its subject cannot review it."""
        from states.case import Case
        from states.lookback import look_back_start
        from states.messages import CaseFile
        from states.record import LookBack, ReviewPriority

        looked_at = assessed("research_no_history")
        do(looked_at, Task.decision, "decision_decline")
        case_file = CaseFile(snapshot=looked_at.snapshot(NOW), application=looked_at.start.application,
                             historical=None, tasks=looked_at.tasks)
        link = LookBack(of_case=looked_at.start.ref, failure="F-1", staff_ids=["DM300", "R100"], opened_at=NOW)
        start = look_back_start(case_file, link, "Europe/London")
        case = Case(start, default_policy(), NOW)
        assert case.current is CaseState.declined and case.pending_tasks() == [Task.review]
        assert case.snapshot(NOW).priority is ReviewPriority.look_back and case.staff_ids() == []
        assert start.historical is not None and start.historical.subject_has_relevant_history == "no"
        with pytest.raises(TaskRefused, match="rule look_back_not_by_its_subject"):
            case.check(Task.review, Actor(id="R100", role=Role.reviewer), submission(Task.review), NOW)
        case.check(Task.review, Actor(id="RV500", role=Role.reviewer), submission(Task.review), NOW)
