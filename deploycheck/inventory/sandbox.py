"""Ansible's templating, in Jinja's sandbox.

An inventory is written by others (colleagues, cloud tags through an
inventory script) and Ansible's templating is not a sandbox: a value such as
``{{ lipsum.__globals__.os.system(...) }}`` reaches Python's internals through
attributes. Every template deploycheck renders, and every template Ansible
renders while reading an inventory in this process (a ``constructed``
plugin's ``compose``, say), goes through environments that are Jinja's
``SandboxedEnvironment`` and Ansible's environment at once: Ansible's filters
and tests, its lazy variables and ``!unsafe``, without attribute access to
internals, without lookups, and without the filters that read the controller
(its files, its environment) or burn its CPU on purpose.

Bounds on time and memory are not the sandbox's business (a template can
loop or grow without touching anything private): deploycheck.inventory.isolation
runs the rendering in a child process with limits.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_TEXT = 1 << 20  # characters or items one operator may build (a rendered value is bounded again as a whole)
MAX_EXPONENT = 4096  # bits: 2 ** 10 ** 10 would take the CPU for hours in one C call
# filters that read the controller (files, environment, vault secrets) or cost CPU by design
DENIED_FILTERS = frozenset({"fileglob", "realpath", "expandvars", "vault", "unvault", "password_hash"})
DENIED_TESTS = frozenset({"exists", "file", "directory", "link", "is_file", "is_dir", "is_link", "mount", "is_mount",
                          "same_file", "samefile", "abs", "is_abs", "vault_encrypted", "vaulted_file"})


class BoundError(SecurityError):
    """A template that would build a value past deploycheck's bounds."""


def _denied(kind: str, name: str) -> Callable[..., Any]:
    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise SecurityError(f"the {kind} '{name}' reads the controller or costs it CPU; deploycheck does not run it "
                            "for inventory values")

    return refuse


class _Guarded(MutableMapping[str, Any]):
    """Ansible's filter or test mapping, with the denied names refused by their
    short and fully qualified names (``ansible.builtin.fileglob`` too)."""

    def __init__(self, delegate: MutableMapping[str, Any], denied: frozenset[str], kind: str) -> None:
        self._delegate = delegate
        self._denied = denied
        self._kind = kind

    def __getitem__(self, key: str) -> Any:
        if str(key).rsplit(".", 1)[-1] in self._denied:
            return _denied(self._kind, str(key))
        return self._delegate[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._delegate[key] = value

    def __delitem__(self, key: str) -> None:
        del self._delegate[key]

    def __contains__(self, key: object) -> bool:
        return key in self._delegate

    def __iter__(self) -> Iterator[str]:
        return iter(self._delegate)

    def __len__(self) -> int:
        return len(self._delegate)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple) else 1


def _bounded_binop(operator_name: str, left: Any, right: Any) -> Any:
    """``*`` and ``**``, the operators that grow a value by a factor in one C call."""
    if operator_name == "**":
        if isinstance(right, int) and isinstance(left, int) and abs(left) > 1 and \
                right * max(abs(left).bit_length(), 1) > MAX_EXPONENT:
            raise BoundError(f"the power {left} ** {right} is beyond deploycheck's bounds")
        return operator.pow(left, right)
    if isinstance(left, int) and isinstance(right, int):
        return operator.mul(left, right)
    count = right if isinstance(right, int) else left if isinstance(left, int) else 1
    if isinstance(count, int) and count * max(_size(left), _size(right)) > MAX_TEXT:
        raise BoundError(f"a repetition to more than {MAX_TEXT} characters or items is beyond deploycheck's bounds")
    return operator.mul(left, right)


class _Sandboxing:
    """What both sandboxed Ansible environments add to Ansible's."""

    intercepted_binops = frozenset({"*", "**"})

    def _guard(self) -> None:
        env: Any = self
        env.filters = _Guarded(env.filters, DENIED_FILTERS, "filter")
        env.tests = _Guarded(env.tests, DENIED_TESTS, "test")

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name in ("*", "**"):
            return _bounded_binop(operator_name, left, right)
        # a mixin: self is a SandboxedEnvironment in both classes that use it
        return SandboxedEnvironment.call_binop(self, context, operator_name, left, right)  # type: ignore[arg-type]

    def is_safe_callable(self, obj: Any) -> bool:
        """Lookups run plugins on the controller (files, commands, URLs): never."""
        if getattr(getattr(obj, "__func__", None), "__name__", "") in ("_lookup", "_query_lookup"):
            return False
        return SandboxedEnvironment.is_safe_callable(self, obj)  # type: ignore[arg-type]  # self: see call_binop


@functools.cache
def install() -> None:
    """Make every Templar of this process sandboxed (Ansible picks its
    environment class by module-level name when a Templar is made)."""
    import ansible.template as templating

    class SandboxedAnsibleEnvironment(_Sandboxing, SandboxedEnvironment, templating.AnsibleEnvironment):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guard()

    class SandboxedAnsibleNativeEnvironment(_Sandboxing, SandboxedEnvironment, templating.AnsibleNativeEnvironment):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._guard()

    templating.AnsibleEnvironment = SandboxedAnsibleEnvironment
    templating.AnsibleNativeEnvironment = SandboxedAnsibleNativeEnvironment
    copy = templating.Templar.copy_with_new_env
    copy.__defaults__ = (SandboxedAnsibleEnvironment,)


def refused(exc: BaseException) -> BaseException | None:
    """The sandbox's refusal, or an exhausted bound (memory, recursion), behind
    an error Ansible wrapped in its own, if that is what it is."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, SecurityError | MemoryError | RecursionError):
            return item
        stack += [getattr(item, "orig_exc", None), item.__cause__, item.__context__]
    return None
