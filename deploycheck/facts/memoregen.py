"""Status of a memo-file regeneration run (regen-memo-files.sh results).

Counts what memofile-regen-status.sh counts: images in the run's image
list, and ``ok:``, ``skip:`` and ``fail:`` lines in the jobs' ``stdout``
files; a run is complete once its ``timed`` file exists.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass
class MemoStatus:
    folder: str
    total: int
    ok: int
    skip: int
    fail: int
    complete: bool
    real_s: float | None

    @property
    def processed(self) -> int:
        return self.ok + self.skip + self.fail

    @property
    def fail_pct(self) -> float:
        return 100.0 * self.fail / self.processed if self.processed else 0.0

    def line(self) -> str:
        state = f"complete in {self.real_s:.0f} s" if self.complete and self.real_s is not None else (
            "complete" if self.complete else "not complete")
        return (f"{self.folder}: processed {self.processed}/{self.total}, OK {self.ok}, Skip {self.skip}, "
                f"Fail {self.fail} ({self.fail_pct:.1f} %), {state}")


def status_command(results_dir: str) -> str:
    """One shell command printing key=value facts of the newest rslt.* folder."""
    d = shlex.quote(results_dir.rstrip("/"))
    return (
        f'r=$(ls -dt {d}/rslt.* 2>/dev/null | head -n 1); [ -n "$r" ] || {{ echo "folder="; exit 0; }}; '
        'echo "folder=$r"; '
        'echo "lists=$(ls "$r"/image-list-*.csv 2>/dev/null | wc -l)"; '
        'echo "total=$(cat "$r"/image-list-*.csv 2>/dev/null | wc -l)"; '
        'out=$(find "$r/1" -name stdout -type f -size +0 2>/dev/null); '
        'for k in ok skip fail; do n=0; [ -n "$out" ] && n=$(cat $out | grep -c " - $k: "); echo "$k=$n"; done; '
        '[ -f "$r/timed" ] && echo "real=$(awk \'$1 == "real" {print $2}\' "$r/timed")"; true'
    )


def parse_status(text: str) -> MemoStatus | None:
    """The facts printed by :func:`status_command`; None when there is no results folder."""
    facts = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if not facts.get("folder"):
        return None
    if facts.get("lists", "0").strip() in ("", "0"):
        raise ValueError(f"{facts['folder']}: no image-list-*.csv; not a regen-memo-files.sh results folder")
    real = facts.get("real")
    try:
        real_s = float(real) if real else None
    except ValueError:
        real_s = None
    return MemoStatus(
        folder=facts["folder"], total=int(facts.get("total") or 0), ok=int(facts.get("ok") or 0),
        skip=int(facts.get("skip") or 0), fail=int(facts.get("fail") or 0), complete=real_s is not None, real_s=real_s,
    )
