"""Risk levels (e.g. from the DASH tool): high risk goes to MARAC and the urgent track.

A module of its own, free of pydantic, so the command line can offer the levels as a
choice without loading the models.
"""

from __future__ import annotations

from enum import StrEnum


class RiskLevel(StrEnum):
    standard = "standard"
    medium = "medium"
    high = "high"
