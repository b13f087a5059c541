"""Auditing cases: timelines from the server's event history, reports across cases,
and an append-only archive that outlives the namespace's retention."""
