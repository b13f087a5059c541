"""Changing the JSON staff file in place: passwords, keys. One way to do it, so every change
keeps the file's other fields and order, never leaves a half-written or invalid file, and
keeps the file's mode."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dvds.staff.directory import StaffFileError
from states.staff import StaffDirectory

StaffData = dict[str, Any]


def edit_staff_json(path: Path, change: Callable[[StaffData], None]) -> StaffDirectory:
    """Apply `change` to the file's JSON, check the result is still a valid directory, then swap
    the file in whole. Returns the new directory. Raises StaffFileError, changing nothing."""
    if path.suffix == ".toml":
        raise StaffFileError(f"staff: {path} is TOML; edit it by hand, or use a JSON staff file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StaffFileError(f"staff: no staff directory at {path}") from None
    except json.JSONDecodeError:
        raise StaffFileError(f"staff: {path} is not valid JSON") from None
    _validated(data, f"staff: {path} is not a valid staff directory")
    change(data)
    directory = _validated(data, f"staff: the change would make {path} invalid; nothing written")
    mode = path.stat().st_mode & 0o777
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".staff-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, ensure_ascii=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return directory


def member_entry(data: StaffData, staff_id: str, path: Path) -> dict[str, Any]:
    """The staff file's entry for one member, to change in place."""
    for member in data.get("staff", []):
        if isinstance(member, dict) and member.get("id") == staff_id:
            return member
    raise StaffFileError(f"staff_id: {staff_id} is not in the staff directory {path}")


def _validated(data: object, problem: str) -> StaffDirectory:
    try:
        return StaffDirectory.model_validate(data)
    except ValidationError as err:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in err.errors(include_input=False, include_url=False)
        )
        raise StaffFileError(f"{problem} ({fields})") from None
