"""The rule a refused task broke, as a metric label: always a name from a fixed list
(the machine's rules, the separation rules, and the engine's own named checks), never
anything the refusal's message carries besides (a staff id, a field's value)."""

from __future__ import annotations

import re

from states.machine import RULES
from states.payloads import PayloadRule
from states.proof import ProofRule
from states.roles import READ_ONLY_RULE, SEPARATIONS
from states.tasks import DATE_FIELDS

NAMED_RULES = (
    frozenset(RULES) | {s.name for s in SEPARATIONS} | {READ_ONLY_RULE}
    # The payload and staff gates' proof rules (states/payloads.py, states/proof.py).
    | {str(r) for r in PayloadRule} | {str(r) for r in ProofRule}
)
_NAMED = re.compile(r"\brule ([a-z_]+)\b")

# The staff gate's refusals (workflows/staff_gate.py, from states/staff.py), then the
# case's own checks (states/case.py), by how their messages begin.
_BY_START: tuple[tuple[str, str], ...] = (
    ("actor: staff id ", "staff_not_active_or_unknown"),
    ("role: staff id ", "staff_role_not_held"),
    ("role: the ", "task_role"),
    ("task: ", "task_not_open"),
    ("submission: ", "submission_type"),
    ("deadline: ", "deadline_not_open"),
    ("rule: ", "machine_refused"),
)
INVALID = "invalid_submission"
OTHER = "other"


def refusal_rule(error_type: str | None, message: str) -> str:
    """The label for one refusal: `error_type` is the ApplicationError's type."""
    if error_type == "InvalidSubmission":
        return INVALID
    for named in _NAMED.findall(message):
        if named in NAMED_RULES:
            return named
    for start, rule in _BY_START:
        if message.startswith(start):
            return rule
    if message.partition(":")[0] in DATE_FIELDS:
        return "task_dates"
    return OTHER
