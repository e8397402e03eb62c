"""Times and durations as the job tables show them (no Rich: ``molq list`` imports this alone)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from molq import JobRecord


def fmt_time(epoch: float | None) -> str:
    """Local wall-clock time, or ``-``."""
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_precise(epoch: float) -> str:
    """Local time with milliseconds and offset, for timelines."""
    return dt.datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


def fmt_duration(seconds: float | None) -> str:
    """``1h02m03s`` / ``4m05s`` / ``0.3s``, or ``-``."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def runtime(record: JobRecord, now: float) -> float | None:
    """How long the job ran (so far)."""
    if record.started_at is None:
        return None
    end = record.finished_at if record.finished_at is not None else now
    return max(0.0, end - record.started_at)
