"""The command line face: typer commands that parse, call the library, print."""
