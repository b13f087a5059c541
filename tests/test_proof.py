"""The signed envelope on its own: what is signed, and every rule a case refuses a proof by,
each triggered the way an attacker would try it. No server."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from dvds.staff.credentials import Credential
from dvds.staff.signing import Ed25519Verifier, cli_proof, sign, web_proof
from states.proof import (
    ADMISSION_WINDOW,
    CASE_START,
    Claim,
    CliChannel,
    Envelope,
    ProofRefusal,
    ProofRule,
    SignedFields,
    SignedTask,
    SignIn,
    WebChannel,
    admission_refusal,
    canonical_json,
    proof_refusal,
    signed_bytes,
    submission_digest,
)
from states.record import Actor
from states.roles import Role, Task
from states.staff import StaffDirectory, StaffKey, StaffMember, key_fingerprint
from states.submissions import Withdrawal, WithdrawalReason

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADDED = NOW - timedelta(days=30)
VERIFIER = Ed25519Verifier()
REF = "DVDS-2026-000123"
OPERATOR = Actor(id="OP1", role=Role.operator)
SUBMISSION = Withdrawal(reason=WithdrawalReason.applicant_withdrew, note="Applicant rang to withdraw")


def credential(seed: int) -> Credential:
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    raw = private.public_key().public_bytes_raw()
    return Credential(key_fingerprint(raw), private, Path(f"/nowhere/{seed}.pem"))


def staff_key(cred: Credential, added_at: datetime = ADDED, revoked_at: datetime | None = None) -> StaffKey:
    raw = cred.private_key.public_key().public_bytes_raw()
    return StaffKey(id=cred.key_id, public_key=base64.b64encode(raw).decode(), added_at=added_at, revoked_at=revoked_at)


OP1_KEY, OP1_SECOND_KEY, OP2_KEY, WEB_KEY, STRANGER_KEY = (credential(n) for n in range(1, 6))


def directory(*, op1_keys: list[StaffKey] | None = None, op1_active: bool = True) -> StaffDirectory:
    return StaffDirectory(
        staff=[
            StaffMember(id="OP1", name="Olive", roles=[Role.operator], team="control-room", active=op1_active,
                        public_keys=op1_keys if op1_keys is not None else [staff_key(OP1_KEY),
                                                                            staff_key(OP1_SECOND_KEY)]),
            StaffMember(id="OP2", name="Oscar", roles=[Role.operator], team="control-room",
                        public_keys=[staff_key(OP2_KEY)]),
        ],
        web_keys=[staff_key(WEB_KEY)],
    )


def claim(ref: str = REF, task: SignedTask = Task.withdrawal, actor: Actor = OPERATOR,
          submission: BaseModel = SUBMISSION) -> Claim:
    return Claim.of(ref, task, actor, submission)


def signed(cred: Credential = OP1_KEY, *, actor: Actor = OPERATOR, at: datetime = NOW, ref: str = REF,
           task: Task = Task.withdrawal, submission: BaseModel = SUBMISSION) -> Envelope:
    return cli_proof(cred, ref=ref, task=task, actor=actor, submission=submission, now=at)


def admit(envelope: Envelope | None, the_claim: Claim | None = None, the_directory: StaffDirectory | None = None,
          *, seen: frozenset[str] = frozenset(), now: datetime = NOW) -> ProofRule | None:
    refusal = admission_refusal(envelope, the_claim or claim(), the_directory or directory(), VERIFIER,
                                seen_nonces=seen, now=now)
    return refusal.rule if refusal else None


class TestWhatIsSigned:
    """The canonical form and the signed bytes are one fixed thing, on both sides."""

    def test_canonical_json_is_sorted_compact_utf8(self) -> None:
        """Keys sorted, no spaces, non-ASCII as UTF-8 bytes, not escapes."""
        assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'.encode()

    def test_canonical_json_refuses_nan(self) -> None:
        """NaN has no JSON form, so it cannot be signed ambiguously."""
        with pytest.raises(ValueError):
            canonical_json({"x": float("nan")})

    def test_signature_is_not_among_the_signed_bytes(self) -> None:
        """An envelope's signed bytes are its fields' bytes: the signature is left out."""
        envelope = signed()
        fields = SignedFields.model_validate(envelope.model_dump(exclude={"signature"}))
        assert signed_bytes(envelope) == signed_bytes(fields)
        assert envelope.signature.encode() not in signed_bytes(envelope)

    def test_digest_is_of_the_submission_as_the_case_sees_it(self) -> None:
        """Whitespace the model strips, and a default spelled out, do not change the digest."""
        as_typed = Withdrawal.model_validate({"reason": "applicant_withdrew", "note": "  Applicant rang to withdraw "})
        assert submission_digest(as_typed) == submission_digest(SUBMISSION)
        changed = Withdrawal(reason=WithdrawalReason.applicant_withdrew, note="Applicant rang to withdraw!")
        assert submission_digest(changed) != submission_digest(SUBMISSION)

    def test_signing_time_is_kept_in_utc(self) -> None:
        """A time given in another zone is signed as the same instant in UTC."""
        envelope = signed(at=NOW.astimezone(ZoneInfo("Europe/London")))
        assert envelope.signed_at.utcoffset() == timedelta(0)
        assert admit(envelope) is None


class TestAccepted:
    """A genuine proof is accepted, before and after crossing a wire."""

    def test_cli_proof_round_trips_through_json(self) -> None:
        """Signed, sent as JSON, read back: still accepted, and timelessly valid for an auditor."""
        envelope = Envelope.model_validate_json(signed().model_dump_json())
        assert admit(envelope) is None
        assert proof_refusal(envelope, claim(), directory(), VERIFIER) is None

    def test_web_proof_is_accepted_and_records_the_sign_in(self) -> None:
        """The web inbox signs for the person its sign-in checked; the session appears only as a hash."""
        envelope = web_proof(WEB_KEY, ref=REF, task=Task.withdrawal, actor=OPERATOR, submission=SUBMISSION,
                             sign_in=SignIn.sso, session_id="session-secret-123", now=NOW)
        assert isinstance(envelope.channel, WebChannel)
        assert envelope.channel.sign_in is SignIn.sso
        assert "session-secret-123" not in envelope.model_dump_json()
        assert admit(Envelope.model_validate_json(envelope.model_dump_json())) is None

    def test_case_start_is_signed_like_a_task(self) -> None:
        """Starting a case carries a proof too, for the task `case_start`."""
        envelope = cli_proof(OP1_KEY, ref=REF, task=CASE_START, actor=OPERATOR, submission=SUBMISSION, now=NOW)
        assert admit(envelope, claim(task=CASE_START)) is None
        assert admit(envelope) is ProofRule.signed_for_another_task

    def test_inside_the_window_either_way(self) -> None:
        """Clocks a little apart are fine: the window is ten minutes by default, and configurable."""
        assert admit(signed(at=NOW - ADMISSION_WINDOW + timedelta(seconds=1))) is None
        assert admit(signed(at=NOW + ADMISSION_WINDOW - timedelta(seconds=1))) is None
        refusal = admission_refusal(signed(at=NOW - timedelta(minutes=2)), claim(), directory(), VERIFIER,
                                    seen_nonces=set(), now=NOW, window=timedelta(minutes=1))
        assert refusal is not None and refusal.rule is ProofRule.nonce_too_old


class TestRefused:
    """Each attacker-style change is refused with its own rule."""

    def test_no_proof(self) -> None:
        """A submission with no envelope, or an envelope with its signature stripped."""
        assert admit(None) is ProofRule.signature_missing
        assert admit(signed().model_copy(update={"signature": ""})) is ProofRule.signature_missing

    def test_signature_tampered(self) -> None:
        """A flipped bit or garbage in the signature."""
        raw = bytearray(base64.b64decode(signed().signature))
        raw[0] ^= 1
        flipped = signed().model_copy(update={"signature": base64.b64encode(raw).decode()})
        assert admit(flipped) is ProofRule.signature_bad
        assert admit(signed().model_copy(update={"signature": "not base64!"})) is ProofRule.signature_bad

    def test_submission_altered_after_signing(self) -> None:
        """The note changed after the member signed it."""
        altered = Withdrawal(reason=WithdrawalReason.applicant_withdrew, note="Applicant did NOT withdraw")
        assert admit(signed(), claim(submission=altered)) is ProofRule.submission_altered

    def test_altered_and_digest_rewritten(self) -> None:
        """Altering the submission and rewriting the envelope's digest to match breaks the signature."""
        altered = Withdrawal(reason=WithdrawalReason.cannot_contact_safely, note="Applicant rang to withdraw")
        forged = signed().model_copy(update={"submission_digest": submission_digest(altered)})
        assert admit(forged, claim(submission=altered)) is ProofRule.signature_bad

    def test_moved_to_another_case(self) -> None:
        """A valid proof replayed on another case, as it is and with its ref rewritten."""
        other = "DVDS-2026-000999"
        assert admit(signed(), claim(ref=other)) is ProofRule.signed_for_another_case
        assert admit(signed().model_copy(update={"ref": other}), claim(ref=other)) is ProofRule.signature_bad

    def test_moved_to_another_task(self) -> None:
        """A proof for a withdrawal presented as a deadline extension."""
        assert admit(signed(), claim(task=Task.deadline_extension)) is ProofRule.signed_for_another_task

    def test_presented_for_another_actor(self) -> None:
        """OP1's proof presented with OP2 as the actor, or with another role."""
        assert admit(signed(), claim(actor=Actor(id="OP2", role=Role.operator))) is ProofRule.signed_for_another_actor
        assert admit(signed(), claim(actor=Actor(id="OP1", role=Role.supervisor))) is ProofRule.signed_for_another_actor

    def test_signed_with_another_members_key(self) -> None:
        """OP2 signs a task naming OP1 as the actor, with OP2's own key."""
        forged = sign(OP2_KEY, signed().model_copy(update={"channel": CliChannel(key_id=OP2_KEY.key_id)}))
        assert admit(forged) is ProofRule.key_not_the_actors

    def test_signed_with_a_key_nobody_holds(self) -> None:
        """A fresh key pair, not in the directory, naming OP1."""
        assert admit(signed(STRANGER_KEY)) is ProofRule.key_not_the_actors

    def test_member_key_passed_off_as_the_web(self) -> None:
        """A member signs with their own key but claims the web channel: not a web key."""
        channel = WebChannel(key_id=OP1_KEY.key_id, sign_in=SignIn.password, session_hash="0" * 64)
        forged = sign(OP1_KEY, signed().model_copy(update={"channel": channel}))
        assert admit(forged) is ProofRule.web_key_unknown

    def test_unknown_web_key(self) -> None:
        """A web proof from a service key the directory does not list."""
        envelope = web_proof(STRANGER_KEY, ref=REF, task=Task.withdrawal, actor=OPERATOR, submission=SUBMISSION,
                             sign_in=SignIn.password, session_id="s", now=NOW)
        assert admit(envelope) is ProofRule.web_key_unknown

    def test_revoked_key(self) -> None:
        """A key revoked an hour ago signs now: refused. What it signed before still verifies."""
        keys = [staff_key(OP1_KEY, revoked_at=NOW - timedelta(hours=1))]
        assert admit(signed(), the_directory=directory(op1_keys=keys)) is ProofRule.key_revoked
        earlier = signed(at=NOW - timedelta(hours=2))
        assert proof_refusal(earlier, claim(), directory(op1_keys=keys), VERIFIER) is None

    def test_key_used_before_it_was_added(self) -> None:
        """A signing time before the key existed is not covered by it."""
        keys = [staff_key(OP1_KEY, added_at=NOW + timedelta(minutes=1))]
        assert admit(signed(), the_directory=directory(op1_keys=keys)) is ProofRule.key_not_yet_valid

    def test_inactive_member(self) -> None:
        """A leaver made inactive is refused at once; their earlier tasks still verify for an auditor."""
        leaver = directory(op1_active=False)
        assert admit(signed(), the_directory=leaver) is ProofRule.member_inactive
        assert proof_refusal(signed(), claim(), leaver, VERIFIER) is None

    def test_replayed_nonce(self) -> None:
        """The same valid proof sent twice to one case."""
        envelope = signed()
        assert admit(envelope, seen=frozenset({envelope.nonce})) is ProofRule.nonce_seen

    def test_too_old_and_from_the_future(self) -> None:
        """A proof kept back past the window, or dated ahead of the case's clock."""
        assert admit(signed(at=NOW - timedelta(minutes=11))) is ProofRule.nonce_too_old
        assert admit(signed(at=NOW + timedelta(minutes=11))) is ProofRule.from_the_future

    def test_refusals_name_the_rule_never_the_data(self) -> None:
        """No ref, staff id, key id, nonce or submission text in any refusal message."""
        envelope = signed()
        secrets_in_play = [REF, "OP1", OP1_KEY.key_id, envelope.nonce, SUBMISSION.note, envelope.submission_digest]
        for rule in ProofRule:
            text = ProofRefusal(rule).message
            assert f"rule {rule}" in text
            assert not any(value in text for value in secrets_in_play)


# --- properties over the envelope's fields ---

refs = st.from_regex(r"[A-Z][A-Z0-9]{1,9}-[0-9]{4}-[0-9]{1,8}", fullmatch=True)
tasks = st.sampled_from([*Task, CASE_START])
actors = st.builds(Actor, id=st.from_regex(r"[A-Za-z0-9._-]{1,64}", fullmatch=True), role=st.sampled_from(Role))
hex_digests = st.text("0123456789abcdef", min_size=64, max_size=64)
nonces = st.text("0123456789abcdef", min_size=32, max_size=32)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
key_seeds = st.binary(min_size=32, max_size=32)


@st.composite
def signed_fields(draw: st.DrawFn) -> SignedFields:
    return SignedFields(ref=draw(refs), task=draw(tasks), actor=draw(actors), submission_digest=draw(hex_digests),
                        nonce=draw(nonces), signed_at=draw(times), channel=CliChannel(key_id=OP1_KEY.key_id))


def holder_directory(fields: SignedFields, *keys: Credential) -> StaffDirectory:
    """A directory where the envelope's actor holds these keys (valid since long before any test time)."""
    since = datetime(1999, 1, 1, tzinfo=UTC)
    return StaffDirectory(staff=[StaffMember(id=fields.actor.id, name="X", roles=[fields.actor.role], team="t",
                                             public_keys=[staff_key(k, added_at=since) for k in keys])])


def claim_of(envelope: SignedFields) -> Claim:
    return Claim(envelope.ref, envelope.task, envelope.actor, envelope.submission_digest)


REPLACEMENTS = {"ref": refs, "task": tasks, "actor": actors, "submission_digest": hex_digests, "nonce": nonces,
                "signed_at": times,
                "channel": st.sampled_from([CliChannel(key_id=OP1_SECOND_KEY.key_id),
                                            WebChannel(key_id=WEB_KEY.key_id, sign_in=SignIn.password,
                                                       session_hash="0" * 64)])}


class TestProperties:
    """Over any envelope: a signature binds every signed field, and only its own key verifies it."""

    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
    @given(fields=signed_fields())
    def test_round_trip(self, fields: SignedFields) -> None:
        """Any envelope, signed and read back from JSON, is a valid proof of what it says."""
        envelope = Envelope.model_validate(json.loads(sign(OP1_KEY, fields).model_dump_json()))
        assert proof_refusal(envelope, claim_of(envelope), holder_directory(fields, OP1_KEY), VERIFIER) is None

    @settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
    @given(fields=signed_fields(), data=st.data())
    def test_any_change_to_a_signed_field_fails(self, fields: SignedFields, data: st.DataObject) -> None:
        """Change one signed field (and the claim to match it): the proof no longer holds."""
        name = data.draw(st.sampled_from(sorted(REPLACEMENTS)))
        value = data.draw(REPLACEMENTS[name].filter(lambda v: v != getattr(fields, name)))
        envelope = sign(OP1_KEY, fields)
        tampered = Envelope.model_validate({**dict(envelope), name: value})
        the_directory = holder_directory(fields, OP1_KEY, OP1_SECOND_KEY)
        the_directory.web_keys.append(staff_key(WEB_KEY, added_at=datetime(1999, 1, 1, tzinfo=UTC)))
        refusal = proof_refusal(tampered, claim_of(tampered), the_directory, VERIFIER)
        assert refusal is not None
        # The claim matches the tampered fields, so only the key or the signature can catch it.
        assert refusal.rule in {ProofRule.signature_bad, ProofRule.key_not_the_actors}

    @settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
    @given(fields=signed_fields(), seed=key_seeds, other_seed=key_seeds)
    def test_signature_verifies_only_under_its_own_key(self, fields: SignedFields, seed: bytes,
                                                       other_seed: bytes) -> None:
        """Ed25519 through the Verifier: true for the signer's public key, false for any other."""
        signer = Ed25519PrivateKey.from_private_bytes(seed)
        other = Ed25519PrivateKey.from_private_bytes(other_seed)
        data = signed_bytes(fields)
        signature = signer.sign(data)
        assert VERIFIER.verify(signer.public_key().public_bytes_raw(), signature, data)
        if signer.public_key().public_bytes_raw() != other.public_key().public_bytes_raw():
            assert not VERIFIER.verify(other.public_key().public_bytes_raw(), signature, data)
