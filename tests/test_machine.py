"""The case state machine and its rules, on their own: no Temporal."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from states.case import Case
from states.machine import RULES, TRANSITIONS, CaseState, Fired, diagram, first_failing, rows_from, shared_machine
from states.record import Actor, HistoricalDecision, HistoricalFacts, ReviewPriority, SubjectHistory
from states.roles import ACTIONS, TASK_ROLE, Role, Task
from states.rules import CaseRules
from states.tasks import TaskRefused
from tests.helpers.cases import application, submission
from tests.helpers.domain import NOW, STAFF, do, new_case

NO_HISTORY = (Task.research, "research_no_history")
# Every way a new case can go, as the tasks done in order (and the example each uses).
PATHS: dict[str, list[tuple[Task, str | None]]] = {
    "disclosed and closed": [(Task.research, None), (Task.risk_assessment, None), (Task.decision, None),
                             (Task.disclosure, None), (Task.review, None)],
    "declined and closed": [NO_HISTORY, (Task.risk_assessment, None),
                            (Task.decision, "decision_decline"), (Task.review, None)],
    "declined despite history, countersigned": [(Task.research, None), (Task.risk_assessment, None),
                                                (Task.decision, "decision_decline"), (Task.countersignature, None),
                                                (Task.review, None)],
    "decline not countersigned, then disclosed": [(Task.research, None), (Task.risk_assessment, None),
                                                  (Task.decision, "decision_decline"),
                                                  (Task.countersignature, "countersignature_refused"),
                                                  (Task.decision, None), (Task.disclosure, None), (Task.review, None)],
    "withdrawn at received": [(Task.withdrawal, None), (Task.review, None)],
    "withdrawn at researched": [(Task.research, None), (Task.withdrawal, None), (Task.review, None)],
    "withdrawn at risk_assessed": [(Task.research, None), (Task.risk_assessment, None), (Task.withdrawal, None),
                                   (Task.review, None)],
    "failure not confirmed": [(Task.research, None), (Task.risk_assessment, None), (Task.decision, None),
                              (Task.disclosure, None), (Task.review, "review_failure"),
                              (Task.failure_confirmation, "failure_not_confirmed")],
    "administrative failure recorded": [NO_HISTORY, (Task.risk_assessment, None),
                                        (Task.decision, "decision_decline"),
                                        (Task.review, "review_failure_administrative"),
                                        (Task.failure_confirmation, None)],
    "failure confirmed": [NO_HISTORY, (Task.risk_assessment, None), (Task.decision, "decision_decline"),
                          (Task.review, "review_failure"), (Task.failure_confirmation, None)],
}


def states_along(path: list[tuple[Task, str | None]]) -> list[Case]:
    """A fresh case in each state the path passes through."""
    cases = []
    for length in range(len(path) + 1):
        case = new_case()
        for task, example in path[:length]:
            do(case, task, example)
        cases.append(case)
    return cases


# The examples a task may validly submit (either way a decision or a confirmation can go).
VALID: dict[Task, list[str | None]] = {task: [None] for task in Task}
VALID[Task.decision] = [None, "decision_decline"]
VALID[Task.review] = [None, "review_failure"]
VALID[Task.failure_confirmation] = [None, "failure_not_confirmed"]
VALID[Task.countersignature] = [None, "countersignature_refused"]


def historical_facts(decision: HistoricalDecision = HistoricalDecision.none, risk_level: str | None = None,
                     researched: bool = False, delivered: bool = False) -> HistoricalFacts:
    return HistoricalFacts(
        source_line=2, source_digest="x", received_on=date(2017, 1, 3),
        research_completed_on=date(2017, 1, 5) if researched else None, risk_level=risk_level, decision=decision,
        decision_on=date(2017, 1, 20) if decision is not HistoricalDecision.none else None,
        disclosure_delivered_on=date(2017, 2, 1) if delivered else None,
        subject_has_relevant_history=SubjectHistory.yes, priority=ReviewPriority.routine,
    )


def valid_submission(case: Case, task: Task, example: str | None = None) -> Any:
    """The example, naming one of the case's open deadlines when it is an extension."""
    if task is Task.deadline_extension and case.deadlines.open_names():
        return submission(task, example, deadline=case.deadlines.open_names()[0])
    return submission(task, example)


def along(path: list[tuple[Task, str | None]], *then: Callable[[Case], None], **start: Any) -> Callable[[], Case]:
    def build() -> Case:
        case = new_case(**start)
        for task, example in path:
            do(case, task, example)
        for step in then:
            step(case)
        return case

    return build


def filed(case: Case) -> None:
    case.file_referral("IOPC-1", NOW + timedelta(hours=2))


def iopc_decided(case: Case) -> None:
    do(case, Task.iopc_decision)


def remediated(case: Case) -> None:
    do(case, Task.remedial_disclosure)


def breached(case: Case) -> None:
    case.outcome_breached(NOW)


def contacted(case: Case) -> None:
    do(case, Task.safeguarding_contact)


def gateway_refused(case: Case) -> None:
    case.refuse_referral("IOPC gateway refused the referral (422)", NOW + timedelta(hours=1))


CONFIRMED = PATHS["failure confirmed"]
COUNTERSIGNED = PATHS["declined despite history, countersigned"]
NOT_COUNTERSIGNED = PATHS["decline not countersigned, then disclosed"]
ADMINISTRATIVE = PATHS["administrative failure recorded"]
H = HistoricalDecision
W, D, U = Task.withdrawal, Task.deadline_extension, Task.risk_update
# Each state a case can be in, and what it offers there: pending tasks, then actions, in order.
OPEN_IN_EACH_STATE: dict[str, tuple[Callable[[], Case], CaseState, list[Task], list[Task]]] = {
    "received": (along([]), CaseState.received, [Task.research], [W, D, U]),
    "researched": (along(CONFIRMED[:1]), CaseState.researched, [Task.risk_assessment], [W, D, U]),
    "risk assessed": (along(CONFIRMED[:2]), CaseState.risk_assessed, [Task.decision], [W, D, U]),
    "decided to disclose": (along(PATHS["disclosed and closed"][:3]), CaseState.risk_assessed, [Task.disclosure],
                            [W, D, U]),
    "disclosed": (along(PATHS["disclosed and closed"][:4]), CaseState.disclosed, [Task.review], [D, U]),
    "declined": (along(CONFIRMED[:3]), CaseState.declined, [Task.review], [D, U]),
    "withdrawn": (along([(W, None)]), CaseState.withdrawn, [Task.review], [D, U]),
    "reviewed, failure found": (along(CONFIRMED[:4]), CaseState.reviewed, [Task.failure_confirmation], [D, U]),
    "referred": (along(CONFIRMED), CaseState.referred, [Task.remedial_disclosure], [D, U]),
    "referred, filed": (along(CONFIRMED, filed), CaseState.referred, [Task.remedial_disclosure],
                        [D, Task.iopc_decision, U]),
    "referred, filed, IOPC decided": (along(CONFIRMED, filed, iopc_decided), CaseState.referred,
                                      [Task.remedial_disclosure], [D, U]),
    "referred, remediated, not filed": (along(CONFIRMED, remediated), CaseState.referred, [], [D, U]),
    "referred, refused by the gateway": (along(CONFIRMED, gateway_refused), CaseState.referred,
                                         [Task.remedial_disclosure, Task.referral_resolution], [D, U]),
    "closed": (along(PATHS["declined and closed"]), CaseState.closed, [], []),
    "declined despite history": (along(COUNTERSIGNED[:3]), CaseState.awaiting_countersignature,
                                 [Task.countersignature], [W, D, U]),
    "countersignature refused": (along(NOT_COUNTERSIGNED[:4]), CaseState.risk_assessed, [Task.decision], [W, D, U]),
    "countersigned": (along(COUNTERSIGNED[:4]), CaseState.declined, [Task.review], [D, U]),
    "outcome breached": (along(CONFIRMED[:1], breached), CaseState.researched,
                         [Task.risk_assessment, Task.safeguarding_contact], [W, D, U]),
    "outcome breached, contact made": (along(CONFIRMED[:1], breached, contacted), CaseState.researched,
                                       [Task.risk_assessment], [W, D, U]),
    "administrative failure found": (along(ADMINISTRATIVE[:4]), CaseState.reviewed, [Task.failure_confirmation],
                                     [D, U]),
    "administrative failure recorded": (along(ADMINISTRATIVE), CaseState.closed, [], []),
    "historical, received": (along([], historical=historical_facts()), CaseState.received, [Task.review], [D, U]),
    "historical, researched": (along([], historical=historical_facts(researched=True)), CaseState.researched,
                               [Task.review], [D, U]),
    "historical, risk assessed": (along([], historical=historical_facts(H.none, "medium", True)),
                                  CaseState.risk_assessed, [Task.review], [D, U]),
    "historical, disclosure decided, not delivered": (along([], historical=historical_facts(H.disclosed, "medium")),
                                                      CaseState.risk_assessed, [Task.review], [D, U]),
    "historical, disclosed": (along([], historical=historical_facts(H.disclosed, "medium", True, True)),
                              CaseState.disclosed, [Task.review], [D, U]),
    "historical, declined": (along([], historical=historical_facts(H.declined, "high", True)), CaseState.declined,
                             [Task.review], [D, U]),
    "historical, withdrawn": (along([], historical=historical_facts(H.withdrawn)), CaseState.withdrawn,
                              [Task.review], [D, U]),
    "historical, reviewed, failure found": (along([(Task.review, "review_failure")],
                                                  historical=historical_facts(H.declined, "medium", True)),
                                            CaseState.reviewed, [Task.failure_confirmation], [D, U]),
    "historical, closed": (along([(Task.review, None)], historical=historical_facts(H.withdrawn)), CaseState.closed,
                           [], []),
}


class TestOpenTasks:
    """In every state, new or historical, the case offers exactly the tasks it always has."""

    @pytest.mark.parametrize("name", OPEN_IN_EACH_STATE)
    def test_pending_tasks_and_actions(self, name: str) -> None:
        """Pending tasks and actions, and their order, as the inbox and notifications see them."""
        build, state, pending, actions = OPEN_IN_EACH_STATE[name]
        case = build()
        assert case.current is state
        assert case.pending_tasks() == pending
        assert case.actions() == actions
        assert case.snapshot(NOW).pending_tasks == pending and case.snapshot(NOW).actions == actions

    @pytest.mark.parametrize("name", OPEN_IN_EACH_STATE)
    def test_open_tasks_are_accepted_and_others_refused(self, name: str) -> None:
        """Each open task is accepted with a valid submission; every other task is refused as not open."""
        case = OPEN_IN_EACH_STATE[name][0]()
        open_tasks = case.pending_tasks() + case.actions()
        for task in Task:
            actor = Actor(id="FRESH1", role=TASK_ROLE[task])
            if task in open_tasks:
                case.check(task, actor, valid_submission(case, task), NOW)
            elif not case.finished:
                listed = ", ".join(open_tasks) or "none"
                with pytest.raises(TaskRefused, match=rf"^task: {task} is not open while the case is "
                                                      rf"{case.current} \(open: {listed}\)$"):
                    case.check(task, actor, valid_submission(case, task), NOW)

    def test_refusal_names_what_is_open(self) -> None:
        """The refusal README shows, word for word."""
        case = along(CONFIRMED[:1])()
        with pytest.raises(TaskRefused) as refused:
            do(case, Task.decision)
        assert str(refused.value) == (
            "task: decision is not open while the case is researched (open: risk_assessment, withdrawal, "
            "deadline_extension, risk_update)"
        )

    def test_the_submission_picks_the_row(self) -> None:
        """A decision to disclose or to decline, a failure confirmed or not: each fires its own row."""
        case = along(CONFIRMED[:2])()
        decider = Actor(id="DM300", role=Role.decision_maker)
        assert case.check(Task.decision, decider, submission(Task.decision), NOW) == "decide_to_disclose"
        assert case.check(Task.decision, decider, submission(Task.decision, "decision_decline"), NOW) == (
            "decide_to_decline"
        )
        case = along(CONFIRMED[:4])()
        confirmer = Actor(id="PS600", role=Role.professional_standards)
        confirmation = submission(Task.failure_confirmation)
        assert case.check(Task.failure_confirmation, confirmer, confirmation, NOW) == "confirm_failure"
        rejection = submission(Task.failure_confirmation, "failure_not_confirmed")
        assert case.check(Task.failure_confirmation, confirmer, rejection, NOW) == "reject_failure"

    def test_extension_must_name_an_open_deadline(self) -> None:
        """An extension of a deadline that is not open is refused, naming the field; nothing changes."""
        case = new_case()
        with pytest.raises(TaskRefused, match="^deadline: no open deadline is called 'review'$"):
            do(case, Task.deadline_extension, deadline="review")
        assert case.tasks == []
        do(case, Task.deadline_extension, deadline="outcome")
        assert case.transitions == [] and case.deadlines.all()[0].extensions


class TestAutomaticCloses:
    """Rows that fire by themselves close the case as soon as their conditions hold."""

    def test_review_finding_nothing_closes_at_once(self) -> None:
        """The review moves the case to reviewed and the close follows, recorded against the review."""
        case = along(PATHS["declined and closed"][:3])()
        do(case, Task.review)
        assert [(t.trigger, t.dest, t.task) for t in case.transitions[-2:]] == [
            ("review", CaseState.reviewed, Task.review), ("close", CaseState.closed, Task.review)
        ]

    def test_remedial_disclosure_after_filing_closes(self) -> None:
        """With the referral filed, the remedial disclosure closes the case."""
        case = along(CONFIRMED, filed)()
        do(case, Task.remedial_disclosure)
        assert [(t.trigger, t.task) for t in case.transitions[-2:]] == [
            ("complete_remedial_disclosure", Task.remedial_disclosure), ("close", Task.remedial_disclosure)
        ]
        assert case.current is CaseState.closed

    def test_filing_after_remedial_disclosure_closes(self) -> None:
        """With the remedial disclosure done, the IOPC accepting the referral closes the case."""
        case = along(CONFIRMED, remediated)()
        assert case.current is CaseState.referred
        filed(case)
        assert [(t.trigger, t.task) for t in case.transitions[-2:]] == [("record_referral", None), ("close", None)]
        assert case.current is CaseState.closed

    def test_nothing_closes_while_something_is_owed(self) -> None:
        """A failure found, or a referral not filed, keeps the case open."""
        assert along(CONFIRMED[:4])().current is CaseState.reviewed
        assert along(CONFIRMED, remediated)().current is CaseState.referred
        assert along(CONFIRMED, filed, iopc_decided)().current is CaseState.referred


@st.composite
def reachable_cases(draw: st.DrawFn) -> Case:
    """A case started new or from a random historical record, then worked by random open
    tasks (each done by its own member of staff, so no separation is broken) and by the
    IOPC accepting its referral."""
    historical = draw(st.none() | st.builds(
        historical_facts, st.sampled_from(HistoricalDecision), st.sampled_from([None, "medium", "high"]),
        st.booleans(), st.booleans(),
    ).filter(lambda f: f.decision is HistoricalDecision.disclosed or f.disclosure_delivered_on is None))
    case = new_case(historical=historical, application=application(immediate_risk=draw(st.booleans())))
    for _ in range(draw(st.integers(0, 9))):
        moves: list[Task | str | None] = [*case.pending_tasks(), *case.actions()]
        if case.referral is not None and case.referral.iopc_reference is None:
            moves.append(None)  # the IOPC accepts the referral
        if not case.safeguarding_contact_owed():
            moves.append("breach")  # the outcome deadline passes
        if not moves:
            break
        move = draw(st.sampled_from(moves))
        if move is None:
            filed(case)
        elif move == "breach":
            breached(case)
        elif isinstance(move, Task):
            case.apply(move, Actor(id=STAFF[move], role=TASK_ROLE[move]),
                       valid_submission(case, move, draw(st.sampled_from(VALID[move]))), NOW)
    return case


class TestTableDecidesWhatIsOpen:
    """From any reachable case, what check() accepts is exactly what the case offers."""

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(reachable_cases())
    def test_accepted_iff_open(self, case: Case) -> None:
        """A valid submission by a fresh member of staff with the right role goes through
        exactly when its task is pending or an action; when it does, it can be applied."""
        open_tasks = case.pending_tasks() + case.actions()
        for task in Task:
            for example in VALID[task]:
                work = valid_submission(case, task, example)
                actor = Actor(id="FRESH1", role=TASK_ROLE[task])
                try:
                    case.check(task, actor, work, NOW)
                except TaskRefused:
                    assert task not in open_tasks, f"{task} is open in {case.current} but was refused"
                    continue
                assert task in open_tasks, f"{task} is not open in {case.current} but was accepted"
                copy.deepcopy(case).apply(task, actor, work, NOW)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(reachable_cases())
    def test_no_automatic_row_is_left_holding(self, case: Case) -> None:
        """After any task or event, every automatic row that could fire has fired."""
        automatic = [r for r in rows_from(case.state) if r.fired_by is Fired.automatically]
        assert all(first_failing(case, row, row.on_case) is not None for row in automatic)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(reachable_cases())
    def test_steps_and_actions(self, case: Case) -> None:
        """A case waits for at most one step beside a safeguarding contact; the actions listed are the ACTIONS tasks."""
        assert len([t for t in case.pending_tasks() if t is not Task.safeguarding_contact]) <= 1
        assert not set(case.pending_tasks()) & ACTIONS and set(case.actions()) <= ACTIONS


class TestTable:
    """The table is complete and consistent: every name in it means something."""

    def test_every_condition_is_described_and_implemented(self) -> None:
        """Each condition a row names is said in words in RULES and is a rule the case has."""
        named = {name for row in TRANSITIONS for key in ("conditions", "unless", "submission")
                 for name in row.get(key, [])}
        assert named <= set(RULES), named - set(RULES)
        assert all(hasattr(CaseRules, name) for name in named)

    def test_every_task_fires_a_row(self) -> None:
        """Each human task fires some row; only the two closes fire by themselves."""
        assert {row["fired_by"] for row in TRANSITIONS if isinstance(row["fired_by"], Task)} == set(Task)
        automatic = [row for row in TRANSITIONS if row["fired_by"] is Fired.automatically]
        assert [(row["trigger"], row["dest"]) for row in automatic] == [("close", CaseState.closed)] * 2

    def test_one_machine_bound_to_no_case(self) -> None:
        """Cases share one machine: none has trigger methods attached (binding one per case was the cost)."""
        case = along(CONFIRMED[:2])()
        do(case, Task.decision)
        assert shared_machine() is shared_machine() and not shared_machine().models
        assert not hasattr(case, "decide_to_disclose") and not hasattr(case, "may_decide_to_disclose")


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

    def test_a_refused_referral_waits_on_professional_standards(self) -> None:
        """Refused for good, the referral is Professional Standards' task: sent again, or filed by hand (closing)."""
        case = new_case()
        for task, example in [*PATHS["failure confirmed"], (Task.remedial_disclosure, None)]:
            do(case, task, example)
        gateway_refused(case)
        assert case.pending_tasks() == [Task.referral_resolution]
        do(case, Task.referral_resolution)
        assert case.referral is not None and case.referral.refused is None and case.current is CaseState.referred
        gateway_refused(case)
        do(case, Task.referral_resolution, action="filed_by_hand", iopc_reference="IOPC/2026/00042")
        assert case.current is CaseState.closed and case.referral.iopc_reference == "IOPC/2026/00042"
        with pytest.raises(ValidationError, match="iopc_reference"):
            submission(Task.referral_resolution, action="filed_by_hand")

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
        """No row in the table is dead: each trigger is fired by a task or happens on some case."""
        fired: set[str] = set()
        for build, *_ in OPEN_IN_EACH_STATE.values():
            case = build()
            fired |= {t.trigger for t in case.transitions}
            for task in case.pending_tasks() + case.actions():
                for example in VALID[task]:
                    actor = Actor(id="FRESH1", role=TASK_ROLE[task])
                    fired.add(case.check(task, actor, valid_submission(case, task, example), NOW))
        assert {row["trigger"] for row in TRANSITIONS} <= fired

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
    def test_imported_state_waits_for_review(
        self, decision: HistoricalDecision, delivered: date | None, state: CaseState
    ) -> None:
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
