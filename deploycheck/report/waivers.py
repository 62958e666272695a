"""Waivers: accepted exceptions, each with a justification and an expiry.

File format (YAML)::

    waivers:
      - id: VIDJIL-TLS-03          # control id (required)
        host: vidjil-reference     # optional: only this host
        justification: test stack uses its own CA   # required
        expires: 2027-03-31        # required, ISO date; the waiver ends that day

A failing control with a live waiver is reported as ``waived`` and does not
fail the run; an expired waiver no longer applies and the message says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml


class WaiverError(Exception):
    """The waivers file cannot be used; one line for the user."""


@dataclass(frozen=True)
class Waiver:
    id: str
    justification: str
    expires: dt.date
    host: str | None = None

    def matches(self, control_id: str, host: str) -> bool:
        return self.id == control_id and self.host in (None, host)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


def load(path: str | Path) -> list[Waiver]:
    p = Path(path)
    if not p.is_file():
        raise WaiverError(f"waivers file not found: {path}")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise WaiverError(f"{path}: not valid YAML") from exc
    entries = (data or {}).get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise WaiverError(f"{path}: expected a top-level 'waivers:' list")
    waivers = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise WaiverError(f"{path}: waiver {n} is not a mapping")
        missing = [k for k in ("id", "justification", "expires") if not entry.get(k)]
        if missing:
            raise WaiverError(f"{path}: waiver {n} lacks {', '.join(missing)}")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError as exc:
                raise WaiverError(f"{path}: waiver {n} has expires '{expires}', not a YYYY-MM-DD date") from exc
        if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
            raise WaiverError(f"{path}: waiver {n} has expires '{expires}', not a YYYY-MM-DD date")
        unknown = set(entry) - {"id", "host", "justification", "expires"}
        if unknown:
            raise WaiverError(f"{path}: waiver {n} has unknown key(s) {sorted(unknown)}")
        waivers.append(Waiver(str(entry["id"]), str(entry["justification"]), expires,
                              str(entry["host"]) if entry.get("host") else None))
    return waivers


def find(waivers: list[Waiver], control_id: str, host: str) -> Waiver | None:
    """The first waiver for this control and host, live or expired."""
    return next((w for w in waivers if w.matches(control_id, host)), None)
