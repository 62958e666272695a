"""Control metadata: every control is one test function carrying an id, a
title that states the promise, a severity and the doc section it comes from."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

import pytest

from deploycheck.inventory.loader import Inventory, Node

SEVERITIES = ("critical", "high", "medium", "low")
ID_PATTERN = re.compile(r"^(IDR|OMERO|MSIR|VIDJIL)-[A-Z]+-\d{2}$")
F = TypeVar("F", bound=Callable[..., object])


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    severity: str
    ref: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


REGISTRY: dict[str, Control] = {}


def control(id: str, title: str, severity: str, ref: str, reads: tuple[Any, ...] = (),
            shell: bool = False) -> Callable[[F], F]:
    """Mark a test function as control ``id``; ids are unique across the suite.
    ``reads``: the questions (deploycheck.facts.question) the control asks,
    or factories giving a host's questions; the planner asks them early.
    ``shell``: the control also reads its host through the host's shell
    outside ``reads`` (facts helpers): when the host cannot be reached, it is
    not checked, like a control whose ``reads`` are asked there."""
    if not ID_PATTERN.match(id):
        raise ValueError(f"control id '{id}' does not match {ID_PATTERN.pattern}")
    if severity not in SEVERITIES:
        raise ValueError(f"control {id}: severity '{severity}' not in {SEVERITIES}")
    meta = Control(id, title, severity, ref)

    def decorate(fn: F) -> F:
        known = REGISTRY.get(id)
        if known is not None and known != meta:
            raise ValueError(f"control id '{id}' is used twice")
        REGISTRY[id] = meta
        return pytest.mark.control(**meta.as_dict(), reads=tuple(reads), shell=shell)(fn)

    return decorate


NOTE_KEY = "deploycheck_note"


def note(request: pytest.FixtureRequest, text: str) -> None:
    """The reason a control passes without its full check (the operator closed
    what it checks): kept as the pass's message in every report."""
    request.node.user_properties.append((NOTE_KEY, text))


def control_of(item: pytest.Item) -> Control | None:
    mark = item.get_closest_marker("control")
    return None if mark is None else Control(**{f.name: mark.kwargs[f.name] for f in fields(Control)})


def reads_of(item: pytest.Item) -> tuple[Any, ...]:
    """The questions (or question factories) a control declares it reads."""
    mark = item.get_closest_marker("control")
    return () if mark is None else tuple(mark.kwargs.get("reads", ()))


def reads_shell(item: pytest.Item) -> bool:
    """The control declares it reads its host through the host's shell (``shell=True``)."""
    mark = item.get_closest_marker("control")
    return mark is not None and bool(mark.kwargs.get("shell", False))


def first_host(inventory: Inventory, group: str) -> Node:
    """The group's first host, for controls that need one of its kind (the
    public proxy, a vantage point); skipped with the reason when there is none."""
    hosts = inventory.group(group)
    if not hosts:
        pytest.skip(f"inventory has no hosts in group {group}")
    return hosts[0]
