"""Observations of hosts, never assertions: controls assert on what these return."""
