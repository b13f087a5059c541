"""The case state machine: one declarative table, read top to bottom, and the only place
that says what can happen on a case.

Each row names its trigger after the task or event that causes it, and says what fires it
(`fired_by`): a human task (states.roles.Task), or `Fired.automatically` (the row fires by
itself whenever its conditions hold after a change), or an event from outside the case.
Conditions are names of rules (`RULES` says each in words; states/rules.py implements them):
`conditions` and `unless` are about the case, `submission` about what the task submits.
A task is open while a row leaving the case's state is fired by it and its conditions on the
case hold; a submission goes through when all of that row's conditions hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

from transitions import Machine
from transitions.core import Condition, EventData

from states.roles import Task


class CaseState(StrEnum):
    received = "received"
    researched = "researched"
    risk_assessed = "risk_assessed"
    awaiting_countersignature = "awaiting_countersignature"
    disclosed = "disclosed"
    declined = "declined"
    withdrawn = "withdrawn"
    reviewed = "reviewed"
    referred = "referred"
    closed = "closed"


class Fired(StrEnum):
    """What fires a row that no human task fires."""

    automatically = "automatically"
    referral_accepted = "referral_accepted"  # the IOPC's gateway accepted the case's referral


S = CaseState
BEFORE_DECISION = [S.received, S.researched, S.risk_assessed]
OPEN_BEFORE_OUTCOME = [*BEFORE_DECISION, S.awaiting_countersignature]
FINAL_STATES = frozenset({S.closed})
NOT_FINAL = [s for s in CaseState if s not in FINAL_STATES]

# Tasks are offered in the order their triggers first appear here, and recorded histories
# replay against that order (the case notifies on its pending tasks): keep withdraw before
# extend_deadline, and extend_deadline before record_iopc_decision.
TRANSITIONS: list[dict[str, Any]] = [
    # A historical case is reviewed where its record stopped: it is not researched, assessed,
    # decided or withdrawn (and so never has a decision of its own to deliver).
    {"trigger": "complete_research", "source": S.received, "dest": S.researched, "fired_by": Task.research,
     "unless": ["historical"], "submission": ["checks_cover_aliases"]},
    {"trigger": "assess_risk", "source": S.researched, "dest": S.risk_assessed, "fired_by": Task.risk_assessment,
     "unless": ["historical"]},
    # Deciding to disclose leaves the case risk-assessed: it becomes `disclosed` only
    # when the disclosure has been delivered in person.
    {"trigger": "decide_to_disclose", "source": S.risk_assessed, "dest": None, "fired_by": Task.decision,
     "conditions": ["risk_assessment_recorded", "not_yet_decided"], "unless": ["historical"],
     "submission": ["decision_discloses"]},
    {"trigger": "decide_to_decline", "source": S.risk_assessed, "dest": S.declined, "fired_by": Task.decision,
     "conditions": ["risk_assessment_recorded", "not_yet_decided"],
     "unless": ["historical", "research_found_relevant_history"], "submission": ["decision_declines"]},
    # Four eyes on non-disclosure: declining despite relevant history waits for a second decision
    # maker; not countersigned, the case goes back for a new decision.
    {"trigger": "decline_for_countersignature", "source": S.risk_assessed, "dest": S.awaiting_countersignature,
     "fired_by": Task.decision, "conditions": ["risk_assessment_recorded", "not_yet_decided",
                                               "research_found_relevant_history"],
     "unless": ["historical"], "submission": ["decision_declines"]},
    {"trigger": "countersign", "source": S.awaiting_countersignature, "dest": S.declined,
     "fired_by": Task.countersignature, "submission": ["countersigned"]},
    {"trigger": "refuse_countersignature", "source": S.awaiting_countersignature, "dest": S.risk_assessed,
     "fired_by": Task.countersignature, "submission": ["not_countersigned"]},
    {"trigger": "deliver_disclosure", "source": S.risk_assessed, "dest": S.disclosed, "fired_by": Task.disclosure,
     "conditions": ["decided_to_disclose"]},
    {"trigger": "withdraw", "source": OPEN_BEFORE_OUTCOME, "dest": S.withdrawn, "fired_by": Task.withdrawal,
     "unless": ["historical"]},
    # An extension moves a deadline, not the case.
    {"trigger": "extend_deadline", "source": NOT_FINAL, "dest": None, "fired_by": Task.deadline_extension,
     "conditions": ["deadline_open"]},
    {"trigger": "review", "source": [S.disclosed, S.declined, S.withdrawn], "dest": S.reviewed,
     "fired_by": Task.review},
    # A historical record may stop before any outcome: it is reviewed where it stopped.
    {"trigger": "review", "source": BEFORE_DECISION, "dest": S.reviewed, "fired_by": Task.review,
     "conditions": ["historical"]},
    # A review that finds nothing closes the case at once.
    {"trigger": "close", "source": S.reviewed, "dest": S.closed, "fired_by": Fired.automatically,
     "conditions": ["no_failure_found"]},
    {"trigger": "confirm_failure", "source": S.reviewed, "dest": S.referred, "fired_by": Task.failure_confirmation,
     "conditions": ["failure_found"], "submission": ["failure_confirmed", "referral_due"]},
    # A confirmed failure the referral policy does not refer (and PSD chose not to): recorded and closed.
    {"trigger": "record_failure", "source": S.reviewed, "dest": S.closed, "fired_by": Task.failure_confirmation,
     "conditions": ["failure_found"], "submission": ["failure_confirmed", "referral_not_due"]},
    {"trigger": "reject_failure", "source": S.reviewed, "dest": S.closed, "fired_by": Task.failure_confirmation,
     "conditions": ["failure_found"], "submission": ["failure_not_confirmed"]},
    {"trigger": "record_referral", "source": S.referred, "dest": None, "fired_by": Fired.referral_accepted},
    {"trigger": "complete_remedial_disclosure", "source": S.referred, "dest": None,
     "fired_by": Task.remedial_disclosure, "conditions": ["remediation_open"]},
    {"trigger": "record_iopc_decision", "source": S.referred, "dest": None, "fired_by": Task.iopc_decision,
     "conditions": ["referral_filed", "iopc_not_yet_decided"]},
    # The filed referral and the remedial disclosure may come in either order: the later closes the case.
    {"trigger": "close", "source": S.referred, "dest": S.closed, "fired_by": Fired.automatically,
     "conditions": ["referral_filed", "remediation_done"]},
    # Re-triage at any stage: the level changes, not the state.
    {"trigger": "update_risk", "source": NOT_FINAL, "dest": None, "fired_by": Task.risk_update,
     "submission": ["lowering_needs_supervisor"]},
    # The outcome deadline breached: the applicant is contacted with interim safeguarding advice.
    {"trigger": "make_safeguarding_contact", "source": OPEN_BEFORE_OUTCOME, "dest": None,
     "fired_by": Task.safeguarding_contact, "conditions": ["safeguarding_contact_owed"]},
    # The gateway refused the referral for good: Professional Standards sends it again or files it by hand.
    {"trigger": "resolve_referral", "source": S.referred, "dest": None, "fired_by": Task.referral_resolution,
     "conditions": ["referral_refused"]},
]

RULES: dict[str, str] = {
    "checks_cover_aliases": "research must search every alias and alternative date of birth "
    "(aliases_checked must be true)",
    "risk_assessment_recorded": "a decision needs a recorded risk assessment",
    "not_yet_decided": "the case has already been decided",
    "decision_discloses": "the decision is not to disclose",
    "decision_declines": "the decision is not to decline",
    "decided_to_disclose": "a disclosure needs a decision to disclose",
    "deadline_open": "the case has no open deadline",
    "historical": "only a historical case can be reviewed before an outcome",
    "no_failure_found": "the review found a failure: it must be confirmed or not by a second person",
    "failure_found": "the review found no failure to confirm",
    "failure_confirmed": "the failure is not confirmed",
    "failure_not_confirmed": "the failure is confirmed",
    "remediation_open": "no remedial disclosure is open on this case",
    "referral_filed": "the IOPC referral has not been filed yet",
    "iopc_not_yet_decided": "the IOPC's decision is already recorded",
    "remediation_done": "the remedial disclosure is not done yet",
    "research_found_relevant_history": "the research found relevant history: a decline needs a countersignature",
    "countersigned": "the decline is not countersigned",
    "not_countersigned": "the decline is countersigned",
    "referral_due": "the referral policy does not refer this failure type (set refer to refer it)",
    "referral_not_due": "the referral policy refers this failure",
    "lowering_needs_supervisor": "lowering the risk level needs a supervisor",
    "safeguarding_contact_owed": "no safeguarding contact is owed: the outcome deadline has not been breached",
    "referral_refused": "the IOPC gateway has not refused the referral",
}

# Keys of a row that are the case engine's, not transitions': stripped before the machine sees a row.
OWN_KEYS = frozenset({"fired_by", "submission"})


def _for_machine(row: dict[str, Any]) -> dict[str, Any]:
    """A row as transitions takes it: our own keys stripped, the conditions on the
    submission kept as conditions (the machine judges them all when it fires)."""
    kept = {key: value for key, value in row.items() if key not in OWN_KEYS}
    kept["source"] = _names(row["source"])
    kept["dest"] = row["dest"] and str(row["dest"])
    if row.get("submission"):
        kept["conditions"] = [*row.get("conditions", []), *row["submission"]]
    return kept


def build_machine(model: object | None, initial: CaseState, graph: bool = False) -> Machine:
    """The case machine; attached to `model` unless it is None. `graph=True` builds the
    mermaid-capable one."""
    options: dict[str, Any] = {
        "model": model,
        "states": [s.value for s in CaseState],
        "transitions": [_for_machine(row) for row in TRANSITIONS],
        "initial": str(initial),
        "auto_transitions": False,
        "ignore_invalid_triggers": False,
    }
    if graph:
        from transitions.extensions import GraphMachine

        return GraphMachine(**options, graph_engine="mermaid", show_conditions=True, title="DVDS case")
    return Machine(**options)


@cache
def shared_machine() -> Machine:
    """One machine for every case in the process, bound to none of them: a case fires a
    trigger through `fire`. Binding a machine to each case (transitions attaches ~40
    trigger and state methods to its model) was most of the domain's cost per task, and
    inside the workflow sandbox far more. Nothing in it changes after it is built (no
    queue, no callbacks that keep state), so workflows on many threads can share it."""
    return build_machine(None, CaseState.received)


def fire(model: object, trigger: str, *args: Any) -> bool:
    """Fire `trigger` on `model` (which has a `state`): conditions are the model's methods
    named in TRANSITIONS. False if no transition's conditions hold; MachineError if the
    trigger is not valid in the model's state."""
    return bool(shared_machine().events[trigger].trigger(model, *args))


class Stateful(Protocol):
    """A case as the machine sees it: anything with a `state`."""

    state: str


@dataclass(frozen=True)
class Leaving:
    """A row of TRANSITIONS leaving one state, with its conditions as the shared machine
    holds them (transitions' Condition objects), split by what they read."""

    trigger: str
    fired_by: Task | Fired
    on_case: tuple[Condition, ...]
    on_submission: tuple[Condition, ...]


def _row_index() -> dict[tuple[str, str], dict[str, Any]]:
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        for source in sources:
            # A case fires a trigger, and the machine takes whichever of its rows from the state
            # holds: two rows of one trigger from one state would blur what fired the move.
            assert (row["trigger"], str(source)) not in index, f"{row['trigger']} leaves {source} twice"
            # An automatic row that did not move the case would fire for ever.
            assert row["fired_by"] is not Fired.automatically or row["dest"] is not None, row["trigger"]
            assert row["fired_by"] is not Fired.automatically or not row.get("submission"), row["trigger"]
            index[row["trigger"], str(source)] = row
    return index


_ROWS = _row_index()


@cache
def rows_from(state: str) -> tuple[Leaving, ...]:
    """The rows leaving `state`, in the table's order of triggers (transitions' own)."""
    machine = shared_machine()
    leaving = []
    for trigger in machine.get_triggers(state):
        row = _ROWS[trigger, state]
        submitted = set(row.get("submission", []))
        for transition in machine.events[trigger].transitions[state]:
            on_case = tuple(c for c in transition.conditions if c.func not in submitted)
            on_submission = tuple(c for c in transition.conditions if c.func in submitted)
            leaving.append(Leaving(trigger, row["fired_by"], on_case, on_submission))
    return tuple(leaving)


def first_failing(model: Stateful, row: Leaving, conditions: tuple[Condition, ...], *args: Any) -> str | None:
    """The name of the first of `conditions` that does not hold on `model`, judged by
    transitions' own Condition.check as the machine would when firing `row`; None if all
    hold. `args` are what the machine would pass (the task record, for a submission)."""
    if not conditions:
        return None
    machine = shared_machine()
    event = EventData(machine.get_state(model.state), machine.events[row.trigger], machine, model, args, {})
    return next((str(c.func) for c in conditions if not c.check(event)), None)


def _names(source: Any) -> str | list[str]:
    return [str(s) for s in source] if isinstance(source, list) else str(source)


def diagram(path: list[str] | None = None) -> str:
    """The machine as Mermaid, from transitions' own mermaid engine. With `path`, the
    states the case went through are marked previous and the last one active."""

    class _Drawing:
        state: str

    drawing = _Drawing()
    machine = build_machine(drawing, CaseState.received, graph=True)
    if path:
        for visited in path[:-1]:
            machine.model_graphs[id(drawing)].set_node_style(visited, "previous")
        machine.set_state(path[-1], model=drawing)
        machine.model_graphs[id(drawing)].set_node_style(path[-1], "active")
    return str(drawing.get_graph().draw(None))  # type: ignore[attr-defined]
