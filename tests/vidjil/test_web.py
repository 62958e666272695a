"""Vidjil's web face without credentials (seed 004: Network usage and SSL
certificates; First configuration and first launch; Making backups)."""

from __future__ import annotations

import json

import pytest

from deploycheck.control import control
from deploycheck.facts import tls
from deploycheck.facts.vidjil import login
from deploycheck.inventory.variables import expect
from deploycheck.transport.http import Client

SSL_REF = "seed 004: Network usage and SSL certificates"
FIRST_REF = "seed 004: First configuration and first launch"


@control("VIDJIL-HTTP-01", "Plain HTTP answers 301 to HTTPS on every path", "high", SSL_REF)
@pytest.mark.hosts("vidjil")
def test_http_redirects(node) -> None:  # noqa: ANN001
    client = Client(expect(node, "vidjil_url"), float(expect(node, "http_timeout")))
    wrong = []
    for path in ("/", "/vidjil/default/index", "/vidjil/default/user/login", "/browser/", "/germline/",
                 "/admin/default/index", "/no/such/path"):
        r = client.get(path).response
        location = r.headers.get("Location", "")
        if r.status_code != 301 or not location.startswith("https://") or not location.endswith(path):
            wrong.append(f"{path} -> {r.status_code} {location or '(no Location)'}")
    assert not wrong, f"{node.name}: expected 301 to https for every path: " + "; ".join(wrong)


@control("VIDJIL-TLS-01", "TLS 1.0 and 1.1 handshakes are refused", "high", SSL_REF)
@pytest.mark.hosts("vidjil")
def test_old_tls_refused(node) -> None:  # noqa: ANN001
    tls.assert_old_protocols_refused(node)


@control("VIDJIL-TLS-02", "The certificate is valid for the public name and not about to expire", "critical",
         SSL_REF)
@pytest.mark.hosts("vidjil")
def test_certificate_valid(node) -> None:  # noqa: ANN001
    tls.assert_certificate_valid(node)


@control("VIDJIL-TLS-03", "The certificate is not a self-signed fallback", "medium", SSL_REF)
@pytest.mark.hosts("vidjil")
def test_not_self_signed(node) -> None:  # noqa: ANN001
    """The shipped image carries a self-signed certificate until a real one is set."""
    if expect(node, "self_signed_allowed"):
        pytest.skip(f"{node.name}: the inventory accepts a self-signed certificate")
    assert not tls.is_self_signed(node), f"{node.name}: the site serves a self-signed certificate"


@control("VIDJIL-AUTH-01", "The shipped default credentials do not log in", "critical", FIRST_REF)
@pytest.mark.hosts("vidjil")
def test_default_credentials(node, vidjil_https) -> None:  # noqa: ANN001
    email, password = expect(node, "vidjil_admin_email"), expect(node, "vidjil_admin_password")
    if email and password:
        assert login(vidjil_https, email, password), \
            f"{node.name}: the inventory's working login failed too; cannot judge the default credentials"
    accepted = [f"{e} / {'*' * len(p)}" for e, p in expect(node, "default_logins") if login(vidjil_https, e, p)]
    assert not accepted, f"{node.name}: default credentials log in: {accepted}"


@control("VIDJIL-AUTH-02", "The init-database screen is closed (a first admin exists)", "critical", FIRST_REF)
@pytest.mark.hosts("vidjil")
def test_init_db_closed(node, vidjil_https) -> None:  # noqa: ANN001
    r = vidjil_https.get("/vidjil/default/init_db").response
    try:
        answer = json.loads(r.text)
    except json.JSONDecodeError:
        answer = None
    assert isinstance(answer, dict) and "login" in str(answer.get("redirect", "")), \
        f"{node.name}: init_db answered {r.status_code} {r.text[:80]!r}; anyone could create the root account"
    page = vidjil_https.get("/vidjil/default/user/login").response.text
    assert "init database" not in page, f"{node.name}: the login page offers 'init database'"


@control("VIDJIL-AUTH-03", "Data routes send visitors without a session to the login page", "high", FIRST_REF)
@pytest.mark.hosts("vidjil")
def test_data_routes_need_login(node, vidjil_https) -> None:  # noqa: ANN001
    wrong = []
    for path in ("/vidjil/sample_set/all?page=0&type=generic", "/vidjil/default/get_data?sample_set_id=1&config=1"):
        r = vidjil_https.get(path).response
        try:
            redirect = json.loads(r.text).get("redirect", "")
        except (json.JSONDecodeError, AttributeError):
            redirect = ""
        if "user/login" not in redirect:
            wrong.append(f"{path} -> {r.status_code} {r.text[:60]!r}")
    assert not wrong, f"{node.name}: data served without a session: " + "; ".join(wrong)


@control("VIDJIL-MON-01", "The monitor answers and shows at least one worker", "high",
         "seed 004: Jobs stay in QUEUED, workers seem to be stuck")
@pytest.mark.hosts("vidjil")
def test_monitor(node, vidjil_https) -> None:  # noqa: ANN001
    r = vidjil_https.get("/vidjil/admin/monitor").response
    assert r.status_code == 200, f"{node.name}: admin/monitor answered {r.status_code}"
    fields = dict(line.split("=", 1) for line in r.text.splitlines() if "=" in line)
    workers = int(fields.get("ALL", "0") or 0)
    assert workers >= 1, f"{node.name}: monitor shows {workers} workers ({r.text.strip()[:80]!r}); tasks would wait"


@control("VIDJIL-CFG-03", "Germline files are served", "medium",
         "seed 004: First configuration and first launch (germline files)")
@pytest.mark.hosts("vidjil")
def test_germlines(node, vidjil_https) -> None:  # noqa: ANN001
    missing = []
    for path in expect(node, "germline_paths"):
        r = vidjil_https.get(path).response
        if r.status_code != 200 or not r.content.strip():
            missing.append(f"{path} -> {r.status_code}")
    assert not missing, f"{node.name}: germline files missing: {', '.join(missing)}"
