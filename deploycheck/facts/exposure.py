"""Which of a host's ports answer from the vantage point outside (the
inventory's first ``outside`` host), as questions: every host's probe is
asked in one command on the vantage point when the run starts."""

from __future__ import annotations

from typing import Any

from deploycheck.facts import hostfacts, probe
from deploycheck.facts.question import UNKNOWN, Question, Said
from deploycheck.inventory.loader import Node
from deploycheck.inventory.variables import expect
from deploycheck.transport.remote import reachability


def vantage(node: Node) -> Node:
    found = node.peer("outside")
    if found is None:
        raise LookupError(f"{node.name}: the inventory has no outside host")
    return found


def private(node: Node) -> tuple[str, list[int]]:
    """The address and the ports that must not answer from outside."""
    return probe.public_address(node), [int(p) for p in expect(node, "private_ports") or []]


def public(node: Node) -> tuple[str, list[int]]:
    """The address and the public web ports that must answer from outside."""
    return probe.public_address(node), [int(p) for p in expect(node, "allowed_public_ports") if int(p) in (80, 443)]


class Outside:
    """Probes from the vantage point: one place with its own commands, so
    that one connection asks them one after the other."""

    def place(self, node: Node) -> str:
        return f"host:{vantage(node).name}"

    def ask_many(self, asked: list[tuple[Node, Any]], early: bool) -> list[Any]:
        seen = vantage(asked[0][0])
        if early:
            if reachability(seen) is not None:
                return [UNKNOWN for _ in asked]
            probe.ask_ahead(seen, [(a, list(ports)) for _, (a, ports) in asked])
            return [Said(*hostfacts.command(seen, probe.ports_command(a, list(ports))), probe.ports_command(a, ports))
                    if hostfacts.known(seen, probe.ports_command(a, list(ports))) else UNKNOWN
                    for _, (a, ports) in asked]
        return [Said(*hostfacts.command(seen, probe.ports_command(a, ports)), probe.ports_command(a, ports))
                for _, (a, ports) in asked]


OUTSIDE = Outside()


def _ports(node: Node, said: Said) -> list[int]:
    return sorted(int(p) for p in said.output(vantage(node)).split())


def _target(target: tuple[str, list[int]]) -> tuple[str, list[int]] | None:
    return target if target[1] else None


closed_ports = Question("closed_ports", lambda node: _target(private(node)), OUTSIDE, _ports)
"""The ports of ``private_ports`` that answer from outside (none should)."""
web_ports = Question("web_ports", lambda node: _target(public(node)), OUTSIDE, _ports)
"""The public web ports that answer from outside (all should)."""
