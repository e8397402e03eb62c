r"""The one way user and scheduler text reaches a terminal: control characters shown escaped.

Job names, commands, paths, reasons and error messages come from users and schedulers.
Printed raw, an ESC starts CSI/OSC sequences that move the cursor, retitle the window,
write hyperlinks or reach the clipboard; CR, BS and bidi overrides hide or reorder text.
``shown`` writes every such character as a visible escape (``\\x1b``, ``\\u202e``);
``markup`` also escapes Rich markup for text placed in tables and panels.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final


_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_LINES: Final = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: object, *, lines: bool = False) -> str:
    """``text`` with every control, line-separator and bidi character escaped.

    Args:
        text: anything; it is turned into ``str`` first.
        lines: keep newlines and tabs (a message or script of several lines).
    """
    pattern = _CONTROL_KEEP_LINES if lines else _CONTROL
    return pattern.sub(_escaped, str(text))


def markup(text: object) -> str:
    """``shown(text)`` made literal for Rich markup (table cells, titles)."""
    from rich.markup import escape

    return escape(shown(text))


def is_terminal_safe(text: str, *, lines: bool = False) -> bool:
    """Whether ``text`` holds nothing ``shown`` would escape (no C0/C1 control at all)."""
    pattern = _CONTROL_KEEP_LINES if lines else _CONTROL
    return pattern.search(text) is None and all(
        unicodedata.category(c) != "Cc" or (lines and c in "\n\t") for c in text
    )


COMMAND_LIMIT: Final = 80
"""Characters of a command (or name) a job table shows; the rest is cut to ``...``."""


def clip(text: str, limit: int = COMMAND_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, ending in ``...`` when it was longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
