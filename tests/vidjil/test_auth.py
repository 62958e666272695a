"""Seed 004, First configuration and first launch: the shipped default
credentials do not log in, the init-database screen is closed once a first
admin exists, and data routes send visitors without a session to the login
page."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from deploycheck.control import control
from deploycheck.facts.vidjil import Login, login
from deploycheck.inventory.loader import cut
from deploycheck.inventory.variables import expect

if TYPE_CHECKING:
    from deploycheck.inventory.loader import Node
    from deploycheck.transport.http import Client

pytestmark = pytest.mark.hosts("vidjil")
READS = ("vidjil_admin_email", "vidjil_admin_password", "default_logins")

REF = "seed 004: First configuration and first launch"


@control("VIDJIL-AUTH-01", "The shipped default credentials do not log in", "critical", REF)
def test_default_credentials(node: Node, vidjil_https: Client) -> None:
    """Vidjil's documentation and its test tools use plop@plop.com; anyone
    can try those logins. Each is tried through the login form as a browser
    does; a login the server did not process (no form, the form again)
    cannot say the credentials are refused, so the control cannot pass then."""
    email, password = expect(node, "vidjil_admin_email"), expect(node, "vidjil_admin_password")
    if email and password:
        working = login(vidjil_https, email, password)
        assert working is Login.ACCEPTED, \
            f"{node.name}: the inventory's working login was {working.value}; cannot judge the default credentials"
    defaults = expect(node, "default_logins")
    if not defaults:
        pytest.skip(f"{node.name}: the inventory lists no default logins to try")
    accepted, unjudged = [], []
    for default_email, default_password in defaults:
        outcome = login(vidjil_https, default_email, default_password)
        shown = f"{default_email} / {'*' * len(default_password)}"
        if outcome is Login.ACCEPTED:
            accepted.append(shown)
        elif outcome is Login.NOT_PROCESSED:
            unjudged.append(shown)
    assert not accepted, f"{node.name}: default credentials log in: {accepted}"
    if unjudged:
        pytest.fail(f"{node.name}: the login form did not process {unjudged} (no form key or session); "
                    "cannot tell whether they log in", pytrace=False)


@control("VIDJIL-AUTH-02", "The init-database screen is closed (a first admin exists)", "critical", REF)
def test_init_db_closed(node: Node, vidjil_https: Client) -> None:
    """While init_db is open, the first visitor to find it creates the root
    account."""
    r = vidjil_https.get("/vidjil/default/init_db").response
    try:
        answer = json.loads(r.text)
    except json.JSONDecodeError:
        answer = None
    assert isinstance(answer, dict) and "login" in str(answer.get("redirect", "")), \
        f"{node.name}: init_db answered {r.status_code} {cut(r.text, 80)!r}; anyone could create the root account"
    page = vidjil_https.get("/vidjil/default/user/login").response.text
    assert "init database" not in page, f"{node.name}: the login page offers 'init database'"


@control("VIDJIL-AUTH-03", "Data routes send visitors without a session to the login page", "high", REF)
def test_data_routes_need_login(node: Node, vidjil_https: Client) -> None:
    """Sample lists and results are patient data; they are for logged-in
    users only."""
    wrong = []
    for path in ("/vidjil/sample_set/all?page=0&type=generic", "/vidjil/default/get_data?sample_set_id=1&config=1"):
        r = vidjil_https.get(path).response
        try:
            redirect = json.loads(r.text).get("redirect", "")
        except (json.JSONDecodeError, AttributeError):
            redirect = ""
        if "user/login" not in redirect:
            wrong.append(f"{path} -> {r.status_code} {cut(r.text, 60)!r}")
    assert not wrong, f"{node.name}: data served without a session: " + "; ".join(wrong)
