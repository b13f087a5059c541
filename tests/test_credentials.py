"""Personal credentials and the web service key, on real files in a temporary folder: enrol,
load, rotate, revoke, and the staff file edited in place. No server."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dvds.staff.credentials import (
    CredentialError,
    credential_path,
    enrol,
    ensure_web_key,
    load_credential,
    needs_passphrase,
    revoke,
    revoke_web_key,
)
from dvds.staff.directory import StaffFileError, read_staff
from dvds.staff.editing import edit_staff_json
from dvds.staff.signing import Ed25519Verifier, cli_proof, web_proof
from states.proof import Claim, Envelope, ProofRule, SignIn, admission_refusal, proof_refusal
from states.record import Actor
from states.roles import Role, Task
from states.submissions import Withdrawal, WithdrawalReason

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "staff.json"
VERIFIER = Ed25519Verifier()
REF = "DVDS-2026-000042"
OPERATOR = Actor(id="OP1", role=Role.operator)
SUBMISSION = Withdrawal(reason=WithdrawalReason.applicant_withdrew, note="Applicant rang to withdraw")
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff(tmp_path: Path) -> Path:
    path = tmp_path / "staff.json"
    shutil.copyfile(EXAMPLE, path)
    return path


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    return tmp_path / "home" / ".config" / "dvds" / "credentials"


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that would leave new files world-readable, as a careless shell might have."""
    old = os.umask(0)
    yield
    os.umask(old)


def task_claim(actor: Actor = OPERATOR) -> Claim:
    return Claim.of(REF, Task.withdrawal, actor, SUBMISSION)


def proof_of(pem: Path, passphrase: str | None = None, at: datetime = T0) -> Envelope:
    return cli_proof(load_credential(pem, passphrase), ref=REF, task=Task.withdrawal, actor=OPERATOR,
                     submission=SUBMISSION, now=at)


class TestEnrol:
    """`enrol` writes a private key only its holder can read, and its public half to the directory."""

    def test_writes_a_private_key_file_and_records_the_public_key(self, staff: Path, creds: Path,
                                                                   loose_umask: None) -> None:
        """Mode 0600 (whatever the umask), in a 0700 folder; the key id is in the directory under OP1."""
        pem = credential_path(creds, "OP1")
        key = enrol("OP1", staff, pem, now=T0)
        assert pem.stat().st_mode & 0o777 == 0o600
        assert creds.stat().st_mode & 0o777 == 0o700
        member = read_staff(staff).find("OP1")
        assert member is not None and [k.id for k in member.public_keys] == [key.id]
        assert load_credential(pem).key_id == key.id

    def test_the_signed_proof_is_accepted(self, staff: Path, creds: Path) -> None:
        """What an enrolled member signs is a valid proof against the directory enrol wrote."""
        pem = credential_path(creds, "OP1")
        enrol("OP1", staff, pem, now=T0)
        envelope = proof_of(pem, at=T0 + timedelta(minutes=1))
        refusal = admission_refusal(envelope, task_claim(), read_staff(staff), VERIFIER,
                                    seen_nonces=set(), now=T0 + timedelta(minutes=1))
        assert refusal is None

    def test_keeps_the_rest_of_the_staff_file(self, staff: Path, creds: Path) -> None:
        """Other members, other fields and the file's mode are as they were."""
        data = json.loads(staff.read_text())
        data["staff"][0]["password_hash"] = "$argon2id$kept"
        staff.write_text(json.dumps(data))
        staff.chmod(0o640)
        enrol("OP1", staff, credential_path(creds, "OP1"), now=T0)
        after = json.loads(staff.read_text())
        assert after["staff"][0]["password_hash"] == "$argon2id$kept"
        assert [m["id"] for m in after["staff"]] == [m["id"] for m in data["staff"]]
        assert {k: v for k, v in after["staff"][0].items() if k != "public_keys"} == data["staff"][0]
        assert after["staff"][1:] == data["staff"][1:]
        assert staff.stat().st_mode & 0o777 == 0o640

    def test_passphrase_protects_the_key(self, staff: Path, creds: Path) -> None:
        """The file is encrypted; loading it needs the passphrase, and a wrong one is named as such."""
        pem = credential_path(creds, "OP1")
        enrol("OP1", staff, pem, "correct horse battery", now=T0)
        assert needs_passphrase(pem)
        assert b"ENCRYPTED PRIVATE KEY" in pem.read_bytes()
        with pytest.raises(CredentialError, match="protected by a passphrase"):
            load_credential(pem)
        with pytest.raises(CredentialError, match="wrong passphrase"):
            load_credential(pem, "wrong horse")
        assert load_credential(pem, "correct horse battery").key_id

    def test_no_passphrase_key_refuses_one(self, staff: Path, creds: Path) -> None:
        """A key without a passphrase says so rather than pretending the given one worked."""
        pem = credential_path(creds, "OP1")
        enrol("OP1", staff, pem, now=T0)
        assert not needs_passphrase(pem)
        with pytest.raises(CredentialError, match="has no passphrase"):
            load_credential(pem, "anything")

    def test_refuses_an_existing_file_and_changes_nothing(self, staff: Path, creds: Path) -> None:
        """Enrolling again onto the same file without rotating is refused: key and directory unchanged."""
        pem = credential_path(creds, "OP1")
        enrol("OP1", staff, pem, now=T0)
        before = (pem.read_bytes(), staff.read_bytes())
        with pytest.raises(CredentialError, match="already exists"):
            enrol("OP1", staff, pem, now=T0)
        assert (pem.read_bytes(), staff.read_bytes()) == before

    def test_refuses_a_planted_link(self, staff: Path, creds: Path, tmp_path: Path) -> None:
        """A symlink left where the key would go is not followed: nothing written through it."""
        creds.mkdir(parents=True)
        target = tmp_path / "attacker-reads-this"
        credential_path(creds, "OP1").symlink_to(target)
        with pytest.raises(CredentialError, match="already exists"):
            enrol("OP1", staff, credential_path(creds, "OP1"), now=T0)
        assert not target.exists()
        assert read_staff(staff).find("OP1").public_keys == []  # type: ignore[union-attr]

    def test_unknown_or_inactive_member_leaves_no_file(self, staff: Path, creds: Path) -> None:
        """An id not in the directory, or inactive, is refused before any key is made."""
        with pytest.raises(StaffFileError, match="NOBODY is not in the staff directory"):
            enrol("NOBODY", staff, credential_path(creds, "NOBODY"))
        data = json.loads(staff.read_text())
        data["staff"][0]["active"] = False
        staff.write_text(json.dumps(data))
        with pytest.raises(StaffFileError, match="not active"):
            enrol("OP1", staff, credential_path(creds, "OP1"))
        assert not creds.exists() or list(creds.iterdir()) == []

    def test_toml_directory_is_refused_before_any_key(self, tmp_path: Path, creds: Path) -> None:
        """Enrolling edits the staff file, which needs JSON; TOML is refused up front."""
        toml = tmp_path / "staff.toml"
        toml.write_text('[[staff]]\nid = "OP1"\nname = "O"\nroles = ["operator"]\nteam = "t"\n')
        with pytest.raises(StaffFileError, match="TOML"):
            enrol("OP1", toml, credential_path(creds, "OP1"))
        assert not creds.exists()

    def test_credential_path_is_per_person(self, creds: Path) -> None:
        """`<dir>/<ID>.pem`, and an id that would name a folder is refused."""
        assert credential_path(creds, "R100") == creds / "R100.pem"
        with pytest.raises(CredentialError, match="staff_id"):
            credential_path(creds, "..")


class TestLoad:
    """Loading refuses what would be unsafe to sign with, and says how to put it right."""

    def test_missing_says_how_to_enrol(self, creds: Path) -> None:
        """No file: the error names the command to enrol."""
        with pytest.raises(CredentialError, match="dvds staff enrol ID"):
            load_credential(credential_path(creds, "OP1"))

    @pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
    def test_readable_by_others_is_refused(self, staff: Path, creds: Path, mode: int) -> None:
        """A key file group or others can read is not used, and the fix is named."""
        pem = credential_path(creds, "OP1")
        enrol("OP1", staff, pem)
        pem.chmod(mode)
        with pytest.raises(CredentialError, match="chmod 600"):
            load_credential(pem)

    def test_not_a_key(self, creds: Path) -> None:
        """A private file that is not a PEM key is named as such."""
        creds.mkdir(parents=True)
        pem = credential_path(creds, "OP1")
        pem.write_text("hello")
        pem.chmod(0o600)
        with pytest.raises(CredentialError, match="not a PEM private key"):
            load_credential(pem)


class TestRotateAndRevoke:
    """Keys change over time; what was signed under an old key still verifies."""

    def test_rotation_keeps_old_signatures_verifiable(self, staff: Path, creds: Path) -> None:
        """A new key replaces the file; the old public key stays, so last year's proof still holds."""
        pem = credential_path(creds, "OP1")
        old = enrol("OP1", staff, pem, now=T0)
        old_proof = proof_of(pem, at=T0 + timedelta(days=1))
        new = enrol("OP1", staff, pem, rotate=True, now=T0 + timedelta(days=365))
        assert pem.stat().st_mode & 0o777 == 0o600
        assert load_credential(pem).key_id == new.id != old.id
        directory = read_staff(staff)
        assert [k.id for k in directory.find("OP1").public_keys] == [old.id, new.id]  # type: ignore[union-attr]
        assert proof_refusal(old_proof, task_claim(), directory, VERIFIER) is None
        new_proof = proof_of(pem, at=T0 + timedelta(days=366))
        assert proof_refusal(new_proof, task_claim(), directory, VERIFIER) is None

    def test_revoked_key_verifies_only_what_it_signed_before(self, staff: Path, creds: Path, tmp_path: Path) -> None:
        """Revoked at T: a proof from before T holds, one signed after T is refused as key_revoked."""
        pem = credential_path(creds, "OP1")
        key = enrol("OP1", staff, pem, now=T0)
        before = proof_of(pem, at=T0 + timedelta(hours=1))
        stolen_copy = tmp_path / "stolen.pem"
        shutil.copyfile(pem, stolen_copy)
        stolen_copy.chmod(0o600)
        revoke("OP1", key.id, T0 + timedelta(hours=2), staff)
        directory = read_staff(staff)
        assert proof_refusal(before, task_claim(), directory, VERIFIER) is None
        after = proof_of(stolen_copy, at=T0 + timedelta(hours=3))
        refusal = proof_refusal(after, task_claim(), directory, VERIFIER)
        assert refusal is not None and refusal.rule is ProofRule.key_revoked

    def test_revoking_again_never_moves_the_time_later(self, staff: Path, creds: Path) -> None:
        """A second, later revocation keeps the first time; an earlier one moves it earlier."""
        key = enrol("OP1", staff, credential_path(creds, "OP1"), now=T0)
        revoke("OP1", key.id, T0 + timedelta(hours=2), staff)
        assert revoke("OP1", key.id, T0 + timedelta(days=9), staff).revoked_at == T0 + timedelta(hours=2)
        assert revoke("OP1", key.id, T0 + timedelta(hours=1), staff).revoked_at == T0 + timedelta(hours=1)

    def test_revoke_refuses_what_does_not_fit(self, staff: Path, creds: Path) -> None:
        """Another member's key, a time before the key existed, or no time zone: refused, file unchanged."""
        key = enrol("OP1", staff, credential_path(creds, "OP1"), now=T0)
        before = staff.read_bytes()
        with pytest.raises(CredentialError, match="is not a key of R100"):
            revoke("R100", key.id, T0 + timedelta(hours=1), staff)
        with pytest.raises(CredentialError, match="before the key was added"):
            revoke("OP1", key.id, T0 - timedelta(hours=1), staff)
        with pytest.raises(CredentialError, match="time zone"):
            revoke("OP1", key.id, datetime(2026, 2, 1), staff)
        assert staff.read_bytes() == before


class TestWebKey:
    """The web inbox's own key: made once, listed in the directory, revocable."""

    def test_made_once_listed_once(self, staff: Path, tmp_path: Path) -> None:
        """First start makes a 0600 key and lists it; the next start loads the same key, listed once."""
        path = tmp_path / "home" / "web-signing.pem"
        first = ensure_web_key(path, staff, now=T0)
        assert path.stat().st_mode & 0o777 == 0o600
        second = ensure_web_key(path, staff, now=T0 + timedelta(days=1))
        assert first.key_id == second.key_id
        assert [k.id for k in read_staff(staff).web_keys] == [first.key_id]

    def test_web_proof_verifies_and_revocation_stops_it(self, staff: Path, tmp_path: Path) -> None:
        """A proof signed by the listed key holds; once revoked the key is not loaded for signing again."""
        path = tmp_path / "web-signing.pem"
        service = ensure_web_key(path, staff, now=T0)
        envelope = web_proof(service, ref=REF, task=Task.withdrawal, actor=OPERATOR, submission=SUBMISSION,
                             sign_in=SignIn.password, session_id="abc", now=T0 + timedelta(minutes=1))
        assert proof_refusal(envelope, task_claim(), read_staff(staff), VERIFIER) is None
        revoke_web_key(service.key_id, T0 + timedelta(hours=1), staff)
        with pytest.raises(CredentialError, match="revoked"):
            ensure_web_key(path, staff)


class TestEditStaffJson:
    """The one way the staff file is changed in place."""

    def test_an_edit_that_breaks_the_directory_writes_nothing(self, staff: Path) -> None:
        """A change that would leave an invalid directory is refused naming the field; the file is as it was."""
        before = staff.read_bytes()

        def bad(data: dict[str, object]) -> None:
            data["staff"][0]["roles"] = []  # type: ignore[index]

        with pytest.raises(StaffFileError, match=r"staff\.0\.roles"):
            edit_staff_json(staff, bad)
        assert staff.read_bytes() == before
        assert [p.name for p in staff.parent.iterdir()] == ["staff.json"]
