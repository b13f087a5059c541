"""What a case admits beyond each task's own rules: a start proven by the operator it names,
a carried record only on a run that continued from one, and each nonce once.

Pure: the worker checks the proofs themselves (states/proof.py) against its staff directory;
this module says which claim a start makes and which nonces a case has already seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from states.proof import CASE_START, Claim
from states.record import CaseInput, TaskRecord
from states.roles import Role


class StartRule(StrEnum):
    operator_missing = "operator_missing"
    starter_not_operator = "starter_not_operator"
    resumed_from_nowhere = "resumed_from_nowhere"


_RULE_TEXT: dict[StartRule, str] = {
    StartRule.operator_missing: "a new application must name the operator who recorded it (started_by)",
    StartRule.starter_not_operator: "started_by must act in the operator role",
    StartRule.resumed_from_nowhere: "a carried record (resume) is only taken by a run that continued from another",
}


@dataclass(frozen=True)
class StartRefusal:
    rule: StartRule

    @property
    def message(self) -> str:
        return f"start: {_RULE_TEXT[self.rule]} (rule {self.rule})"


def start_refusal(start: CaseInput, continued: bool) -> StartRefusal | None:
    """Why a start cannot be a case whatever its proof: None if it may be.

    `continued`: this run was started by continue-as-new (only then may it carry a record; a
    client that sent one would be writing the case's past itself). A historical import may
    name nobody: its facts come from the force's export, which the import digests row by row.
    """
    if start.resume is not None and not continued:
        return StartRefusal(StartRule.resumed_from_nowhere)
    if start.started_by is None:
        return StartRefusal(StartRule.operator_missing) if start.historical is None else None
    if start.started_by.role is not Role.operator:
        return StartRefusal(StartRule.starter_not_operator)
    return None


def start_claim(start: CaseInput) -> Claim | None:
    """What a start's proof must prove (started_by recorded this application), or None when the
    start names nobody. Checked once, when the case first runs; not again after it continues."""
    if start.started_by is None:
        return None
    return Claim.of(start.ref, CASE_START, start.started_by, start.application)


def seen_nonces(start: CaseInput, tasks: Iterable[TaskRecord]) -> frozenset[str]:
    """Every nonce the case has accepted: from its own records, which continue-as-new carries,
    so a proof replayed on a later run is refused too."""
    found = {task.proof.nonce for task in tasks if task.proof is not None}
    if start.proof is not None:
        found.add(start.proof.nonce)
    return frozenset(found)
