"""What the tests share: one `eventually`, one free port, worker and server processes,
fake channels, short policies, cases and submissions from examples/, the browser."""
