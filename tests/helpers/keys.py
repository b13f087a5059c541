"""The key ring every test client, worker and `dvds` subprocess of a test run shares
(made afresh for each run; the recorded histories use their own, tests/histories/keys.json)."""

from __future__ import annotations

from dvds.connection.keys import KeyRing

TEST_KEYS = KeyRing.generate()
