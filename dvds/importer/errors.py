"""Why a whole import is refused before any row is read. Each message names the file,
the header or the profile key and the rule; never a row's values."""

from __future__ import annotations

from dvds.errors import ReadableError


class ExportError(ReadableError):
    """The file cannot be read as an export at all; nothing is started."""


class ProfileError(ExportError):
    """The column profile is wrong, or does not fit the file's header; nothing is started."""
