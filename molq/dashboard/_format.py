"""Formatting helpers shared by the commands: times, durations, states, tables."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from molq.dashboard._model import job_name_of


if TYPE_CHECKING:
    from molq.core import JobRecord, JobState
    from molq.shell._store import JobStore

STATE_STYLES = {
    "created": "dim",
    "submitted": "cyan",
    "queued": "yellow",
    "running": "bold blue",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "magenta",
    "timed_out": "red",
    "lost": "red",
}


PIPED_WIDTH = 200


def out() -> Console:
    """A console on stdout; when piped, plain text up to PIPED_WIDTH columns wide."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=PIPED_WIDTH)
    return console


def err() -> Console:
    """A console on stderr for progress and notes."""
    return Console(stderr=True, highlight=False)


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
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def runtime(record: JobRecord, now: float) -> float | None:
    """How long the job ran (so far)."""
    if record.started_at is None:
        return None
    end = record.finished_at if record.finished_at is not None else now
    return max(0.0, end - record.started_at)


def styled_state(state: JobState | str) -> str:
    """Rich markup for a state."""
    value = str(state)
    return f"[{STATE_STYLES.get(value, '')}]{value}[/]"


def job_name(store: JobStore, record: JobRecord) -> str:
    """The job's name (``--name``), or its command."""
    return job_name_of(store, record.job_id) or record.command_display


def short(job_id: str) -> str:
    """The first 12 characters of a job id (unique prefixes are accepted everywhere)."""
    return job_id[:12]


def jobs_table(store: JobStore, records: list[JobRecord], now: float, *, title: str | None = None) -> Table:
    """One row per record: id, cluster, state, attempt, times, exit code, command."""
    table = Table(title=title, header_style="bold", expand=False)
    for column in (
        "JOB ID",
        "CLUSTER",
        "SCHEDULER",
        "STATE",
        "TRY",
        "SUBMITTED",
        "RUNTIME",
        "EXIT",
        "COMMAND",
    ):
        table.add_column(
            column, overflow="fold" if column == "COMMAND" else "ellipsis", no_wrap=column != "COMMAND"
        )
    for r in records:
        table.add_row(
            short(r.job_id),
            r.cluster_name,
            r.scheduler,
            styled_state(r.state),
            str(r.attempt),
            fmt_time(r.submitted_at or r.created_at),
            fmt_duration(runtime(r, now)),
            "-" if r.exit_code is None else str(r.exit_code),
            escape(job_name(store, r)),
        )
    return table
