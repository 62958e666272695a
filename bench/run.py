"""`make bench`: how quickly the suite reaches a verdict on the warm reference
stack, as ratios against goals; results in reports/bench.json.

Measures, in one run: the default suite's wall time against its floor
(pytest start-up + the longest single control), serial against parallel,
remote commands and connections per host and worker, the IDR stack with one
and with four read-only servers; every host over SSH with the inner ones
through the proxy as a jump host, at 0 and at 50 ms round trip (latency),
against a plain testinfra-style baseline, and with sixteen read-only servers
(scale16); warm `make check` end to end and the cold build of the reference
images. The stack is left as `make check` wants it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import cpu
from bench.remote import JUMP_ALIAS, Remote, accepted_logins, remote_idr
from deploycheck import stack

ROOT = Path(__file__).resolve().parent.parent
IDR = f"--inventory={ROOT / 'inventories' / 'reference-idr.yml'}"
FOUR_READONLY = f"--inventory={ROOT / 'bench' / 'readonly-x4.yml'}"
GOALS = {"floor_ratio": 1.5, "scaling_ratio": 1.3, "make_check_s": 45.0, "latency_added_s": 1.0,
         "scale16_ratio": 1.3}
DELAY_MS = 25.0  # each way: a 50 ms round trip
RUN_TIMEOUT_S = 600
WARM_RUNS = 2  # unmeasured runs on newly started hosts (scale16)


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def _no_job_summary() -> dict[str, str]:
    """The environment without GITHUB_STEP_SUMMARY: bench runs are no CI job result."""
    return {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}


def pytest_run(*args: str) -> tuple[float, dict[str, Any]]:
    """Wall time of one default-suite pytest run and its controls.json; a run
    with a failing control is no measurement of speed, so it stops the bench."""
    with tempfile.TemporaryDirectory(prefix="deploycheck-bench-") as reports:
        cmd = [sys.executable, "-m", "pytest", *args, "-m", "not disruptive", "-q", "-p", "no:cacheprovider",
               f"--reports-dir={reports}"]
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                              env=_no_job_summary())
        wall = time.perf_counter() - started
        if done.returncode not in (0, 5) or ("--collect-only" not in args and done.returncode != 0):
            tail = "\n".join(done.stdout.strip().splitlines()[-5:])
            raise SystemExit(f"bench: pytest {' '.join(args)} failed ({done.returncode}); fix the stack first:\n{tail}")
        report = Path(reports) / "controls.json"
        return wall, json.loads(report.read_text()) if report.exists() else {}


def repeated(times: int, *args: str) -> tuple[float, list[float], dict[str, Any]]:
    """Median wall time of ``times`` runs, every time, and the report of the median run."""
    runs = [pytest_run(*args) for _ in range(times)]
    walls = [w for w, _ in runs]
    median = statistics.median(walls)
    closest = min(runs, key=lambda r: abs(r[0] - median))
    return median, walls, closest[1]


def per_host(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Remote commands per host and the most connections (shells) and tunnels
    (database relays) any one process (a worker, or pytest-xdist's controller)
    opened to it."""
    run = report["run"]
    shells, tunnels = run.get("connections", {}), run.get("tunnels", {})
    hosts = sorted(set(run.get("remote_commands", {})) | set(shells))
    return {h: {"commands": run.get("remote_commands", {}).get(h, 0),
                "connections_per_worker_max": max(shells.get(h, {"-": 0}).values()),
                "tunnels_per_worker_max": max(tunnels.get(h, {"-": 0}).values()),
                "workers": len(shells.get(h, {}))} for h in hosts}


def longest(report: dict[str, Any]) -> dict[str, Any]:
    slowest = max(report["controls"], key=lambda c: c["duration_s"])
    return {"id": slowest["id"], "host": slowest["host"], "duration_s": slowest["duration_s"]}


def round_trips(report: dict[str, Any]) -> dict[str, Any]:
    """Remote commands per host: asked by controls, asked ahead by the warm-up,
    and the round trips all of them took over the hosts' connections; HTTP requests."""
    run = report["run"]
    return {"remote_commands_per_host": run.get("remote_commands", {}),
            "prefetched_commands_per_host": run.get("prefetched_commands", {}),
            "round_trips_per_host": run.get("round_trips", {}), "http_requests": run.get("http_requests")}


def peer_baseline(remote: Remote, report: dict[str, Any]) -> dict[str, Any]:
    """The same number of commands per host as the suite ran (asked ahead too), each its own
    ``host.run`` over SSH, one host after the other, as a plain testinfra
    suite gathers facts (IDR's molecule tests): the round trips it pays."""
    import testinfra

    run = report["run"]
    commands = {h: run.get("remote_commands", {}).get(h, 0) + run.get("prefetched_commands", {}).get(h, 0)
                for h in {*run.get("remote_commands", {}), *run.get("prefetched_commands", {})}}
    started = time.perf_counter()
    for name, count in commands.items():
        if name not in remote.ssh_hosts:
            continue
        alias = JUMP_ALIAS if name == "idr-proxy" else name
        host = testinfra.get_host(f"ssh://{alias}", ssh_config=str(remote.ssh_config))
        for _ in range(int(count)):
            host.run("true")
    ran = sum(int(c) for n, c in commands.items() if n in remote.ssh_hosts)
    return {"commands": ran, "wall_s": round(time.perf_counter() - started, 2)}


def measure_remote(times: int) -> dict[str, Any]:
    """Every host over SSH (inner ones through the proxy as jump host), the
    site through relays: at 0 and at 50 ms round trip; then 16 read-only
    servers at 50 ms against 1."""
    stack.up(stack.STACKS["idr"])
    say(f"every host over SSH, inner hosts through the proxy, at 0 and {2 * DELAY_MS:.0f} ms round trip, "
        f"{times} pairs of runs")
    with remote_idr(0.0) as near, remote_idr(DELAY_MS) as far:
        zero_all, slow_all, reports = [], [], []
        for _ in range(times):  # paired, one after the other: the machine's drift hits both alike
            zero_all.append(pytest_run(f"--inventory={near.inventory}", "-n", "auto")[0])
            before = accepted_logins(far.ssh_hosts)
            with cpu.used() as used:
                wall, report = pytest_run(f"--inventory={far.inventory}", "-n", "auto")
            after = accepted_logins(far.ssh_hosts)
            slow_all.append(wall)
            reports.append((wall, report | {"logins": {h: after[h] - before[h] for h in far.ssh_hosts}, "cpu": used}))
        zero, slow = statistics.median(zero_all), statistics.median(slow_all)
        slow_report = min(reports, key=lambda r: abs(r[0] - slow))[1]
        say("peer baseline: one host.run per command over SSH")
        peer = peer_baseline(far, slow_report)
    added = statistics.median(far_s - near_s for near_s, far_s in zip(zero_all, slow_all, strict=True))
    latency = {"zero_s": round(zero, 2), "zero_runs_s": [round(x, 2) for x in zero_all],
               "added_is": "median of the paired differences",
               "rtt_ms": 2 * DELAY_MS, "slow_s": round(slow, 2), "slow_runs_s": [round(x, 2) for x in slow_all],
               "added_s": round(added, 2), "goal_added_s": GOALS["latency_added_s"],
               "met": added <= GOALS["latency_added_s"], **round_trips(slow_report),
               "connections": per_host(slow_report), "ssh_logins_per_host": slow_report["logins"],
               "peer_baseline": {**peer, "ratio_to_suite": round(peer["wall_s"] / slow, 2)}}
    say("sixteen read-only servers")
    sixteen = tuple(f"idr-omeroreadonly-{i}" for i in range(1, 17))
    with stack.scaled_out("idr-ro16") as scale_up, remote_idr(DELAY_MS, readonly=sixteen) as remote:
        # the 15 new hosts' services answer their first requests slowly (their CPU falls over the first
        # three runs, about 11, 8, then 6 CPU-s, and stays), as the one server's did long before:
        # two runs first, not measured, as production is warm
        first = [pytest_run(f"--inventory={remote.inventory}", "-n", "auto")[0] for _ in range(WARM_RUNS)]
        with cpu.used(times) as many_cpu:
            many, many_all, many_report = repeated(times, f"--inventory={remote.inventory}", "-n", "auto")
    ratio = many / slow
    scale16 = {"one_readonly_s": round(slow, 2), "sixteen_readonly_s": round(many, 2),
               "sixteen_runs_s": [round(x, 2) for x in many_all],
               "first_runs_unmeasured_s": [round(x, 2) for x in first], "ratio": round(ratio, 2),
               "goal_ratio": GOALS["scale16_ratio"], "met": ratio <= GOALS["scale16_ratio"],
               "controls": len(many_report["controls"]), "scale_out_s": round(scale_up, 1),
               # CPU seconds per run; the hosts' containers share this machine's CPUs with the suite
               "cpu": {"cpus": os.cpu_count(), "one_readonly": slow_report["cpu"], "sixteen_readonly": many_cpu,
                       "floor_ratio": round(many_cpu["floor_s"] / slow, 2)}}
    return {"latency": latency, "scale16": scale16}


def measure(times: int, cold: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                              "runs_per_median": times, "goals": GOALS}
    say("warm IDR reference stack (one read-only server)")
    stack.up(stack.STACKS["idr"])

    say("pytest start-up (collection only)")
    startup, startup_all, _ = repeated(times, IDR, "--collect-only")
    say(f"default suite, parallel (-n auto), {times} runs")
    parallel, parallel_all, report = repeated(times, IDR, "-n", "auto")
    slowest = longest(report)
    floor = startup + slowest["duration_s"]
    result["suite"] = {"startup_s": round(startup, 2), "startup_runs_s": [round(x, 2) for x in startup_all],
                       "parallel_s": round(parallel, 2), "parallel_runs_s": [round(x, 2) for x in parallel_all],
                       "longest_control": slowest, "floor_s": round(floor, 2),
                       "floor_ratio": round(parallel / floor, 2), "controls": len(report["controls"]),
                       "http_requests": report["run"].get("http_requests")}
    say("default suite, serial (-n 0)")
    serial, _, serial_report = repeated(1, IDR, "-n", "0")
    result["serial"] = {"serial_s": round(serial, 2), "serial_over_parallel": round(serial / parallel, 2),
                        "per_host_parallel": per_host(report), "per_host_serial": per_host(serial_report)}

    say("IDR stack with four read-only servers")
    with stack.scaled_out("idr-ro4") as scale_up:
        four, four_all, four_report = repeated(times, IDR, FOUR_READONLY, "-n", "auto")
    result["scaling"] = {"one_readonly_s": round(parallel, 2), "four_readonly_s": round(four, 2),
                         "four_readonly_runs_s": [round(x, 2) for x in four_all],
                         "scaling_ratio": round(four / parallel, 2), "controls_one": len(report["controls"]),
                         "controls_four": len(four_report["controls"]), "scale_out_s": round(scale_up, 1)}

    result.update(measure_remote(times))

    say("warm `make check` end to end")
    started = time.perf_counter()
    done = subprocess.run(["make", "check"], cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          env=_no_job_summary())
    result["make_check"] = {"wall_s": round(time.perf_counter() - started, 2), "exit_status": done.returncode}
    if cold:
        say("cold build of the reference images (no build cache; the debootstrap base is kept)")
        took = {name: round(stack.build(stack.STACKS[name], no_cache=True), 1) for name in stack.DEFAULT_STACKS}
        result["cold_build_s"] = {**took, "total": round(sum(took.values()), 1)}
        stack.up(stack.STACKS["idr"])
    result["verdict"] = {
        "floor_ratio": result["suite"]["floor_ratio"] <= GOALS["floor_ratio"],
        "scaling_ratio": result["scaling"]["scaling_ratio"] <= GOALS["scaling_ratio"],
        "make_check_s": result["make_check"]["wall_s"] <= GOALS["make_check_s"] and done.returncode == 0,
        "one_connection_per_host_per_worker": all(  # a shell, plus at most one database tunnel
            h["connections_per_worker_max"] <= 1 and h["tunnels_per_worker_max"] <= 1
            for h in [*result["serial"]["per_host_parallel"].values(), *result["latency"]["connections"].values()]),
        "latency_added_s": result["latency"]["met"],
        "scale16_ratio": result["scale16"]["met"],
    }
    return result


def _cpu_row(cpu: dict[str, Any]) -> str:
    def one(c: dict[str, Any]) -> str:
        return f"{c['machine_s']}, {c['hosts_s']}, {c['suite_s']}"
    return f"1 host: {one(cpu['one_readonly'])}; 16: {one(cpu['sixteen_readonly'])} s"


def table(result: dict[str, Any]) -> str:
    suite, serial, scaling = result["suite"], result["serial"], result["scaling"]
    slowest = suite["longest_control"]
    rows = [
        ("suite wall time (-n auto, median)", f"{suite['parallel_s']} s", ""),
        ("floor: start-up + longest control",
         f"{suite['startup_s']} + {slowest['duration_s']} s ({slowest['id']})", ""),
        ("suite / floor", f"{suite['floor_ratio']} x", f"<= {GOALS['floor_ratio']} x"),
        ("serial (-n 0)", f"{serial['serial_s']} s = {serial['serial_over_parallel']} x parallel", ""),
        ("4 read-only hosts / 1", f"{scaling['four_readonly_s']} / {scaling['one_readonly_s']} s = "
         f"{scaling['scaling_ratio']} x", f"<= {GOALS['scaling_ratio']} x"),
        ("warm make check", f"{result['make_check']['wall_s']} s", f"<= {GOALS['make_check_s']:.0f} s"),
        (f"SSH + jump, {result['latency']['rtt_ms']:.0f} ms RTT - 0 ms",
         f"{result['latency']['slow_s']} - {result['latency']['zero_s']} = {result['latency']['added_s']} s",
         f"<= {GOALS['latency_added_s']} s"),
        ("peer baseline (host.run per command)", f"{result['latency']['peer_baseline']['wall_s']} s = "
         f"{result['latency']['peer_baseline']['ratio_to_suite']} x the suite", ""),
        ("round trips per host (50 ms run)", ", ".join(f"{h} {n}" for h, n in
                                                      result["latency"].get("round_trips_per_host", {}).items()), ""),
        ("SSH logins per host (50 ms run)", ", ".join(f"{h} {n}" for h, n in
                                                     result["latency"].get("ssh_logins_per_host", {}).items()), ""),
        ("16 read-only hosts / 1 (50 ms RTT)", f"{result['scale16']['sixteen_readonly_s']} / "
         f"{result['scale16']['one_readonly_s']} s = {result['scale16']['ratio']} x", f"<= {GOALS['scale16_ratio']} x"),
        ("  CPU per run: machine, hosts, suite", _cpu_row(result["scale16"]["cpu"]), ""),
        ("  16 hosts' CPU floor / 1 host's wall", f"{result['scale16']['cpu']['sixteen_readonly']['floor_s']} / "
         f"{result['scale16']['one_readonly_s']} s = {result['scale16']['cpu']['floor_ratio']} x",
         f"{result['scale16']['cpu']['cpus']} CPUs"),
    ]
    if "cold_build_s" in result:
        cold = result["cold_build_s"]
        parts = ", ".join(f"{k} {v} s" for k, v in cold.items() if k != "total")
        rows.append(("cold image build", f"{cold['total']} s ({parts})", ""))
    lines = [f"{a:<36} {b:<44} {c}" for a, b, c in rows]
    lines.append("per host (parallel run): remote commands; connections and database tunnels per process (most), "
                 "the processes being the workers and, with SSH hosts or the warm-up answered once, the controller")
    lines += [f"  {h:<22} {v['commands']:>4} commands  {v['connections_per_worker_max']} connection x "
              f"{v['workers']} process(es)  {v['tunnels_per_worker_max']} tunnel(s)"
              for h, v in serial["per_host_parallel"].items()]
    lines.append("goals: " + ", ".join(f"{k} {'met' if ok else 'MISSED'}" for k, ok in result["verdict"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per median (default 3)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold image build (about 2 minutes)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench.json"))
    args = parser.parse_args(argv)
    try:
        result = measure(max(1, args.runs), cold=not args.no_cold)
    except stack.StackError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    say(f"written {out}")
    return 0 if all(result["verdict"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
