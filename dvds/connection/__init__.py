"""Reaching Temporal: the connection, the payload codec and its key ring, the embedded server."""
