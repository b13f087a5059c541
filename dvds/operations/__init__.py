"""Running the engine as a service: backups and restores of an embedded server's home."""
