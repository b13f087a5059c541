"""Signing a submission and checking a signature: the Ed25519 half of `states.proof`.

`sign` turns the signed fields into an envelope with a credential; `cli_proof` and `web_proof`
build the fields (a fresh 128-bit nonce, the time, the channel) for the two faces.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from dvds.staff.credentials import Credential, CredentialError
from states.proof import (
    CliChannel,
    Envelope,
    SignedFields,
    SignedTask,
    SignIn,
    WebChannel,
    session_digest,
    signed_bytes,
    submission_digest,
)
from states.record import Actor


class Ed25519Verifier:
    """The real `states.proof.Verifier`."""

    def verify(self, public_key: bytes, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
        except (InvalidSignature, ValueError):
            return False
        return True


def sign(credential: Credential, fields: SignedFields) -> Envelope:
    """Sign the fields with the credential. The channel must name this credential's key."""
    if fields.channel.key_id != credential.key_id:
        raise CredentialError("channel.key_id: not the key of this credential")
    signature = credential.private_key.sign(signed_bytes(fields))
    return Envelope.model_validate({**dict(fields), "signature": base64.b64encode(signature).decode("ascii")})


def cli_proof(
    credential: Credential,
    *,
    ref: str,
    task: SignedTask,
    actor: Actor,
    submission: BaseModel,
    now: datetime | None = None,
) -> Envelope:
    """The proof `dvds task complete` and `dvds case start` attach: signed with the member's key."""
    return sign(credential, _fields(ref, task, actor, submission, CliChannel(key_id=credential.key_id), now))


def web_proof(
    service_key: Credential,
    *,
    ref: str,
    task: SignedTask,
    actor: Actor,
    submission: BaseModel,
    sign_in: SignIn,
    session_id: str,
    now: datetime | None = None,
) -> Envelope:
    """The proof the web inbox attaches: what its sign-in authenticated, signed with its service key."""
    channel = WebChannel(key_id=service_key.key_id, sign_in=sign_in, session_hash=session_digest(session_id))
    return sign(service_key, _fields(ref, task, actor, submission, channel, now))


def _fields(
    ref: str,
    task: SignedTask,
    actor: Actor,
    submission: BaseModel,
    channel: CliChannel | WebChannel,
    now: datetime | None,
) -> SignedFields:
    return SignedFields(
        ref=ref,
        task=task,
        actor=actor,
        submission_digest=submission_digest(submission),
        nonce=secrets.token_hex(16),
        signed_at=now or datetime.now(UTC),
        channel=channel,
    )
