"""The review campaign benchmarked side by side with bare Temporal: `python -m bench.run`.

One run, one embedded server (the same SQLite pragmas as `dvds up`), and for each of
the case engine and a bare workflow with no domain logic: the same number of workflow
starts, updates and activities. The ratio of the two, measured in the same run on the
same machine, is the figure that matters; absolute numbers depend on the machine's load.
"""
