"""The web face: the staff inbox (FastAPI, server-rendered) and the codec server the
Temporal Web UI decodes through. A thin client of the library, like the command line."""
