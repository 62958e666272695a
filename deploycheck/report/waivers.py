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

from deploycheck.inventory import preflight
from deploycheck.inventory.loader import MAX_VALUES


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


def _shown(value: object) -> str:
    """A value quoted in a message: one line, at most 80 characters."""
    return " ".join(str(value).split())[:80]


def _read(path: str | Path) -> object:
    """The file's YAML, bounded in size and in what its aliases expand to
    (the bounds of inventory files): a waivers file is small."""
    p = Path(path)
    if not p.is_file():
        raise WaiverError(f"waivers file not found: {path}")
    try:
        text = preflight.read_bounded(p).decode("utf-8")
        preflight.expanded_size(text, MAX_VALUES)
        return yaml.safe_load(text)
    except OSError as exc:
        raise WaiverError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WaiverError(f"{path}: not UTF-8 text") from None
    except preflight.ExpansionError as exc:
        raise WaiverError(f"{path}: {exc}") from None
    except yaml.YAMLError:
        raise WaiverError(f"{path}: not valid YAML") from None
    except RecursionError:
        raise WaiverError(f"{path}: nested too deeply") from None


def load(path: str | Path) -> list[Waiver]:
    data = _read(path)
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
        unknown = set(entry) - {"id", "host", "justification", "expires"}
        if unknown:
            raise WaiverError(f"{path}: waiver {n} has unknown key(s) {sorted(_shown(k) for k in unknown)}")
        texts = ("id", "justification", "host") if entry.get("host") is not None else ("id", "justification")
        wrong = next((k for k in texts if not isinstance(entry[k], str)), None)
        if wrong is not None:
            raise WaiverError(f"{path}: waiver {n} has {wrong} '{_shown(entry[wrong])}', not text (quote it)")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                raise WaiverError(f"{path}: waiver {n} has expires '{_shown(expires)}', not a YYYY-MM-DD date"
                                  ) from None
        if isinstance(expires, dt.datetime) or not isinstance(expires, dt.date):
            raise WaiverError(f"{path}: waiver {n} has expires '{_shown(expires)}', not a YYYY-MM-DD date")
        waivers.append(Waiver(str(entry["id"]), str(entry["justification"]), expires,
                              str(entry["host"]) if entry.get("host") else None))
    return waivers


def find(waivers: list[Waiver], control_id: str, host: str) -> Waiver | None:
    """The first waiver for this control and host, live or expired."""
    return next((w for w in waivers if w.matches(control_id, host)), None)
