"""deploycheck: conformance and smoke-test controls for research data platform deployments."""

__version__ = "0.1.0"
