"""What every page handler needs, held once on the app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dvds.case_client import CaseClient
from states.staff import StaffDirectory
from web.claims import ClaimStore
from web.settings import WebSettings


class StaffSource(Protocol):
    @property
    def directory(self) -> StaffDirectory: ...


@dataclass
class WebContext:
    cases: CaseClient
    staff: StaffSource  # dvds.staff_file.StaffFile: re-read when the file changes
    claims: ClaimStore
    web: WebSettings
    archive_dir: Path
