"""Shell command templates from the inventory (``binary_restore_command``)
filled with values from the inventory. A value pasted into the text, quoted
or not, is parsed by the shell again: a template that quotes its own
placeholder ('"{sample}"') turns a quoted value inside out and runs its
``$(...)``. Values are therefore never pasted: they reach ``sh -c`` as
positional parameters, and each placeholder becomes a reference to its
parameter that is whole in the quoting the template puts around it."""

from __future__ import annotations

import shlex

_UNQUOTED, _SINGLE, _DOUBLE = "", "'", '"'
# a reference to parameter N, as written in each quoting state: whole, never split, globbed or parsed again
_REFERENCE = {_UNQUOTED: '"${N}"', _SINGLE: "'\"${N}\"'", _DOUBLE: "${N}"}


class TemplateError(ValueError):
    """A template whose placeholder cannot be filled safely (escaped by a backslash)."""


def fill(template: str, values: dict[str, str]) -> str:
    """The command line that runs ``template`` with each ``{name}`` standing
    for ``values[name]``; other braces (``{}`` of find, awk's ``{print}``)
    stay as written."""
    names = list(values)
    script = _references(template, {f"{{{name}}}": i for i, name in enumerate(names, 1)})
    return " ".join(["sh", "-c", shlex.quote(script), "sh", *(shlex.quote(values[n]) for n in names)])


def _references(template: str, numbers: dict[str, int]) -> str:
    """``template`` with its placeholders replaced by parameter references,
    following sh's quoting as it goes (backslashes, single and double quotes)."""
    out: list[str] = []
    state, i = _UNQUOTED, 0
    while i < len(template):
        c = template[i]
        found = next((p for p in numbers if template.startswith(p, i)), None)
        if found is not None:
            out.append(_REFERENCE[state].replace("N", str(numbers[found])))
            i += len(found)
            continue
        if c == "\\" and state != _SINGLE and i + 1 < len(template):
            if any(template.startswith(p, i + 1) for p in numbers):
                raise TemplateError(f"a placeholder follows a backslash in {template[:60]!r}")
            out.append(template[i:i + 2])
            i += 2
            continue
        if state == _UNQUOTED and c in (_SINGLE, _DOUBLE):
            state = c
        elif state != _UNQUOTED and c == state:
            state = _UNQUOTED
        out.append(c)
        i += 1
    return "".join(out)
