"""Bounded children: an item past a bound is reported and costs the others nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from deploycheck.inventory import isolation


def _work(item: str) -> tuple[bool, Any]:
    if item == "loop":
        while True:
            pass
    if item == "grow":
        return True, len("x" * (512 << 20))
    if item == "object":
        return True, Path("/")
    if item == "huge":
        return True, "y" * (isolation.MAX_RESULT + 1)
    if item == "crash":
        os._exit(3)
    return True, {"item": item, "pid": os.getpid()}


def test_each_bound_ends_only_its_own_item() -> None:
    items = ["a", "loop", "b", "grow", "c", "object", "huge", "crash", "d"]
    results = isolation.run(items, _work, memory=64 << 20, seconds_each=1.0)
    by_item = dict(zip(items, results, strict=True))
    assert [by_item[i][1]["item"] for i in "abcd"] == list("abcd")
    assert all(by_item[i][0] for i in "abcd")
    assert by_item["loop"] == (False, "beyond deploycheck's bounds: takes more than 1 s")
    assert by_item["grow"][0] is False and "64 MiB" in by_item["grow"][1]
    assert by_item["object"][0] is False and "not a plain value" in by_item["object"][1]
    assert by_item["huge"][0] is False and "the result takes more than" in by_item["huge"][1]
    assert by_item["crash"][0] is False and "beyond deploycheck's bounds" in by_item["crash"][1]
    assert by_item["a"][1]["pid"] != os.getpid()


def _children() -> set[int]:
    """This process's live child processes, as the kernel lists them."""
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        found |= {int(pid) for pid in (task / "children").read_text().split()}
    return found


def test_no_child_is_left_behind() -> None:
    before = _children()
    isolation.run(["a", "loop", "b"], _work, seconds_each=0.5)
    assert _children() <= before
    try:
        reaped = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        reaped = (0, 0)
    assert reaped == (0, 0)  # and no zombie left unreaped
