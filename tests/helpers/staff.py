"""The test run's staff: the example directory plus the people segregation of duties must
stop, every one enrolled with a credential (no passphrase), so each submission a test makes
is signed as the person it names, as `dvds task complete` signs it.

Made once per session (tests/conftest.py) in a temporary folder; DVDS_STAFF_FILE and
DVDS_CREDENTIALS_DIR point every Settings(), worker process and `dvds` subprocess at it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pydantic import BaseModel

from dvds.settings import Settings
from dvds.staff.credentials import credential_path, enrol
from dvds.staff.directory import read_staff
from dvds.staff.editing import edit_staff_json, member_entry
from dvds.staff.signers import MemberSigner, member_signer
from dvds.staff.signing import cli_proof, sign
from states.actor import Actor
from states.proof import Envelope, SignedFields, SignedTask
from states.staff import StaffDirectory
from tests.helpers.paths import EXAMPLES

# People holding two roles, an auditor who also reviews, and a leaver: the cases segregation
# of duties and the directory must refuse.
EXTRA_STAFF = [
    {"id": "DUAL1", "name": "Dual Decider", "roles": ["decision_maker", "reviewer"], "team": "t"},
    {"id": "DUAL2", "name": "Dual Reviewer", "roles": ["reviewer", "professional_standards"], "team": "t"},
    {"id": "DUAL3", "name": "Dual Standards", "roles": ["decision_maker", "professional_standards"], "team": "t"},
    {"id": "DUAL4", "name": "Dual Supervisor", "roles": ["researcher", "supervisor"], "team": "t"},
    {"id": "DUAL5", "name": "Operating Supervisor", "roles": ["operator", "supervisor"], "team": "t"},
    {"id": "AUD2", "name": "Auditing Reviewer", "roles": ["auditor", "reviewer"], "team": "t"},
    {"id": "DM310", "name": "Second Decider", "roles": ["decision_maker"], "team": "disclosure-forum"},
    {"id": "DUAL6", "name": "Researching Decider", "roles": ["researcher", "decision_maker"], "team": "t"},
    {"id": "GONE1", "name": "Left Reviewer", "roles": ["reviewer"], "team": "t"},
]
LEAVER = "GONE1"  # enrolled while active, then made inactive


def enrolled_staff(folder: Path) -> tuple[Path, Path]:
    """Write the test staff file into `folder` and enrol everyone; (staff file, credentials dir)."""
    data = json.loads((EXAMPLES / "staff.json").read_text())
    data["staff"] += EXTRA_STAFF
    staff = folder / "staff.json"
    staff.write_text(json.dumps(data, indent=2))
    credentials = folder / "credentials"
    for member in data["staff"]:
        enrol(member["id"], staff, credential_path(credentials, member["id"]))
    edit_staff_json(staff, lambda d: member_entry(d, LEAVER, staff).update(active=False))
    return staff, credentials


def session_staff() -> StaffDirectory:
    """The session's staff directory, keys and all."""
    return read_staff(Settings().staff_path)


@cache
def _signer(credentials: Path, staff_id: str) -> MemberSigner:
    return member_signer(credentials, staff_id)


class StaffSigner:
    """Signs as whichever test member the actor names, with that member's own credential."""

    def sign(self, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Envelope:
        return _signer(Settings().credentials_dir, actor.id).sign(ref, task, actor, submission)


SIGNER = StaffSigner()


def signed_with_key_of(holder: str, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Envelope:
    """A proof for `actor` signed with `holder`'s own key: what someone holding one member's
    credential would send to act as another."""
    credential = _signer(Settings().credentials_dir, holder).credential
    fields = cli_proof(credential, ref=ref, task=task, actor=Actor(id=holder, role=actor.role), submission=submission)
    claimed = {**fields.model_dump(exclude={"signature"}), "actor": actor.model_dump()}
    return sign(credential, SignedFields.model_validate(claimed))
