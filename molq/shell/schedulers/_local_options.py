"""Options of the local (no batch system) scheduler: none yet, as in upstream molq."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LocalSchedulerOptions:
    """Options for the local scheduler (it has none; the class exists so code can name it)."""
