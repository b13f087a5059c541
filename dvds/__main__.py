from dvds.cli import entry

entry()
