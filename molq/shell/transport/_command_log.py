"""The ``molq.commands`` logger: each command a transport runs, where, its exit status and time.

``molq -v`` (or ``molq COMMAND -v``) shows these records on stderr; a library user can
attach a handler to ``logging.getLogger("molq.commands")`` at DEBUG level.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Sequence
from typing import Final


LOGGER: Final = logging.getLogger("molq.commands")


def log_command(where: str, argv: Sequence[str], started: float, returncode: int | None) -> None:
    """Record that ``argv`` ran on ``where`` since ``started`` (``time.monotonic``) and ended so."""
    if not LOGGER.isEnabledFor(logging.DEBUG):
        return
    took = time.monotonic() - started
    status = "no exit status" if returncode is None else f"exit {returncode}"
    LOGGER.debug("[%s] %s (%s, %.3fs)", where, shlex.join(argv), status, took)


__all__ = ["LOGGER", "log_command"]
