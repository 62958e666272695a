"""Which inventory values deploycheck renders, and where.

Rendering runs templates written by others, so it is done once, right after
the inventory is read and before any thread or worker starts, in the
sandbox (deploycheck.inventory.sandbox) and in bounded children
(deploycheck.inventory.isolation); afterwards every host answers from its
renderings (``Rendered``), on the controller as in pytest-xdist workers.
Only values that can be read are rendered: the connection variables, the
variables deploycheck declares, the secrets to mask, and the deployment
templates it derives expectations from; values without a template are
taken as they are. A template the sandbox refuses, or one beyond the
bounds, makes the inventory unusable: one line, exit 2.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from deploycheck.inventory import isolation
from deploycheck.inventory.loader import (
    CONNECTION_VARS,
    Inventory,
    InventoryError,
    Node,
    RenderError,
    _has_template,
    _plain,
    _UndecryptableError,
    _unvault,
    plain_path,
    render_here,
)

if TYPE_CHECKING:
    from deploycheck.inventory.variables import Derived

Outcome = tuple[bool, Any]  # (True, value) or (False, the RenderError's message)
REFUSED = "refused by deploycheck's template sandbox"
BEYOND = "beyond deploycheck's bounds"


class Rendered:
    """One host's renderings: its own variables by name, and the templates
    deploycheck derives expectations from by variable and template."""

    def __init__(self, own: dict[str, Outcome], templates: dict[str, dict[str, Outcome]]) -> None:
        self.own = own
        self.templates = templates

    def lookup(self, host: Node, name: str, value: Any) -> Outcome | None:
        if name in host.vars and value is host.vars[name]:
            return self.own.get(name)
        return self.templates.get(name, {}).get(value) if isinstance(value, str) else None

    def render(self, host: Node, name: str, value: Any) -> Any:
        """The rendering made for ``value``; a template nobody rendered is a RenderError, never rendered here."""
        outcome = self.lookup(host, name, value)
        if outcome is None:
            if _has_template(value):
                raise RenderError(f"{host.name}: variable {name} cannot be rendered: the controller did not render "
                                  "this template")
            return plain_path(host, name, _plain(value))
        return settle(outcome)


def settle(outcome: Outcome) -> Any:
    ok, result = outcome
    if not ok:
        raise RenderError(result)
    return copy.deepcopy(result)  # a control may change what it gets; the next one gets it as rendered


def derivations(host: Node) -> list[tuple[str, Derived]]:
    """The declared variables' derivations the host can be the source of (see variables.resolve)."""
    from deploycheck.inventory.variables import VARIABLES

    return [(var.name, d) for var in VARIABLES.values() for d in var.deployment if d.needs in host.context]


def _work(job: tuple[Node, str, Any]) -> Outcome:
    host, name, value = job
    try:
        return True, render_here(host, name, value)
    except RenderError as exc:
        return False, str(exc)


def isolated(jobs: list[tuple[Node, str, Any]]) -> list[Outcome]:
    """Renders in bounded children; an item beyond the bounds says so in its message."""
    outcomes = isolation.run(jobs, _work)
    return [(ok, value if ok or value.startswith(f"{job[0].name}:") else
             f"{job[0].name}: variable {job[1]} cannot be rendered: {value}")
            for job, (ok, value) in zip(jobs, outcomes, strict=True)]


def _needs_rendering(value: Any) -> bool:
    try:
        return _has_template(_unvault(value))
    except _UndecryptableError:
        return True  # rendering says why, for the controls that read it


def _wanted(host: Node, names: Iterable[str]) -> list[str]:
    return [n for n in names if n in host.vars and _needs_rendering(host.vars[n])]


def prepare(inv: Inventory) -> None:
    """Renders, once and isolated, every value of ``inv`` that can be read
    and holds a template; refuses the inventory on a hostile one."""
    from deploycheck.inventory.variables import VARIABLES
    from deploycheck.report.redact import declared_secrets, is_secret, vault_file_values

    names = declared_secrets() | vault_file_values(inv).keys()
    jobs: list[tuple[Node, str, Any]] = []
    for host in inv.hosts.values():
        secret = [n for n in host.vars if isinstance(n, str) and is_secret(n, names)]
        for name in _wanted(host, dict.fromkeys([*CONNECTION_VARS, *VARIABLES, *secret])):
            jobs.append((host, name, host.vars[name]))
        jobs += [(host, name, derived.template) for name, derived in derivations(host)]
    outcomes = isolated(jobs) if jobs else []
    for (_, _, _), (ok, message) in zip(jobs, outcomes, strict=True):
        if not ok and (REFUSED in message or BEYOND in message):
            raise InventoryError(message)
    for host in inv.hosts.values():
        host._rendered = Rendered({}, {})
    for (host, name, value), outcome in zip(jobs, outcomes, strict=True):
        rendered = host._rendered
        assert rendered is not None
        if name in host.vars and value is host.vars[name]:
            rendered.own[name] = outcome
        else:
            rendered.templates.setdefault(name, {})[value] = outcome
