"""The worker's case cache by default fits the machine: a review campaign's cases cached whole
where memory allows, the SDK's own 1,000 where it does not, and a setting always wins."""

from __future__ import annotations

import pytest

from dvds.settings import Settings, cache_for_memory

GIB = 2**30


@pytest.mark.parametrize(("memory", "cached"), [(None, 1000), (GIB, 1000), (2 * GIB, 1000), (4 * GIB, 1000),
                                                (8 * GIB, 3000), (16 * GIB, 5000), (24 * GIB, 5000), (256 * GIB, 5000)])
def test_cache_follows_memory(memory: int | None, cached: int) -> None:
    """An eighth of the memory at 0.27 MB a case, in thousands, from 1,000 to 5,000."""
    assert cache_for_memory(memory) == cached


def test_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVDS_MAX_CACHED_CASES", "1234")
    assert Settings().max_cached_cases == 1234
