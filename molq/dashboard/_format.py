"""Formatting helpers shared by the commands: times, durations, states, tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from molq.dashboard._clock import fmt_duration as fmt_duration
from molq.dashboard._clock import fmt_precise as fmt_precise
from molq.dashboard._clock import fmt_time as fmt_time
from molq.dashboard._clock import runtime as runtime
from molq.dashboard._model import job_name_of
from molq.dashboard._text import clip, markup


if TYPE_CHECKING:
    from molq import JobRecord, JobState, JobStore, SweepStatus

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


def format_status(status: SweepStatus) -> str:
    """One line: id, overall state, and the non-zero counts."""
    counts = " ".join(f"{name}={n}" for name, n in status.counts)
    return f"{status.sweep_id}  {status.state:<9}  {status.total} cells  {counts}"


def out() -> Console:
    """A console on stdout; when piped, plain text up to PIPED_WIDTH columns wide.

    Under the CLI's ``-q`` it prints nothing (``molq.cli._verbosity.QUIET``).
    """
    quiet = _quiet_requested()
    console = Console(highlight=False, quiet=quiet)
    if not console.is_terminal:
        console = Console(highlight=False, width=PIPED_WIDTH, quiet=quiet)
    return console


def _quiet_requested() -> bool:
    import click

    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("molq.quiet"))


def err() -> Console:
    """A console on stderr for progress and notes."""
    return Console(stderr=True, highlight=False)


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
            markup(short(r.job_id)),
            markup(r.cluster_name),
            markup(r.scheduler),
            styled_state(r.state),
            str(r.attempt),
            fmt_time(r.submitted_at or r.created_at),
            fmt_duration(runtime(r, now)),
            "-" if r.exit_code is None else str(r.exit_code),
            markup(clip(job_name(store, r))),
        )
    return table
