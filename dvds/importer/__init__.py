"""`dvds import`: historical applications from the force's CSV export become cases.

rows.py turns one row into a case input or a reject reason (pure); export.py reads the
file and settles rows that share a case reference (pure); run.py starts the cases.
"""
