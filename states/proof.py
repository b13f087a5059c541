"""Proof of who submitted a task: the signed envelope, exactly what is signed, and the rules
a case checks it against.

The signature covers the case, the task, the actor, a digest of the submission, a nonce and
its time, and the channel (the member's own key on the command line, or the web inbox's
service key with the sign-in it checked). A refusal names the rule, never the data.

Pure: Ed25519 itself is behind `Verifier`, so this module needs no crypto library and no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Literal, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from states.actor import Actor
from states.models import CaseRef
from states.roles import Task
from states.staff import KeyId, StaffDirectory, StaffKey

# Starting a case is signed too; it is not a task a case waits for, so it is not in Task.
CASE_START: Literal["case_start"] = "case_start"
SignedTask = Task | Literal["case_start"]

Nonce = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{32}$")]  # 128 random bits, hex
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

# How far a signing time may be from the case's now, either way. Replays inside the window are
# caught by the nonce; outside it, by the time.
ADMISSION_WINDOW = timedelta(minutes=10)

# Prefixed so these bytes can never be mistaken for another message signed with the same key.
SIGNED_PREFIX = b"DVDS task proof v1\n"


def canonical_json(value: object) -> bytes:
    """The one canonical form, used by signer and checker alike: sorted keys, no spaces, UTF-8."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def submission_digest(submission: BaseModel) -> str:
    """SHA-256 of the submission as the case will see it (the validated model, not the raw input).

    Fields left at their defaults are left out, so a field added to a model later (with a
    default) does not change the digest of what was signed before it existed.
    """
    return hashlib.sha256(canonical_json(submission.model_dump(mode="json", exclude_defaults=True))).hexdigest()


def session_digest(session_id: str) -> str:
    """What a web proof records of the sign-in session: a hash, never the session id itself."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SignIn(StrEnum):
    password = "password"
    sso = "sso"


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, frozen=True)


class CliChannel(_Part):
    """Signed on the command line with the member's own key."""

    kind: Literal["cli"] = "cli"
    key_id: KeyId


class WebChannel(_Part):
    """Signed by the web inbox's service key, for the person its sign-in authenticated."""

    kind: Literal["web"] = "web"
    key_id: KeyId
    sign_in: SignIn
    session_hash: Sha256Hex


Channel = Annotated[CliChannel | WebChannel, Field(discriminator="kind")]


class SignedFields(_Part):
    """Everything the signature covers. A new field means a new `version` and a new prefix."""

    version: Literal[1] = 1
    ref: CaseRef
    task: SignedTask
    actor: Actor
    submission_digest: Sha256Hex
    nonce: Nonce
    signed_at: AwareDatetime
    channel: Channel

    @field_validator("signed_at")
    @classmethod
    def in_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


class Envelope(SignedFields):
    """The signed fields and their signature (base64): what a submission carries as its proof."""

    signature: str = Field(default="", max_length=200)


_V1_FIELDS = frozenset(SignedFields.model_fields)


def signed_bytes(fields: SignedFields) -> bytes:
    """Exactly the bytes that are signed: the prefix, then the signed fields in canonical JSON.

    An Envelope may be passed: its signature is not among the fields signed.
    """
    return SIGNED_PREFIX + canonical_json(fields.model_dump(mode="json", include=set(_V1_FIELDS)))


class Verifier(Protocol):
    def verify(self, public_key: bytes, signature: bytes, data: bytes) -> bool: ...


@dataclass(frozen=True)
class Claim:
    """What the message itself says, which the envelope must match."""

    ref: str
    task: SignedTask
    actor: Actor
    submission_digest: str

    @classmethod
    def of(cls, ref: str, task: SignedTask, actor: Actor, submission: BaseModel) -> Claim:
        return cls(ref, task, actor, submission_digest(submission))


class ProofRule(StrEnum):
    signature_missing = "signature_missing"
    signed_for_another_case = "signed_for_another_case"
    signed_for_another_task = "signed_for_another_task"
    signed_for_another_actor = "signed_for_another_actor"
    submission_altered = "submission_altered"
    key_not_the_actors = "key_not_the_actors"
    web_key_unknown = "web_key_unknown"
    signature_bad = "signature_bad"
    key_not_yet_valid = "key_not_yet_valid"
    key_revoked = "key_revoked"
    member_inactive = "member_inactive"
    nonce_seen = "nonce_seen"
    from_the_future = "from_the_future"
    nonce_too_old = "nonce_too_old"


_RULE_TEXT: dict[ProofRule, str] = {
    ProofRule.signature_missing: "the submission carries no signature",
    ProofRule.signed_for_another_case: "the signature is for another case",
    ProofRule.signed_for_another_task: "the signature is for another task",
    ProofRule.signed_for_another_actor: "the signature is for another actor or role",
    ProofRule.submission_altered: "the submission is not the one that was signed",
    ProofRule.key_not_the_actors: "the signing key is not one of the actor's keys",
    ProofRule.web_key_unknown: "the signing key is not a web service key in the staff directory",
    ProofRule.signature_bad: "the signature does not verify",
    ProofRule.key_not_yet_valid: "the signing key was added after the signing time",
    ProofRule.key_revoked: "the signing key was revoked before the signing time",
    ProofRule.member_inactive: "the actor is not an active member of staff",
    ProofRule.nonce_seen: "the nonce was already used on this case",
    ProofRule.from_the_future: "the signing time is ahead of the case's clock",
    ProofRule.nonce_too_old: "the signing time is too long ago",
}


@dataclass(frozen=True)
class ProofRefusal:
    rule: ProofRule

    @property
    def message(self) -> str:
        return f"proof: {_RULE_TEXT[self.rule]} (rule {self.rule})"


def proof_refusal(
    envelope: Envelope | None, claim: Claim, directory: StaffDirectory, verifier: Verifier
) -> ProofRefusal | None:
    """Was this envelope a valid proof of the claim when it was signed? None if so.

    Timeless, so an auditor can ask it years later: no clock, no nonces, no "active now".
    The envelope is compared with the message first (public facts), the signature is checked
    next, and only an authentic envelope is told about its key's dates.
    """
    if envelope is None or not envelope.signature:
        return ProofRefusal(ProofRule.signature_missing)
    mismatch = _mismatch(envelope, claim)
    if mismatch is not None:
        return ProofRefusal(mismatch)
    key_or_rule = _signing_key(envelope, directory)
    if isinstance(key_or_rule, ProofRule):
        return ProofRefusal(key_or_rule)
    key = key_or_rule
    try:
        signature = base64.b64decode(envelope.signature, validate=True)
    except binascii.Error:
        return ProofRefusal(ProofRule.signature_bad)
    if not verifier.verify(key.public_key_bytes, signature, signed_bytes(envelope)):
        return ProofRefusal(ProofRule.signature_bad)
    if envelope.signed_at < key.added_at:
        return ProofRefusal(ProofRule.key_not_yet_valid)
    if not key.valid_at(envelope.signed_at):
        return ProofRefusal(ProofRule.key_revoked)
    return None


def admission_refusal(
    envelope: Envelope | None,
    claim: Claim,
    directory: StaffDirectory,
    verifier: Verifier,
    *,
    seen_nonces: Container[str],
    now: datetime,
    window: timedelta = ADMISSION_WINDOW,
) -> ProofRefusal | None:
    """May a case accept this submission now? `proof_refusal`, then what holds only at admission:
    the member is active, the nonce is new to the case, and the signing time is within `window`
    of the case's now."""
    refusal = proof_refusal(envelope, claim, directory, verifier)
    if refusal is not None:
        return refusal
    assert envelope is not None
    member = directory.find(envelope.actor.id)
    if member is None or not member.active:
        return ProofRefusal(ProofRule.member_inactive)
    if envelope.nonce in seen_nonces:
        return ProofRefusal(ProofRule.nonce_seen)
    if envelope.signed_at - now > window:
        return ProofRefusal(ProofRule.from_the_future)
    if now - envelope.signed_at > window:
        return ProofRefusal(ProofRule.nonce_too_old)
    return None


def _mismatch(envelope: Envelope, claim: Claim) -> ProofRule | None:
    if envelope.ref != claim.ref:
        return ProofRule.signed_for_another_case
    if envelope.task != claim.task:
        return ProofRule.signed_for_another_task
    if envelope.actor != claim.actor:
        return ProofRule.signed_for_another_actor
    if envelope.submission_digest != claim.submission_digest:
        return ProofRule.submission_altered
    return None


def _signing_key(envelope: Envelope, directory: StaffDirectory) -> StaffKey | ProofRule:
    """The key the envelope names, looked up only where its channel allows: a member's key
    signs only for that member, a web key only through the web channel."""
    if isinstance(envelope.channel, WebChannel):
        return directory.web_key(envelope.channel.key_id) or ProofRule.web_key_unknown
    member = directory.find(envelope.actor.id)
    key = member.key(envelope.channel.key_id) if member is not None else None
    return key or ProofRule.key_not_the_actors
