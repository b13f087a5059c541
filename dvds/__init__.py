"""dvds: the command line and the embedded server for the DVDS case engine."""
