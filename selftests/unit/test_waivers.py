"""Loading waivers: clear one-line errors, expiry."""

from __future__ import annotations

import datetime as dt

import pytest

from deploycheck.report.waivers import WaiverError, find, load


def write(tmp_path, text: str):
    path = tmp_path / "waivers.yml"
    path.write_text(text)
    return path


def test_load_and_match(tmp_path) -> None:
    path = write(tmp_path, "waivers:\n  - {id: IDR-TLS-01, host: idr-proxy, justification: own CA, "
                           "expires: 2030-01-01}\n  - {id: IDR-SYS-01, justification: x, expires: '2020-01-01'}\n")
    waivers = load(path)
    assert find(waivers, "IDR-TLS-01", "idr-proxy").justification == "own CA"
    assert find(waivers, "IDR-TLS-01", "other") is None
    old = find(waivers, "IDR-SYS-01", "any")
    assert old.expired(dt.date(2026, 1, 1)) and not old.expired(dt.date(2019, 12, 31))


@pytest.mark.parametrize(("text", "message"), [
    ("[]", "top-level 'waivers:' list"),
    ("waivers:\n  - {id: X}\n", "lacks justification, expires"),
    ("waivers:\n  - {id: X, justification: j, expires: soon}\n", "not a YYYY-MM-DD date"),
    ("waivers:\n  - {id: X, justification: j, expires: 2030-01-01, until: 1}\n", "unknown key(s) ['until']"),
    ("waivers: [x\n", "not valid YAML"),
])
def test_bad_waivers(tmp_path, text: str, message: str) -> None:
    with pytest.raises(WaiverError, match=None) as err:
        load(write(tmp_path, text))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_missing_file(tmp_path) -> None:
    with pytest.raises(WaiverError, match="not found"):
        load(tmp_path / "none.yml")
