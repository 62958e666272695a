"""Bounds on what an inventory may expand to, checked before the work they bound.

YAML aliases let a few hundred bytes stand for billions of values, and a
group's variables are every member host's: Ansible follows both without
limit (an alias bomb in ``children`` keeps it parsing forever), and
deploycheck's listing, masking and shipping pay once per host for every value
a host has. So the YAML files Ansible will read are measured first, from
their parse events (``check_files``), and the hosts Ansible built are
measured before deploycheck copies anything (``check_hosts``): each shared
part is counted once, and the work is a pass over what is written.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from deploycheck.inventory.loader import MAX_VALUES, InventoryError, Node

MAX_FILE_BYTES = 64 << 20  # one YAML file of an inventory, of its group_vars/ or host_vars/, or of waivers
MAX_TOTAL_VALUES = 2_000_000  # values of all hosts together (a --list of that many prints some 100 MB)
YAML_SUFFIXES = ("", ".yml", ".yaml", ".json")  # the files Ansible may read as YAML
_PARSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's events cost a tenth of Python's
_VAULTED = re.compile(r"^\s*\$ANSIBLE_VAULT;")


class ExpansionError(ValueError):
    """A YAML text that would expand past its budget, or into itself."""


def expanded_size(text: str | bytes, budget: int) -> int:
    """How many values (scalars and collections, keys included) ``text``
    holds once its aliases are followed, from its parse events: each
    anchored node's size is recorded when it ends, so an alias costs an
    addition and nested aliases (a billion laughs) are counted, never
    expanded. ExpansionError past ``budget`` or for an alias inside the node
    it names; yaml.YAMLError for text that is not YAML."""
    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[0, None]]  # [values so far, anchor] per open collection; the first is the stream
    opened: dict[str, int] = {}  # anchors of the open collections
    for event in yaml.parse(text, Loader=_PARSER):
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()  # anchors hold within their document
            continue
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append([1, event.anchor])
            if event.anchor is not None:
                opened[event.anchor] = opened.get(event.anchor, 0) + 1
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            count, anchor = stack.pop()
            if anchor is not None:
                opened[anchor] -= 1
        elif isinstance(event, yaml.ScalarEvent):
            count, anchor = 1, event.anchor
        elif isinstance(event, yaml.AliasEvent):
            assert event.anchor is not None  # the reader refuses an alias without a name
            if event.anchor not in sizes:
                if opened.get(event.anchor):
                    raise ExpansionError(f"the YAML alias *{event.anchor[:80]} is inside the node it names")
                return stack[0][0]  # an undefined alias: the YAML reader refuses the text itself
            count, anchor = sizes[event.anchor], None
        else:
            continue
        if anchor is not None:
            sizes[anchor] = count
        stack[-1][0] += count
        if stack[-1][0] > budget:
            raise ExpansionError(f"expands to more than {budget} values once YAML aliases are followed")
    return stack[0][0]


def read_bounded(path: Path) -> bytes:
    """The file's bytes; ExpansionError past MAX_FILE_BYTES (read no further)."""
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ExpansionError(f"larger than {MAX_FILE_BYTES >> 20} MiB; deploycheck reads no larger YAML file")
    return data


def check_file(path: Path) -> None:
    """One file Ansible may read as YAML, bounded; vault-encrypted files,
    text that is not UTF-8 or not YAML are left to Ansible, which refuses
    them or reads them without aliases."""
    try:
        text = read_bounded(path).decode("utf-8")
        if not _VAULTED.match(text):
            expanded_size(text, MAX_TOTAL_VALUES)
    except (OSError, UnicodeDecodeError):
        return  # Ansible says why it cannot read it
    except ExpansionError as exc:
        raise InventoryError(f"{path}: {exc}") from None
    except yaml.YAMLError:
        return


def _readable_yaml(path: Path) -> bool:
    """A file Ansible may read as YAML: a YAML suffix or none, not executable (a script Ansible runs)."""
    return path.suffix.lower() in YAML_SUFFIXES and path.is_file() and not os.access(path, os.X_OK)


def _yaml_files(folder: Path) -> Iterator[Path]:
    """The folder's YAML files, in linked folders too (as Ansible reads them), each folder once."""
    seen: set[str] = set()
    for root, dirs, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # Ansible skips hidden names and backups
        yield from (Path(root) / name for name in sorted(names)
                    if not name.startswith(".") and not name.endswith("~") and _readable_yaml(Path(root) / name))


def files(sources: Sequence[str | Path], playbook_dir: str | Path | None = None) -> list[Path]:
    """The files Ansible may read as YAML for these sources: YAML sources
    (folders walked), and ``group_vars/`` and ``host_vars/`` beside each
    source and the playbooks. Executable files (inventory scripts) are run by
    Ansible, not read."""
    found: list[Path] = []
    folders = [Path(playbook_dir)] if playbook_dir is not None else []
    for source in map(Path, sources):
        if source.is_dir():
            found += _yaml_files(source)
            folders.append(source)
        else:
            found += [source] if _readable_yaml(source) else []
            folders.append(source.parent)
    for folder in folders:
        for sub in ("group_vars", "host_vars"):
            if (folder / sub).is_dir():
                found += _yaml_files(folder / sub)
    return list(dict.fromkeys(found))


def check_files(sources: Sequence[str | Path], playbook_dir: str | Path | None = None) -> None:
    """Every YAML file Ansible will read for the sources, bounded before Ansible reads it."""
    for path in files(sources, playbook_dir):
        check_file(path)


def _size(value: Any, memo: dict[int, int], budget: int) -> int:
    """Values in ``value`` (collections included), a shared part counted
    wherever it appears yet walked once (``memo``, by identity: the values
    stay alive meanwhile); ``budget + 1`` for more, or for a value inside itself."""
    if not isinstance(value, dict | list | tuple):
        return 1
    if id(value) in memo:
        return memo[id(value)]
    stack: list[tuple[Any, bool]] = [(value, False)]
    walking: set[int] = set()
    while stack:
        item, children_done = stack.pop()
        key = id(item)
        if key in memo:
            continue
        children = list(item.values() if isinstance(item, dict) else item)
        nested = [c for c in children if isinstance(c, dict | list | tuple)]
        if children_done:
            walking.discard(key)
            memo[key] = min(budget + 1, len(children) - len(nested) + 1 + sum(memo[id(c)] for c in nested))
            continue
        if any(id(c) in walking or c is item for c in nested):
            return budget + 1
        walking.add(key)
        stack.append((item, True))
        stack.extend((c, False) for c in nested if id(c) not in memo)
    return memo[id(value)]


def check_hosts(hosts: Iterable[Node], label: str) -> None:
    """The hosts Ansible built, before deploycheck lists, masks or ships
    them: variable names are text, one variable holds at most MAX_VALUES
    values and all hosts together MAX_TOTAL_VALUES (a group's variable
    counts once per member: each host is listed and shipped with it)."""
    memo: dict[int, int] = {}
    total = 0
    for host in hosts:
        for name, value in host.vars.items():
            if not isinstance(name, str):
                raise InventoryError(f"{host.name}: variable name {str(name)[:80]} is a YAML "
                                     f"{type(name).__name__}, not text (quote it)")
            size = _size(value, memo, MAX_VALUES)
            if size > MAX_VALUES:
                raise InventoryError(f"{host.name}: variable {name} expands to more than {MAX_VALUES} values "
                                     "(nested YAML aliases?)")
            total += size
        if total > MAX_TOTAL_VALUES:
            raise InventoryError(f"{label}: the hosts' variables add up to more than {MAX_TOTAL_VALUES} values, a "
                                 "group's counted once per member host (a large variable of a large group?)")
