"""Reading single keys from a terminal in cbreak mode (termios), restored on exit."""

from __future__ import annotations

import os
import select
import termios
import tty
from typing import Any


_SEQUENCES = {
    "A": "up",
    "B": "down",
    "C": "right",
    "D": "left",
    "H": "home",
    "F": "end",
    "5~": "pageup",
    "6~": "pagedown",
    "1~": "home",
    "4~": "end",
}
_SINGLE = {"\r": "enter", "\n": "enter", "\x7f": "backspace", "\x08": "backspace", "\t": "tab"}


def parse_keys(data: str) -> list[str]:
    """Split terminal input into key names (``up``, ``enter``, ``escape``, ``q``, ...)."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        char = data[i]
        if char == "\x1b" and i + 1 < len(data) and data[i + 1] in "[O":
            end = i + 2
            while end < len(data) and not ("@" <= data[end] <= "~"):
                end += 1
            body = data[i + 2 : end + 1]
            keys.append(_SEQUENCES.get(body, _SEQUENCES.get(body[-1:], "unknown")))
            i = end + 1
            continue
        keys.append("escape" if char == "\x1b" else _SINGLE.get(char, char))
        i += 1
    return keys


class KeyReader:
    """Puts a terminal in cbreak mode (keys arrive unbuffered, Ctrl-C still works).

    Args:
        fd: the terminal's file descriptor (normally ``sys.stdin.fileno()``).
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._saved: list[Any] | None = None

    def __enter__(self) -> KeyReader:
        self._saved = termios.tcgetattr(self._fd)
        tty.setcbreak(self._fd)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def read(self, timeout: float) -> list[str]:
        """Keys pressed within ``timeout`` seconds (``[]`` if none)."""
        ready, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        if not ready:
            return []
        data = os.read(self._fd, 256).decode("utf-8", "replace")
        return parse_keys(data)
