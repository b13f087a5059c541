"""`dvds import`: historical applications from the force's export become cases.

table.py and xlsx.py read a CSV or Excel export as records; profile.py says how the export
names our fields and writes our words and dates (profile_writer.py starts one from a file);
rows.py turns one row into a case input or a reject reason; export.py plans the whole file;
changes.py compares rows with the cases already imported; run.py starts the cases.
All but run.py are pure.
"""
