from dvds.cli import app

app(prog_name="dvds")
