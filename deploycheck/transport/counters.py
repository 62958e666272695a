"""What a run costs, counted in one place: remote commands, shells and relays
opened, HTTP requests. Each control's share is reported in controls.json, so
a control that opens connections or sends requests in a loop shows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RunCounters:
    """This process's counts; a control's share is ``after.since(before)``."""

    commands: Counter[str] = field(default_factory=Counter)  # remote commands run, by host name
    shells: Counter[str] = field(default_factory=Counter)  # shells opened, by host name
    relays: Counter[str] = field(default_factory=Counter)  # relayed (tunnel) connections opened, by host name
    http_requests: int = 0
    round_trips: Counter[str] = field(default_factory=Counter)  # exchanges over a host's connection, by host name
    prefetched: Counter[str] = field(default_factory=Counter)  # commands asked ahead by the warm-up, by host name

    def copy(self) -> RunCounters:
        return RunCounters(Counter(self.commands), Counter(self.shells), Counter(self.relays), self.http_requests,
                           Counter(self.round_trips), Counter(self.prefetched))

    def since(self, before: RunCounters) -> RunCounters:
        """What was added after ``before`` (counts only grow)."""
        return RunCounters(self.commands - before.commands, self.shells - before.shells,
                           self.relays - before.relays, self.http_requests - before.http_requests,
                           self.round_trips - before.round_trips, self.prefetched - before.prefetched)

    def links(self) -> dict[str, dict[str, int]]:
        """Connections opened by kind and host, under the names the reports use."""
        return {"connections": dict(self.shells), "tunnels": dict(self.relays)}


COUNTERS = RunCounters()
