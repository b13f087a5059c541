"""The one kind of error the faces show a person as it is: it names the field, the file or
the rule, never a value (values here are personal data). Each part of the library raises
its own subclass; the command line and the web catch this base."""

from __future__ import annotations


class ReadableError(Exception):
    """An error a person can act on. Its message names the field or rule, never a value."""
