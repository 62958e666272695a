"""Host names and messages as deploycheck shows them. An inventory's host
names and what hosts answer may hold control characters (a terminal escape,
a bell, NUL): written raw they would drive the reader's terminal or make
junit.xml invalid XML. They are shown escaped (``\\x1b``), once, where names
and messages enter the reports and the terminal lines; the escaped form is
plain printable text, so escaping it again changes nothing."""

from __future__ import annotations

import re

# Unicode category Cc, plus what XML and UTF-8 cannot carry (lone surrogates, U+FFFE, U+FFFF)
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_UNSHOWABLE_IN_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_COLOUR = re.compile("(\x1b\\[[0-9;]*m)")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object) -> str:
    """A name or one-line text, every control character escaped (newlines and tabs too)."""
    return _UNSHOWABLE.sub(_escaped, str(value))


def lines(value: object, keep_colours: bool = False) -> str:
    """A message of several lines: newlines and tabs kept, every other control
    character escaped; with ``keep_colours``, also colour sequences (SGR, as
    pytest writes in its explanations when the terminal is coloured)."""
    if not keep_colours:
        return _UNSHOWABLE_IN_LINES.sub(_escaped, str(value))
    parts = _COLOUR.split(str(value))  # text, colour, text, ...
    return "".join(part if i % 2 else lines(part) for i, part in enumerate(parts))
