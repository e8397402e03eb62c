"""The scheduler kinds a Cluster or profile may name."""

from __future__ import annotations


SCHEDULER_KINDS = ("local", "slurm", "pbs", "lsf")


def unknown_scheduler_message(kind: object) -> str:
    """The refusal of an unknown kind (leading words as upstream molq: "Unknown scheduler")."""
    return f"Unknown scheduler {kind!r}: expected one of {', '.join(SCHEDULER_KINDS)}"
