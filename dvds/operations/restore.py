"""`dvds restore`: a backup (dvds/operations/backup.py) into an empty home, or none at all.

Everything is unpacked beside the home first and checked against the manifest (every file
listed, none more, each size and SHA-256 as written); only then does it become the home,
in one rename. A file that fails any check changes nothing. A home that is not empty is
refused: a restore never mixes with, or overwrites, a live server's data.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from pydantic import ValidationError

from dvds.operations.manifest import (
    DATABASE,
    FORMAT,
    KEYS,
    MANIFEST,
    PRIVATE,
    STAFF,
    BackupError,
    Manifest,
    safe_name,
    sha256_of,
)
from dvds.settings import Settings


def restore(settings: Settings, backup: Path) -> Manifest:
    """Restore `backup` into settings.home; return its manifest."""
    home = settings.home
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise BackupError(f"home: {home} is not empty; restore into an empty or new DVDS_HOME")
    if not backup.is_file():
        raise BackupError(f"file: no backup at {backup}")
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=home.parent, prefix=f".{home.name}.restoring-"))
    try:
        manifest = _unpack(backup, staging)
        _check(manifest, staging)
        if home.exists():
            home.rmdir()  # empty, checked above
        os.replace(staging, home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _unpack(backup: Path, staging: Path) -> Manifest:
    try:
        with tarfile.open(backup, mode="r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BackupError(f"file: {backup} is not a dvds backup (no {MANIFEST} first)")
            manifest = _manifest(tar, first, backup)
            while (member := tar.next()) is not None:  # streaming on from after the manifest
                if member.name not in manifest.names() or not member.isfile() or not safe_name(member.name):
                    raise BackupError(f"file: {backup} holds {member.name!r}, which its manifest does not list")
                source = tar.extractfile(member)
                assert source is not None
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                with source, target.open("xb") as out:
                    shutil.copyfileobj(source, out)
    except (tarfile.TarError, EOFError, OSError) as err:
        if isinstance(err, FileExistsError):
            raise BackupError(f"file: {backup} holds a file twice") from None
        raise BackupError(f"file: {backup} is damaged or not a dvds backup ({type(err).__name__})") from None
    return manifest


def _manifest(tar: tarfile.TarFile, member: tarfile.TarInfo, backup: Path) -> Manifest:
    source = tar.extractfile(member)
    assert source is not None
    try:
        manifest = Manifest.model_validate_json(source.read())
    except ValidationError:
        raise BackupError(f"file: {backup}'s {MANIFEST} is not a dvds manifest") from None
    if manifest.format != FORMAT:
        raise BackupError(f"file: {backup} is backup format {manifest.format}; this version reads format {FORMAT}")
    if not all(safe_name(f.name) for f in manifest.files):
        raise BackupError(f"file: {backup}'s {MANIFEST} names a path outside the home")
    return manifest


def _check(manifest: Manifest, staging: Path) -> None:
    for entry in manifest.files:
        path = staging / entry.name
        if not path.is_file():
            raise BackupError(f"file: {entry.name} is listed in the manifest but missing from the backup")
        if path.stat().st_size != entry.size or sha256_of(path) != entry.sha256:
            raise BackupError(f"file: {entry.name} does not match its checksum: the backup was changed or damaged")
        path.chmod(PRIVATE if entry.name in (KEYS, DATABASE, STAFF) else entry.mode & 0o777 or PRIVATE)
