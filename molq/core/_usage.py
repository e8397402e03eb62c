"""What a finished job used, and the ``seff``-style efficiency figures derived from it.

Rules of this module:
  Rule 1: ``JobUsage`` is what the scheduler's accounting said, converted to seconds
          and bytes; a field the accounting did not give (or gave as garbage) is None,
          never 0, so "unknown" and "nothing" stay apart.
  Rule 2: efficiencies are computed on read, never stored: a better formula must not
          need a new event.
  Rule 3: nothing here reads the clock or runs a command.
"""

from __future__ import annotations

import dataclasses
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from ._value import sorted_fields


T = TypeVar("T", int, float)


@sorted_fields
@dataclass(frozen=True, slots=True)
class JobUsage:
    """Resources one job attempt used, as its scheduler's accounting reported them.

    Attributes:
        source: where the figures came from (``sacct``, ``qstat``, ``bjobs``, ``rusage``).
        elapsed_seconds: wall-clock run time.
        cpu_seconds: CPU time (user + system) of the whole job.
        max_rss_bytes: peak resident memory (the largest step or process).
        max_vmem_bytes: peak virtual memory, where the scheduler reports it.
        requested_memory_bytes: the memory the job asked for (the whole job, all nodes).
        cpus: CPUs allocated to the job.
        nodes: the node list, as the scheduler spells it.
        raw_state: the accounting's state word (``COMPLETED``, ``F``, ``DONE``).
        raw_exit: the accounting's exit field (``0:0``).
        note: why figures are missing (``accounting has no record of the job``).
    """

    source: str
    elapsed_seconds: float | None = None
    cpu_seconds: float | None = None
    max_rss_bytes: int | None = None
    max_vmem_bytes: int | None = None
    requested_memory_bytes: int | None = None
    cpus: int | None = None
    nodes: str | None = None
    raw_state: str = ""
    raw_exit: str = ""
    note: str = ""

    @property
    def cpu_efficiency(self) -> float | None:
        """CPU time over core-walltime (``seff``'s "CPU Efficiency"), or None if unknown."""
        return cpu_efficiency(self)

    @property
    def memory_efficiency(self) -> float | None:
        """Peak RSS over requested memory (``seff``'s "Memory Efficiency"), or None if unknown."""
        return memory_efficiency(self)

    @property
    def core_hours(self) -> float | None:
        """Allocated cores times wall-clock hours, or None if either is unknown."""
        return core_hours(self)


def cpu_efficiency(usage: JobUsage) -> float | None:
    """``cpu_seconds / (elapsed_seconds * cpus)``; None when a factor is unknown or zero."""
    if usage.cpu_seconds is None or usage.elapsed_seconds is None:
        return None
    cpus = usage.cpus if usage.cpus is not None else 1
    walltime = usage.elapsed_seconds * cpus
    if walltime <= 0:
        return None
    ratio = usage.cpu_seconds / walltime
    return ratio if math.isfinite(ratio) else None  # a vanishing walltime says nothing either


def memory_efficiency(usage: JobUsage) -> float | None:
    """``max_rss_bytes / requested_memory_bytes``; None when either is unknown or 0 requested."""
    if usage.max_rss_bytes is None or not usage.requested_memory_bytes:
        return None
    return usage.max_rss_bytes / usage.requested_memory_bytes


def core_hours(usage: JobUsage) -> float | None:
    """Cores times wall-clock hours (one core when the count is unknown)."""
    if usage.elapsed_seconds is None:
        return None
    cpus = usage.cpus if usage.cpus is not None else 1
    return usage.elapsed_seconds * cpus / 3600.0


def complete_usage(
    usage: JobUsage, *, elapsed_seconds: float | None, requested_memory_bytes: int | None, cpus: int | None
) -> JobUsage:
    """Fill the figures the accounting left unknown with molq's own facts.

    Args:
        usage: what the accounting said.
        elapsed_seconds: the record's finish minus start (molq's observation).
        requested_memory_bytes: the spec's memory request.
        cpus: the spec's CPU count.

    Returns:
        ``usage`` with each None among those three fields replaced; the accounting's
        own figures always win.
    """
    return dataclasses.replace(
        usage,
        elapsed_seconds=_first(usage.elapsed_seconds, elapsed_seconds),
        requested_memory_bytes=_first(usage.requested_memory_bytes, requested_memory_bytes),
        cpus=_first(usage.cpus, cpus),
    )


def _first(ours: T | None, fallback: T | None) -> T | None:
    return ours if ours is not None else fallback


OVER_REQUEST_RATIO: Final = 0.25
"""A job "requested far more memory than it used" below this memory efficiency."""


@sorted_fields
@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Figures over many jobs' usage (``molq report``).

    Attributes:
        jobs: how many jobs were summarised.
        with_usage: how many of them have a usage record with any figure.
        core_hours: total core-hours of the jobs whose elapsed time is known.
        median_cpu_efficiency: median over the jobs where it is known (None: none).
        median_memory_efficiency: as above, for memory.
        over_requested: ``(job id, memory efficiency)`` of jobs below ``OVER_REQUEST_RATIO``,
            lowest first.
    """

    jobs: int
    with_usage: int
    core_hours: float
    median_cpu_efficiency: float | None
    median_memory_efficiency: float | None
    over_requested: tuple[tuple[str, float], ...]


def summarise_usage(
    usages: Sequence[tuple[str, JobUsage | None]], *, ratio: float = OVER_REQUEST_RATIO
) -> UsageSummary:
    """Summarise ``(job id, usage or None)`` pairs.

    Args:
        usages: one pair per job; None for a job with no usage recorded yet.
        ratio: memory efficiency below which a job counts as over-requesting.

    Returns:
        The summary; medians are None when no job has the figure.
    """
    known = [(job_id, u) for job_id, u in usages if u is not None and _has_figures(u)]
    hours = [h for _, u in known if (h := core_hours(u)) is not None]
    cpu = [e for _, u in known if (e := cpu_efficiency(u)) is not None]
    mem = [(job_id, e) for job_id, u in known if (e := memory_efficiency(u)) is not None]
    over = sorted(((job_id, e) for job_id, e in mem if e < ratio), key=lambda pair: (pair[1], pair[0]))
    return UsageSummary(
        jobs=len(usages),
        with_usage=len(known),
        core_hours=math.fsum(hours),
        median_cpu_efficiency=statistics.median(cpu) if cpu else None,
        median_memory_efficiency=statistics.median([e for _, e in mem]) if mem else None,
        over_requested=tuple(over),
    )


def _has_figures(usage: JobUsage) -> bool:
    return any(
        value is not None
        for value in (
            usage.elapsed_seconds,
            usage.cpu_seconds,
            usage.max_rss_bytes,
            usage.requested_memory_bytes,
        )
    )


# -- parsing helpers shared by the scheduler dialects ----------------------------------

_CLOCK = re.compile(r"^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTP]?)(?:I?B)?$", re.IGNORECASE)
_SCALE: Final = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}


def parse_clock(text: str) -> float | None:
    """Seconds in ``[D-][HH:]MM:SS[.fff]`` (sacct, qstat); None for anything else.

    ``MM:SS.fff`` is how sacct writes a short TotalCPU; ``HH:MM:SS`` is PBS's walltime.
    """
    match = _CLOCK.match(text.strip())
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    return total if math.isfinite(total) else None


def parse_size(text: str, *, default_unit: str = "") -> int | None:
    """Bytes in ``96884K``, ``300M``, ``307200kb``, ``1.5G``, ``0``; None for garbage.

    Args:
        text: the size as a scheduler printed it (binary units).
        default_unit: the unit of a bare number (``K`` for LSF's ``300000``).
    """
    match = _SIZE.match(text.strip())
    if match is None:
        return None
    number, unit = match.groups()
    scale = _SCALE[(unit or default_unit).upper()]
    value = float(number) * scale
    return round(value) if math.isfinite(value) else None


def parse_count(text: str) -> int | None:
    """A non-negative integer, or None."""
    text = text.strip()
    return int(text) if text.isdigit() else None
