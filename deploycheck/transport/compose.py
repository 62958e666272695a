"""Compose deployments seen through the Docker API: a project's containers
by service, their settings and state, and commands inside them."""

from __future__ import annotations

import functools

import docker
from docker.models.containers import Container

from deploycheck.inventory.loader import Node, cut
from deploycheck.inventory.variables import expect
from deploycheck.transport.shell import MAX_OUTPUT_BYTES

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


@functools.cache
def _client(base_url: str | None) -> docker.DockerClient:
    return docker.DockerClient(base_url=base_url, timeout=20) if base_url else docker.from_env(timeout=20)


def client(node: Node) -> docker.DockerClient:
    """The Docker engine of the host (``docker_host``, e.g. ssh://user@host; default: the local one)."""
    return _client(expect(node, "docker_host"))


def services(node: Node) -> dict[str, Container]:
    """The project's containers by compose service (all states)."""
    project = expect(node, "compose_project")
    found: dict[str, Container] = {}
    for container in client(node).containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"}):
        found.setdefault(container.labels.get(SERVICE_LABEL, container.name), container)
    return found


def service(node: Node, name: str) -> Container:
    found = services(node).get(name)
    if found is None:
        raise AssertionError(f"{node.name}: no container of service '{name}' in project "
                             f"{expect(node, 'compose_project')}")
    return found


def run(node: Node, name: str, command: str, environment: dict[str, str] | None = None) -> tuple[int, str]:
    """(exit code, output) of a shell command inside a service's container;
    ``environment`` reaches it through the Docker API, never in a command line."""
    container = service(node, name)
    if container.status != "running":
        raise AssertionError(f"{node.name}: service {name} is {container.status}; cannot run '{cut(command, 40)}'")
    return _exec(container, command, environment)


def _exec(container: Container, command: str, environment: dict[str, str] | None) -> tuple[int, str]:
    """Run and read the output as it comes, at most ``MAX_OUTPUT_BYTES`` (a
    container on another machine cannot fill the controller's memory)."""
    api = container.client.api
    exec_id = api.exec_create(container.id, ["sh", "-c", command], environment=environment)["Id"]
    out = bytearray()
    stream = api.exec_start(exec_id, stream=True)
    try:
        for chunk in stream:
            out += chunk
            if len(out) > MAX_OUTPUT_BYTES:
                raise AssertionError(f"'{cut(command, 40)}' in {container.name} wrote more than {MAX_OUTPUT_BYTES} "
                                     "bytes; not read further")
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    code = api.exec_inspect(exec_id).get("ExitCode")
    return (-1 if code is None else int(code)), bytes(out).decode(errors="replace")
