"""The `dvds` subcommands, one module each."""
