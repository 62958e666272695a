"""deploycheck controls."""
