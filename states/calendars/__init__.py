"""Bank-holiday calendars by version: the days a working-day limit skips.

A case counts working days by the version its policy names (`DeadlinePolicy.calendar`),
fixed when the case starts, so a later version, or an upgraded `holidays` package, never
moves a running case's due dates. A version is never edited once released: a change (a
one-off bank holiday, a correction) is a new version appended to CALENDARS, and cases
started after it count by it. Python data, so a worker reads it inside the sandbox.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from states.calendars.england_and_wales import ENGLAND_AND_WALES_2026_12

# Oldest first; the last is the one new cases take.
CALENDARS: dict[str, dict[int, tuple[str, ...]]] = {
    "england-and-wales-2026-12": ENGLAND_AND_WALES_2026_12,
}


def versions() -> list[str]:
    """Every released version, oldest first."""
    return list(CALENDARS)


def current() -> str:
    """The version a case starting now is given."""
    return versions()[-1]


def unknown(version: str) -> str | None:
    """Why `version` cannot be counted by, or None."""
    if version in CALENDARS:
        return None
    return f"no bank-holiday calendar is called {version!r} (the calendars: {', '.join(CALENDARS)})"


@cache
def _days(version: str, year: int) -> frozenset[date]:
    return frozenset(date.fromisoformat(f"{year}-{day}") for day in CALENDARS[version].get(year, ()))


def bank_holidays(version: str, year: int) -> frozenset[date]:
    """The bank holidays of `year` in `version` (none for a year it does not cover)."""
    return _days(version, year)
