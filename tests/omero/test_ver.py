"""Seed 003, Requirements: OMERO.server and OMERO.web 5.6 or later. The
versions are read where the products state them: the server's
etc/omero.properties (``omero.version``, which ``omero version`` reports),
OMERO.web's login page footer ("OMERO.web 5.26.0.", from
omeroweb/version.py), asked on the host's own port 80, since the public
proxy sends the login page away."""

from __future__ import annotations

import re

import pytest

from deploycheck.control import control
from deploycheck.facts import hostpages, omeroserver
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect

pytestmark = pytest.mark.hosts("omeroreadonly", "omeroreadwrite")
READS = ("omero_server_dir", "min_omero_version")
REF = "seed 003: Requirements"
FOOTER = re.compile(r"OMERO\.web\s+(\d+\.\d+(?:\.\d+)?)")


def _minimum(node: Node) -> tuple[int, ...]:
    return omeroserver.version_tuple(str(expect(node, "min_omero_version")))


@control("OMERO-VER-01", "OMERO.server is 5.6 or later", "high", REF, shell=True)
def test_server_version(node: Node) -> None:
    """The image-region microservice and the docs' procedures need OMERO.server 5.6."""
    found = omeroserver.version(node)
    assert found, f"{node.name}: no omero.version in {expect(node, 'omero_server_dir')}/etc/omero.properties"
    assert omeroserver.version_tuple(found) >= _minimum(node), \
        f"{node.name}: OMERO.server {found}; expected {expect(node, 'min_omero_version')} or later"


@control("OMERO-VER-02", "OMERO.web is 5.6 or later", "high", REF, shell=True)
def test_web_version(node: Node) -> None:
    """Older OMERO.web cannot keep its sessions where the microservice reads them."""
    page = hostpages.page(node, 80, hostpages.LOGIN)
    found = FOOTER.search(page.text)
    assert page.status == 200 and found, \
        f"{node.name}: the login page on port 80 ({page.status}) names no OMERO.web version"
    assert omeroserver.version_tuple(found.group(1)) >= _minimum(node), \
        f"{node.name}: OMERO.web {found.group(1)}; expected {expect(node, 'min_omero_version')} or later"
