from dvds.cli.app import entry

entry()
