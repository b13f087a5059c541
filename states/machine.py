"""The case state machine: one declarative table, read top to bottom.

Each trigger is named after the human task or event that causes it. Conditions are
names of rules (`RULES` says each in words); `Case` in states/case.py implements them.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Any

from transitions import Machine


class CaseState(StrEnum):
    received = "received"
    researched = "researched"
    risk_assessed = "risk_assessed"
    disclosed = "disclosed"
    declined = "declined"
    withdrawn = "withdrawn"
    reviewed = "reviewed"
    referred = "referred"
    closed = "closed"


S = CaseState
OPEN_BEFORE_OUTCOME = [S.received, S.researched, S.risk_assessed]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "complete_research", "source": S.received, "dest": S.researched,
     "conditions": ["checks_cover_aliases"]},
    {"trigger": "assess_risk", "source": S.researched, "dest": S.risk_assessed},
    # Deciding to disclose leaves the case risk-assessed: it becomes `disclosed` only
    # when the disclosure has been delivered in person.
    {"trigger": "decide_to_disclose", "source": S.risk_assessed, "dest": None,
     "conditions": ["risk_assessment_recorded", "not_yet_decided"]},
    {"trigger": "decide_to_decline", "source": S.risk_assessed, "dest": S.declined,
     "conditions": ["risk_assessment_recorded", "not_yet_decided"]},
    {"trigger": "deliver_disclosure", "source": S.risk_assessed, "dest": S.disclosed,
     "conditions": ["decided_to_disclose"]},
    {"trigger": "withdraw", "source": OPEN_BEFORE_OUTCOME, "dest": S.withdrawn},
    {"trigger": "review", "source": [S.disclosed, S.declined, S.withdrawn], "dest": S.reviewed},
    # A historical record may stop before any outcome: it is reviewed where it stopped.
    {"trigger": "review", "source": OPEN_BEFORE_OUTCOME, "dest": S.reviewed,
     "conditions": ["historical"]},
    {"trigger": "close", "source": S.reviewed, "dest": S.closed, "conditions": ["no_failure_found"]},
    {"trigger": "confirm_failure", "source": S.reviewed, "dest": S.referred,
     "conditions": ["failure_found"]},
    {"trigger": "reject_failure", "source": S.reviewed, "dest": S.closed,
     "conditions": ["failure_found"]},
    {"trigger": "record_referral", "source": S.referred, "dest": None},
    {"trigger": "complete_remedial_disclosure", "source": S.referred, "dest": None,
     "conditions": ["remediation_open"]},
    {"trigger": "record_iopc_decision", "source": S.referred, "dest": None,
     "conditions": ["referral_filed"]},
    {"trigger": "close", "source": S.referred, "dest": S.closed,
     "conditions": ["referral_filed", "remediation_done"]},
]

RULES: dict[str, str] = {
    "checks_cover_aliases": "research must search every alias and alternative date of birth "
    "(aliases_checked must be true)",
    "risk_assessment_recorded": "a decision needs a recorded risk assessment",
    "not_yet_decided": "the case has already been decided",
    "decided_to_disclose": "a disclosure needs a decision to disclose",
    "historical": "only a historical case can be reviewed before an outcome",
    "no_failure_found": "the review found a failure: it must be confirmed or not by a second person",
    "failure_found": "the review found no failure to confirm",
    "remediation_open": "no remedial disclosure is open on this case",
    "referral_filed": "the IOPC referral has not been filed yet",
    "remediation_done": "the remedial disclosure is not done yet",
}

FINAL_STATES = frozenset({S.closed})


def build_machine(model: object | None, initial: CaseState, graph: bool = False) -> Machine:
    """The case machine; attached to `model` unless it is None. `graph=True` builds the
    mermaid-capable one."""
    options: dict[str, Any] = {
        "model": model,
        "states": [s.value for s in CaseState],
        "transitions": [
            {**t, "source": _names(t["source"]), "dest": t["dest"] and str(t["dest"])} for t in TRANSITIONS
        ],
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
