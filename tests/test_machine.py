"""The case state machine and its rules, on their own: no Temporal."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from states.case import Case
from states.machine import TRANSITIONS, CaseState, diagram
from states.policy import default_policy
from states.record import Actor, CaseInput, HistoricalDecision, HistoricalFacts, ReviewPriority, SubjectHistory
from states.roles import TASK_ROLE, Role, Task
from states.tasks import TaskRefused
from tests.cases import application, new_ref, submission

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STAFF = {
    Task.research: "R100", Task.risk_assessment: "RA200", Task.decision: "DM300", Task.disclosure: "DO400",
    Task.withdrawal: "OP1", Task.review: "RV500", Task.failure_confirmation: "PS600",
    Task.remedial_disclosure: "DO400", Task.iopc_decision: "PS600", Task.deadline_extension: "SV700",
}
# Every way a new case can go, as the tasks done in order (and the example each uses).
PATHS: dict[str, list[tuple[Task, str | None]]] = {
    "disclosed and closed": [(Task.research, None), (Task.risk_assessment, None), (Task.decision, None),
                             (Task.disclosure, None), (Task.review, None)],
    "declined and closed": [(Task.research, None), (Task.risk_assessment, None),
                            (Task.decision, "decision_decline"), (Task.review, None)],
    "withdrawn at received": [(Task.withdrawal, None), (Task.review, None)],
    "withdrawn at researched": [(Task.research, None), (Task.withdrawal, None), (Task.review, None)],
    "withdrawn at risk_assessed": [(Task.research, None), (Task.risk_assessment, None), (Task.withdrawal, None),
                                   (Task.review, None)],
    "failure not confirmed": [(Task.research, None), (Task.risk_assessment, None), (Task.decision, None),
                              (Task.disclosure, None), (Task.review, "review_failure"),
                              (Task.failure_confirmation, "failure_not_confirmed")],
    "failure confirmed": [(Task.research, None), (Task.risk_assessment, None), (Task.decision, "decision_decline"),
                          (Task.review, "review_failure"), (Task.failure_confirmation, None)],
}


def new_case(**start: Any) -> Case:
    return Case(CaseInput(ref=new_ref(), application=application(), **start), default_policy(), NOW)


def do(case: Case, task: Task, example: str | None = None, actor: str | None = None, **changes: Any) -> None:
    case.apply(task, Actor(id=actor or STAFF[task], role=TASK_ROLE[task]), submission(task, example, **changes), NOW)


def states_along(path: list[tuple[Task, str | None]]) -> list[Case]:
    """A fresh case in each state the path passes through."""
    cases = []
    for length in range(len(path) + 1):
        case = new_case()
        for task, example in path[:length]:
            do(case, task, example)
        cases.append(case)
    return cases


class TestLegalPaths:
    """Every legal path through the machine ends where the scheme says."""

    @pytest.mark.parametrize("name", PATHS)
    def test_path(self, name: str) -> None:
        """Each path is accepted step by step and ends in its final state."""
        case = new_case()
        for task, example in PATHS[name]:
            assert task in case.pending_tasks() + case.actions(), f"{task} should be open in {case.current}"
            do(case, task, example)
        expected = CaseState.referred if name == "failure confirmed" else CaseState.closed
        assert case.current is expected

    def test_confirmed_failure_then_referral_and_remediation_close(self) -> None:
        """A confirmed failure is referred; the filed referral and the remedial disclosure close it."""
        case = new_case()
        for task, example in PATHS["failure confirmed"]:
            do(case, task, example)
        assert case.referral is not None and case.referral.category == "voluntary"
        assert case.pending_tasks() == [Task.remedial_disclosure]
        case.file_referral("IOPC-1", NOW + timedelta(hours=2))
        assert Task.iopc_decision in case.actions()
        do(case, Task.remedial_disclosure)
        assert case.current is CaseState.closed
        assert not case.referral.late

    def test_harm_with_serious_injury_is_a_mandatory_referral(self) -> None:
        """Death or serious injury makes the referral mandatory."""
        case = new_case()
        for task, example in PATHS["failure confirmed"][:3]:
            do(case, task, example)
        do(case, Task.review, "review_failure", failure_type="harm", harm_occurred=True, death_or_serious_injury=True)
        do(case, Task.failure_confirmation)
        assert case.referral is not None and case.referral.category == "mandatory"


class TestIllegalMoves:
    """Every move the state does not allow is refused, and refusing changes nothing."""

    @pytest.mark.parametrize("name", PATHS)
    def test_every_task_not_open_is_refused(self, name: str) -> None:
        """In every state on the path, each task that is not open is refused."""
        for case in states_along(PATHS[name]):
            open_tasks = set(case.pending_tasks() + case.actions())
            for task in Task:
                if task in open_tasks:
                    continue
                before = (case.current, len(case.tasks), len(case.transitions))
                example = "review_failure" if task is Task.review else None
                with pytest.raises(TaskRefused):
                    case.check(task, Actor(id="X1", role=TASK_ROLE[task]), submission(task, example), NOW)
                assert (case.current, len(case.tasks), len(case.transitions)) == before

    def test_every_trigger_in_the_table_is_reachable(self) -> None:
        """No transition in the table is dead: each trigger fires on some path."""
        fired: set[str] = set()
        for path in PATHS.values():
            case = new_case()
            for task, example in path:
                do(case, task, example)
            fired |= {t.trigger for t in case.transitions}
        fired |= {"record_referral", "complete_remedial_disclosure", "record_iopc_decision", "review", "extend_deadline"}
        assert {t["trigger"] for t in TRANSITIONS} <= fired

    @pytest.mark.parametrize("role", [r for r in Role])
    def test_wrong_role_is_refused(self, role: Role) -> None:
        """Research by anyone but a researcher is refused, naming the role rule."""
        case = new_case()
        if role is Role.researcher:
            return
        with pytest.raises(TaskRefused, match="role: the research task needs the role researcher"):
            case.check(Task.research, Actor(id="X1", role=role), submission(Task.research), NOW)

    def test_research_must_cover_aliases(self) -> None:
        """Research that did not search every alias is refused with the rule named."""
        case = new_case()
        with pytest.raises(TaskRefused, match="checks_cover_aliases"):
            case.check(Task.research, Actor(id="R1", role=Role.researcher),
                       submission(Task.research, aliases_checked=False), NOW)

    def test_decision_maker_cannot_review(self) -> None:
        """The reviewer must not be the decision maker."""
        case = new_case()
        for task, example in PATHS["declined and closed"][:3]:
            do(case, task, example)
        with pytest.raises(TaskRefused, match="reviewer_is_not_decision_maker"):
            do(case, Task.review, actor="DM300")

    @pytest.mark.parametrize("confirmer", ["RV500", "DM300"])
    def test_confirmer_is_independent(self, confirmer: str) -> None:
        """Neither the reviewer nor the decision maker can confirm a failure."""
        case = new_case()
        for task, example in PATHS["failure confirmed"][:4]:
            do(case, task, example)
        with pytest.raises(TaskRefused, match="confirmer_is_independent"):
            do(case, Task.failure_confirmation, actor=confirmer)

    def test_supervisor_cannot_extend_own_case(self) -> None:
        """A supervisor who worked on the case cannot extend its deadlines."""
        case = new_case()
        do(case, Task.research, actor="SV700")
        with pytest.raises(TaskRefused, match="supervisor_not_on_own_case"):
            do(case, Task.deadline_extension, actor="SV700")

    def test_dates_in_the_future_are_refused(self) -> None:
        """A disclosure dated after today is refused, naming the field."""
        case = new_case()
        for task, example in PATHS["disclosed and closed"][:3]:
            do(case, task, example)
        with pytest.raises(TaskRefused, match="delivered_on: must not be in the future"):
            do(case, Task.disclosure, delivered_on=date(2030, 1, 1))

    def test_closed_case_refuses_everything(self) -> None:
        """Nothing more can be done on a closed case."""
        case = new_case()
        for task, example in PATHS["withdrawn at received"]:
            do(case, task, example)
        for task in Task:
            with pytest.raises(TaskRefused, match="closed"):
                case.check(task, Actor(id="X1", role=TASK_ROLE[task]), submission(task), NOW)


class TestHistorical:
    """Imported facts start a case where the record stopped; it waits for review."""

    @pytest.mark.parametrize(
        ("decision", "delivered", "state"),
        [
            (HistoricalDecision.disclosed, date(2017, 2, 1), CaseState.disclosed),
            (HistoricalDecision.disclosed, None, CaseState.risk_assessed),
            (HistoricalDecision.declined, None, CaseState.declined),
            (HistoricalDecision.withdrawn, None, CaseState.withdrawn),
            (HistoricalDecision.none, None, CaseState.risk_assessed),
        ],
    )
    def test_imported_state_waits_for_review(self, decision: HistoricalDecision, delivered: date | None, state: CaseState) -> None:
        """Whatever the record shows, the case's only task is its review."""
        facts = HistoricalFacts(
            source_line=2, source_digest="x", received_on=date(2017, 1, 3), research_completed_on=date(2017, 1, 5),
            risk_level="medium", decision=decision, decision_on=date(2017, 1, 20) if decision.value != "none" else None,
            disclosure_delivered_on=delivered, subject_has_relevant_history=SubjectHistory.yes,
            priority=ReviewPriority.routine,
        )
        case = new_case(historical=facts)
        assert case.current is state
        assert case.pending_tasks() == [Task.review]
        assert all(t.imported for t in case.transitions)
        do(case, Task.review)
        assert case.current is CaseState.closed


def test_diagram_is_mermaid_from_transitions() -> None:
    """`dvds states diagram` draws every state and trigger in Mermaid."""
    text = diagram()
    assert "stateDiagram-v2" in text
    for state, trigger in itertools.product(CaseState, ["complete_research", "confirm_failure"]):
        assert f'state "{state}"' in text and trigger in text


def test_diagram_highlights_a_path() -> None:
    """A path is drawn with the states passed marked previous and the last active."""
    text = diagram(["received", "withdrawn"])
    assert "Class withdrawn s_active" in text and "Class received s_previous" in text
