"""Seed 003, Requirements: the image-region microservice needs Java 11 or
later (its build targets 11). The runtime is the one the microservice's
unit actually runs, read from its processes; when none of them is a JVM,
the one its start script would pick from the unit's environment."""

from __future__ import annotations

import pytest

from deploycheck.control import control, note
from deploycheck.facts import java
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect

pytestmark = pytest.mark.hosts("omeroreadonly")
READS = ("ms_unit",)
MINIMUM = 11


@control("MSIR-VER-01", "The microservice runs on Java 11 or later", "high", "seed 003: Requirements", shell=True)
def test_ms_java(node: Node, request: pytest.FixtureRequest) -> None:
    """On an older Java the microservice does not start (its classes need 11),
    and no render works on that host."""
    unit = expect(node, "ms_unit")
    found, exes = java.runtime(node, unit)
    assert found is not None, (f"{node.name}: no Java runtime for {unit}: its processes run "
                               f"{', '.join(exes) or 'nothing'}, and neither JAVA_HOME nor the PATH gives a java")
    assert found.major >= MINIMUM, f"{node.name}: {unit} runs {found.path}, Java {found.version}; expected 11 or later"
    if not found.running:
        note(request, f"no JVM among {unit}'s processes ({', '.join(exes) or 'none'}); "
                      f"its environment's {found.path} is Java {found.version}")
