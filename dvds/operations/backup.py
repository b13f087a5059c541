"""`dvds backup`: one file holding a running embedded server's state, consistent.

- the server's SQLite database, copied with SQLite's online backup API (sqlite3's
  Connection.backup): a snapshot of one moment taken inside a read transaction while the
  server keeps writing (WAL lets readers and the writer go on together), never a file copy
  that could catch a page half written;
- the archive, copied under its lock, so no append lands halfway;
- the staff directory, the IOPC outbox (the referrals filed without a gateway);
- the key ring only when asked (`with_keys`): a backup without it is useless to a thief and
  to you, unless the ring is kept safe elsewhere.

Not kept: the codec token and the web session secret (made again on first start), logs.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from activities.archive_store import Archive
from dvds.connection.keys import load_keys
from dvds.operations.manifest import (
    ARCHIVE,
    DATABASE,
    KEYS,
    MANIFEST,
    OUTBOX,
    PRIVATE,
    STAFF,
    BackedUpFile,
    BackupError,
    Manifest,
    sha256_of,
)
from dvds.settings import Settings

BUSY_TIMEOUT = 60.0  # seconds to wait for the server's write lock before the copy starts


def copy_database(source: Path, target: Path) -> None:
    """The online backup of `source` into `target`, checked, as one self-contained file."""
    try:
        with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT)) as live, closing(sqlite3.connect(target)) as copy:
            live.backup(copy)  # all pages in one step: one consistent moment
            copy.execute("PRAGMA journal_mode=DELETE")  # no -wal beside the copy
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as err:
        raise BackupError(f"database: {source} could not be copied ({err})") from None
    if verdict != "ok":
        raise BackupError(f"database: the copy of {source} failed SQLite's integrity check")


def _copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, copy_function=shutil.copy2)


def back_up(settings: Settings, out: Path, with_keys: bool = False) -> Manifest:
    """Write the backup to `out` (a new file, mode 0600); return its manifest."""
    if out.exists():
        raise BackupError(f"out: {out} already exists; give a new file name")
    if not settings.database.is_file():
        raise BackupError(f"database: no embedded server database at {settings.database} (DVDS_HOME); "
                          "back up a cluster's database with its own tools")
    if not settings.staff_path.is_file():
        raise BackupError(f"staff: no staff directory at {settings.staff_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".dvds-backup-") as staging_dir:
        staging = Path(staging_dir)
        copy_database(settings.database, staging / DATABASE)
        archive = Archive(settings.archive_dir)
        if settings.archive_dir.is_dir():
            with archive.locked():
                _copy_tree(settings.archive_dir, staging / ARCHIVE)
            (staging / ARCHIVE / ".lock").unlink(missing_ok=True)
        shutil.copy2(settings.staff_path, staging / STAFF)
        _copy_tree(settings.outbox, staging / OUTBOX)
        if with_keys:
            (staging / KEYS).write_text(load_keys(settings).model_dump_json(indent=1) + "\n")
            (staging / KEYS).chmod(PRIVATE)
        manifest = Manifest(
            created_at=datetime.now(UTC), source_home=str(settings.home), with_keys=with_keys,
            files=[_entry(staging, path) for path in sorted(staging.rglob("*")) if path.is_file()],
        )
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=1) + "\n")
        partial = staging / "backup.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(staging / MANIFEST, arcname=MANIFEST)
            for entry in manifest.files:
                tar.add(staging / entry.name, arcname=entry.name)
            tar.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, out)
    return manifest


def _entry(staging: Path, path: Path) -> BackedUpFile:
    return BackedUpFile(name=path.relative_to(staging).as_posix(), size=path.stat().st_size,
                        sha256=sha256_of(path), mode=path.stat().st_mode & 0o777)
