"""The Java runtime a systemd service runs on. A JVM among the unit's
processes is what it actually runs; when there is none (the service is
down, or its launcher is not Java), the runtime its start script would
pick: ``$JAVA_HOME/bin/java`` of the unit's environment, else ``java`` on
the PATH (what Gradle's start scripts, such as the microservice's, do)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from deploycheck.facts import hostfacts
from deploycheck.inventory.loader import Node


@dataclass(frozen=True)
class Runtime:
    path: str  # the java binary
    version: str  # as `java -version` prints it (its JDK's release file says the same), e.g. 17.0.15 or 1.8.0_392
    running: bool  # True: a process of the unit runs it; False: the unit's environment names it

    @property
    def major(self) -> int:
        """8 for 1.8.0_392, 17 for 17-ea; 0 for a version that names no release, so no minimum accepts it
        and the control shows the version as printed."""
        parts = self.version.split(".")
        release = re.match(r"\d+", parts[1] if parts[0] == "1" and len(parts) > 1 else parts[0])
        return int(release.group(0)) if release else 0


def processes_command(unit: str) -> str:
    return ("pid=$(systemctl show -p MainPID --value -- " + shlex.quote(unit) + "); "
            "[ \"${pid:-0}\" != 0 ] || exit 0; ps -e -o pid=,ppid= | "
            "awk -v root=\"$pid\" '{p[$1]=$2} END {for (c in p) {x=c; while (x && x != root) x=p[x]; "
            "if (x == root) print c}}' | while read c; do echo \"$c $(readlink /proc/$c/exe)\"; done")


# The version of the java in $j: the JAVA_VERSION of its JDK's ``release`` file (the JDK's own root,
# or above ``jre/`` for Java 8), which a JDK ships beside ``bin/``, else what ``$j -version`` prints.
# Reading the file costs the host two small programs; ``-version`` starts a JVM (some 40 ms of CPU).
_VERSION_OF_J = (
    'h=$(readlink -f -- "$j"); case $h in */bin/java) h=${h%/bin/java}; for r in "$h/release" "${h%/jre}/release"; '
    "do v=$(sed -n 's/^JAVA_VERSION=\\(\"[^\"]*\"\\)$/\\1/p' -- \"$r\" 2>/dev/null); "
    '[ -n "$v" ] && echo "release version $v" && exit 0; done;; esac; "$j" -version 2>&1; true')


def version_command(java: str) -> str:
    return f"j={shlex.quote(java)}; {_VERSION_OF_J}"


def running_java(node: Node, unit: str) -> str | None:
    """The first JVM among the unit's processes, if any."""
    exes = sorted({exe for _, exe in unit_processes(node, unit) if exe})
    return next((exe for exe in exes if exe.rsplit("/", 1)[-1] == "java"), None)


def unit_processes(node: Node, unit: str) -> list[tuple[int, str]]:
    """(pid, executable) of the unit's processes: its main process and their descendants."""
    out = hostfacts.output(node, processes_command(unit))
    return [(int(pid), exe) for pid, _, exe in (line.partition(" ") for line in out.splitlines()) if pid.isdigit()]


def environment_command(unit: str) -> str:
    return f"systemctl show -p Environment --value -- {shlex.quote(unit)}"


def java_home(node: Node, unit: str) -> str:
    """JAVA_HOME of the unit's environment ("" when unset): the last assignment wins, as in systemd."""
    env = hostfacts.output(node, environment_command(unit))
    homes = [word.split("=", 1)[1] for word in shlex.split(env) if word.startswith("JAVA_HOME=")]
    return homes[-1] if homes else ""


def started_command(home: str) -> str:
    """The java a start script would pick (``$JAVA_HOME/bin/java``, else
    ``java`` on the PATH) on its first line, then its version: one
    round trip for what would otherwise be two."""
    pick = (f"test -x {shlex.quote(home + '/bin/java')} && echo {shlex.quote(home + '/bin/java')} || command -v java"
            if home else "command -v java")
    return f'j=$({pick}); [ -n "$j" ] || exit 0; echo "$j"; {_VERSION_OF_J}'


def second_command(node: Node, unit: str) -> str:
    """What ``runtime`` asks once the unit's processes (and environment) are known."""
    running = running_java(node, unit)
    return version_command(running) if running else started_command(java_home(node, unit))


def runtime(node: Node, unit: str) -> tuple[Runtime | None, list[str]]:
    """The unit's Java runtime, and the executables its processes run (for the message)."""
    exes = sorted({exe for _, exe in unit_processes(node, unit) if exe})
    running = running_java(node, unit)
    text = hostfacts.output(node, second_command(node, unit))
    if running:
        candidate = running
    else:
        candidate, _, text = text.partition("\n")
        if not candidate.strip():
            return None, exes
    version = re.search(r'version "([^"]+)"', text)
    return (Runtime(candidate.strip(), version.group(1), bool(running)) if version else None), exes
