"""`dvds import`: historical applications from the force's export become cases.

table.py and xlsx.py read a CSV or Excel export as records; profile.py says how the export
names our fields and writes our words and dates (profile_writer.py starts one from a file);
rows.py turns one row into a case input or a reject reason; export.py plans the whole file;
changes.py compares rows with the cases already imported; files.py plans a file as both faces
take it; run.py starts the cases, paced on the worker's backlog (pacing.py). uploads.py keeps
a web upload encrypted and durable.py imports it a page at a time (workflows/imports.py).
All but files.py, pacing.py, run.py, uploads.py and durable.py are pure.
"""
