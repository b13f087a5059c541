"""Who signs what a face submits: the Signer a CaseClient is given.

- `MemberSigner`: the command line, with the member's own credential; it signs only as them.
- `WebSigner`: the inbox, with its service key, for the member its sign-in authenticated.
`member_signer` loads a member's credential from the credentials directory (Settings), with
the error that says how to enrol when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from dvds.staff.credentials import Credential, CredentialError, credential_path, load_credential, needs_passphrase
from dvds.staff.signing import cli_proof, web_proof
from states.actor import Actor
from states.proof import Envelope, SignedTask, SignIn


class Signer(Protocol):
    def sign(self, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Envelope: ...


@dataclass(frozen=True)
class MemberSigner:
    staff_id: str
    credential: Credential

    def sign(self, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Envelope:
        if actor.id != self.staff_id:
            raise CredentialError(f"actor: the credential loaded is {self.staff_id}'s; it cannot sign as {actor.id}")
        return cli_proof(self.credential, ref=ref, task=task, actor=actor, submission=submission)


@dataclass(frozen=True)
class WebSigner:
    service_key: Credential
    sign_in: SignIn
    session_id: str

    def sign(self, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Envelope:
        return web_proof(self.service_key, ref=ref, task=task, actor=actor, submission=submission,
                         sign_in=self.sign_in, session_id=self.session_id)


def member_signer(credentials_dir: Path, staff_id: str, passphrase: str | None = None) -> MemberSigner:
    """The signer for `staff_id`, from `<credentials_dir>/<staff_id>.pem`."""
    path = credential_path(credentials_dir, staff_id)
    if not path.exists():
        raise CredentialError(
            f"credential: no credential for {staff_id} at {path}; enrol with `dvds staff enrol {staff_id}` "
            "(DVDS_CREDENTIALS_DIR says where credentials are kept)"
        )
    return MemberSigner(staff_id, load_credential(path, passphrase))


def credential_needs_passphrase(credentials_dir: Path, staff_id: str) -> bool:
    return needs_passphrase(credential_path(credentials_dir, staff_id))
