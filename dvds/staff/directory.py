"""The staff directory file (JSON, or TOML by its suffix): staff id -> name, roles, team,
active. The worker consults it for every task submitted; it is re-read when the file
changes, so a leaver made inactive is refused without restarting the worker."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import structlog
from pydantic import ValidationError

from dvds.errors import ReadableError
from dvds.settings import Settings
from states.roles import Role
from states.staff import StaffDirectory

logger = structlog.get_logger()
# The walkthrough's staff, shipped inside the package so a wheel install has it too
# (examples/staff.json points here).
EXAMPLE = Path(__file__).resolve().parent / "example_staff.json"


class StaffFileError(ReadableError):
    """A staff file problem a person can fix. Names the file and field, never a value."""


def read_staff(path: Path) -> StaffDirectory:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StaffFileError(
            f"staff: no staff directory at {path}; `dvds up` copies the example staff directory there on first start "
            "(DVDS_STAFF_FILE says where it is)"
        ) from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return StaffDirectory.model_validate(data)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError):
        raise StaffFileError(f"staff: {path} is not valid {'TOML' if path.suffix == '.toml' else 'JSON'}") from None
    except ValidationError as err:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in err.errors(include_input=False, include_url=False)
        )
        raise StaffFileError(f"staff: {path} is not a valid staff directory ({fields})") from None


class StaffFile:
    """The directory as the file says now. A file that turns invalid keeps the last good
    directory (and logs it), so one bad edit does not stop every case."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = self._stat()
        self._directory = read_staff(path)

    def _stat(self) -> tuple[int, int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return (0, 0)
        return (stat.st_mtime_ns, stat.st_size)

    @property
    def directory(self) -> StaffDirectory:
        """The directory, re-read if the file changed since it was last looked at."""
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self._directory = read_staff(self.path)
                logger.info("staff directory reloaded", staff=len(self._directory.staff))
            except StaffFileError as err:
                logger.error("staff directory not reloaded; keeping the last good one", error=str(err))
        return self._directory

    # The staff gate checks the task's proof first (workflows/staff_gate.py: `directory`,
    # which looks at the file), then who signed it, then (after the case's own rules) whether
    # they hold the role: both later questions read the directory the proof was checked
    # against. A stat releases the GIL inside the case's workflow task, so once per task.
    def identity_refusal(self, staff_id: str) -> str | None:
        return self._directory.identity_refusal(staff_id)

    def refusal(self, staff_id: str, role: Role) -> str | None:
        return self._directory.refusal(staff_id, role)


def ensure_staff_file(settings: Settings) -> bool:
    """Copy the example directory into the data folder on first start. True if copied."""
    if settings.staff_file is not None or settings.staff_path.exists():
        return False
    settings.staff_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLE, settings.staff_path)
    return True

