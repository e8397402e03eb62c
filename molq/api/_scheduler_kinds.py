"""The scheduler kinds a Cluster or profile may name."""

from __future__ import annotations


SCHEDULER_KINDS = ("local", "slurm", "pbs", "lsf")


def unknown_scheduler_message(kind: object) -> str:
    """The refusal of an unknown kind (leading words as upstream molq: "Unknown scheduler")."""
    return f"Unknown scheduler {kind!r}: expected one of {', '.join(SCHEDULER_KINDS)}"


def options_class(kind: str) -> type:
    """The scheduler options class ``kind`` takes (imported on first use)."""
    if kind == "slurm":
        from molq.shell.schedulers._slurm import SlurmSchedulerOptions

        return SlurmSchedulerOptions
    if kind == "pbs":
        from molq.shell.schedulers._pbs import PBSSchedulerOptions

        return PBSSchedulerOptions
    if kind == "lsf":
        from molq.shell.schedulers._lsf import LSFSchedulerOptions

        return LSFSchedulerOptions
    from molq.shell.schedulers._local_options import LocalSchedulerOptions

    return LocalSchedulerOptions


def check_options(kind: str, options: object | None) -> None:
    """Refuse options of another scheduler's class, as upstream molq does.

    Raises:
        TypeError: ``options`` is not an instance of ``kind``'s options class.
    """
    expected = options_class(kind)
    if options is not None and not isinstance(options, expected):
        msg = f"the {kind} scheduler takes {expected.__name__}, got {type(options).__name__}"
        raise TypeError(msg)
