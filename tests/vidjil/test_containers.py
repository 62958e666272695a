"""The Vidjil services as docker-compose runs them (seed 004: Docker deployment)."""

from __future__ import annotations

import pytest

from deploycheck.control import control
from deploycheck.inventory.variables import expect
from deploycheck.transport import compose

REF = "seed 004: Docker -- Installation (Docker environment)"


@control("VIDJIL-CTR-01", "Every expected Vidjil service has a running container", "critical", REF)
@pytest.mark.hosts("vidjil")
def test_services_running(node) -> None:  # noqa: ANN001
    found = compose.services(node)
    wanted = expect(node, "expected_services")
    bad = [f"{s}: {found[s].status if s in found else 'missing'}" for s in wanted
           if s not in found or found[s].status != "running"]
    assert not bad, f"{node.name}: expected running services; found " + ", ".join(bad)


@control("VIDJIL-CTR-02", "Every Vidjil service restarts after a failure or reboot", "high", REF)
@pytest.mark.hosts("vidjil")
def test_restart_policy(node) -> None:  # noqa: ANN001
    found = compose.services(node)
    bad = [f"{s}: {c.attrs['HostConfig'].get('RestartPolicy', {}).get('Name') or 'no'}" for s, c in found.items()
           if s in expect(node, "expected_services")
           and (c.attrs["HostConfig"].get("RestartPolicy", {}).get("Name") or "no") == "no"]
    assert not bad, f"{node.name}: services without a restart policy: {', '.join(bad)}"


@control("VIDJIL-CTR-03", "Services with a healthcheck report healthy", "high",
         "seed 004: Docker -- Troubleshooting (Can't connect to MySQL server)")
@pytest.mark.hosts("vidjil")
def test_healthchecks(node) -> None:  # noqa: ANN001
    found = compose.services(node)
    checked = {s: c.attrs["State"].get("Health", {}).get("Status") for s, c in found.items()
               if c.attrs["State"].get("Health")}
    if not checked:
        pytest.fail(f"{node.name}: no service has a healthcheck (mysql should)", pytrace=False)
    bad = [f"{s}: {status}" for s, status in checked.items() if status != "healthy"]
    assert not bad, f"{node.name}: unhealthy: {', '.join(bad)}"


@control("VIDJIL-NET-01", "fuse, MySQL and uwsgi are not published outside the compose network", "critical",
         "seed 004: Requirements (Network)")
@pytest.mark.hosts("vidjil")
def test_private_services_unpublished(node) -> None:  # noqa: ANN001
    found = compose.services(node)
    exposed = []
    for name, ports in expect(node, "private_services").items():
        container = found.get(name)
        if container is None:
            continue
        bindings = container.attrs["HostConfig"].get("PortBindings") or {}
        for port in ports:
            for proto in ("tcp", "udp"):
                if bindings.get(f"{port}/{proto}"):
                    exposed.append(f"{name} {port}/{proto} -> {bindings[f'{port}/{proto}']}")
        if container.attrs["HostConfig"].get("NetworkMode") == "host":
            exposed.append(f"{name} uses the host network")
    assert not exposed, f"{node.name}: published outside the compose network: {'; '.join(exposed)}"


@control("VIDJIL-CFG-01", "Fewer scheduler workers than CPUs, keeping a core for the web server", "medium",
         "seed 004: Requirements (CPU, RAM)")
@pytest.mark.hosts("vidjil")
def test_workers_fewer_than_cpus(node, vidjil_https) -> None:  # noqa: ANN001
    cpus = int(compose.client(node).info().get("NCPU", 0))
    text = vidjil_https.get("/vidjil/admin/monitor").response.text
    workers = next((int(line.split("=", 1)[1]) for line in text.splitlines() if line.startswith("ALL=")), None)
    assert workers is not None, f"{node.name}: admin/monitor shows no worker count"
    assert workers < cpus, f"{node.name}: {workers} workers on {cpus} CPUs; expected fewer workers than CPUs"


@control("VIDJIL-CFG-02", "AUTODELETE is off in the Vidjil app model", "high",
         "seed 004: Autodelete and Permissions")
@pytest.mark.hosts("vidjil")
def test_autodelete_off(node) -> None:  # noqa: ANN001
    path = expect(node, "vidjil_app_model")
    code, out = compose.run(node, "uwsgi", f"grep -E '^[[:space:]]*AUTODELETE[[:space:]]*=' {path}")
    assert code == 0, f"{node.name}: no AUTODELETE setting in {path}"
    value = out.strip().splitlines()[-1].split("=", 1)[1].strip()
    assert value == "False", f"{node.name}: AUTODELETE = {value} in {path}; expected False"
