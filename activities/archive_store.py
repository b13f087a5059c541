"""The append-only archive, the storage adapter auditing writes to and reads from: one
file per closed case, each carrying the hash of the file
before it, so a changed byte, a removed record or a reordering is found by `verify`.

Layout of the archive directory:
    records/00000001_REF_RUNID.json   one line of canonical JSON (ArchiveRecord), read-only
    HEAD                              {"seq": N, "hash": sha256 of record N's bytes}

A record's hash is the SHA-256 of its file's bytes; record N+1 carries record N's hash
(record 1 carries 64 zeros), and HEAD carries the last. Removing the last record and
rewriting HEAD cannot be seen from inside the directory: note the head hash `verify`
prints somewhere else (the audit report, a signed log) and pass it back with --head.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

GENESIS = "0" * 64
_NAME = re.compile(r"^(\d{8})_([A-Z0-9-]+)_([0-9a-f-]+)\.json$")


class ArchiveBroken(Exception):
    """The archive does not end where its HEAD says: appending would hide the damage."""


class ArchiveRecord(BaseModel):
    seq: int
    ref: str
    run_id: str
    status: str
    closed_at: datetime | None
    archived_at: datetime
    previous_hash: str
    timeline: dict[str, Any]
    history: dict[str, Any]  # the last run's raw history
    # A case continued as new: the raw histories of the runs before the last, oldest first.
    earlier_runs: list[dict[str, Any]] = Field(default_factory=list)


class Verification(BaseModel):
    intact: bool
    records: int
    head: str
    problems: list[str]


def _canonical(record: ArchiveRecord) -> bytes:
    body = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return body.encode() + b"\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Archive:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.records_dir = directory / "records"
        self.head_path = directory / "HEAD"

    # ---- reading ---------------------------------------------------------------

    def files(self) -> list[tuple[int, str, str, Path]]:
        """(seq, ref, run_id, path) of every record file, by sequence number."""
        if not self.records_dir.is_dir():
            return []
        found = []
        for path in self.records_dir.iterdir():
            match = _NAME.match(path.name)
            if match:
                found.append((int(match[1]), match[2], match[3], path))
        return sorted(found, key=lambda f: f[0])

    def archived_runs(self) -> set[tuple[str, str]]:
        return {(ref, run_id) for _, ref, run_id, _ in self.files()}

    def head(self) -> tuple[int, str]:
        if not self.head_path.exists():
            return 0, GENESIS
        head = json.loads(self.head_path.read_text())
        return int(head["seq"]), str(head["hash"])

    def find(self, ref: str) -> ArchiveRecord | None:
        """The latest record of a case, or None."""
        matches = [path for _, found, _, path in self.files() if found == ref]
        return ArchiveRecord.model_validate_json(matches[-1].read_bytes()) if matches else None

    def records(self) -> Iterator[ArchiveRecord]:
        for *_, path in self.files():
            yield ArchiveRecord.model_validate_json(path.read_bytes())

    # ---- appending ---------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One writer at a time: the daily schedule and a manual run may overlap."""
        self.records_dir.mkdir(parents=True, exist_ok=True)
        with (self.directory / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _tail(self) -> tuple[int, str]:
        """The last record's seq and hash, checked against HEAD. A record one past HEAD
        that chains onto it is an append interrupted before HEAD moved: HEAD rolls forward."""
        seq, head_hash = self.head()
        files = self.files()
        if not files and seq == 0:
            return 0, GENESIS
        if not files:
            raise ArchiveBroken(f"HEAD names record {seq} but the archive has no records")
        last_seq, *_, last_path = files[-1]
        data = last_path.read_bytes()
        if last_seq == seq and _sha256(data) == head_hash:
            return seq, head_hash
        if last_seq == seq + 1 and ArchiveRecord.model_validate_json(data).previous_hash == head_hash:
            self._write_head(last_seq, _sha256(data))
            return last_seq, _sha256(data)
        raise ArchiveBroken(f"the last record ({last_seq}) does not match HEAD ({seq}); run `dvds audit verify`")

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.directory / "HEAD.tmp"
        tmp.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.head_path)

    def append(
        self, ref: str, run_id: str, status: str, closed_at: datetime | None, archived_at: datetime,
        timeline: dict[str, Any], history: dict[str, Any], earlier_runs: list[dict[str, Any]] | None = None,
    ) -> ArchiveRecord | None:
        """Append one case's record; None when that run is archived already."""
        with self.locked():
            if (ref, run_id) in self.archived_runs():
                return None
            seq, previous = self._tail()
            record = ArchiveRecord(
                seq=seq + 1, ref=ref, run_id=run_id, status=status, closed_at=closed_at, archived_at=archived_at,
                previous_hash=previous, timeline=timeline, history=history, earlier_runs=earlier_runs or [],
            )
            data = _canonical(record)
            path = self.records_dir / f"{record.seq:08d}_{ref}_{run_id}.json"
            # O_EXCL: a record is written once and never overwritten.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            self._write_head(record.seq, _sha256(data))
            return record

    # ---- verifying ---------------------------------------------------------------

    def verify(self, expected_head: str | None = None) -> Verification:
        problems: list[str] = []
        previous, expected_seq = GENESIS, 1
        for seq, ref, run_id, path in self.files():
            if seq != expected_seq:
                problems.append(f"record {expected_seq}{'' if seq == expected_seq + 1 else f'-{seq - 1}'} missing "
                                f"(next is record {seq}, {ref})")
            expected_seq = seq + 1
            data = path.read_bytes()
            try:
                record = ArchiveRecord.model_validate_json(data)
            except ValueError:
                problems.append(f"record {seq} ({ref}) is not a valid record: it was changed")
                previous = _sha256(data)
                continue
            if (record.seq, record.ref, record.run_id) != (seq, ref, run_id):
                problems.append(f"record {seq} ({ref}) holds record {record.seq} ({record.ref}): records were "
                                "renamed or reordered")
            if record.previous_hash != previous:
                problems.append(f"record {seq} ({ref}) does not follow the record before it: that record was "
                                "changed, removed or reordered")
            previous = _sha256(data)
        head_seq, head_hash = self.head()
        last_seq = expected_seq - 1
        if (head_seq, head_hash) != (last_seq, previous):
            problems.append(f"HEAD names record {head_seq} but the archive ends at record {last_seq} with another "
                            "hash: the last record was changed or removed")
        if expected_head is not None and expected_head != head_hash:
            problems.append(f"HEAD is {head_hash}, not the {expected_head} you noted: the archive was rewritten")
        return Verification(intact=not problems, records=last_seq, head=head_hash, problems=problems)
