"""Rich building blocks shared by ``molq inspect`` and the dashboard's detail view."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.table import Table

from molq.dashboard._format import fmt_duration, fmt_precise, fmt_time, job_name, runtime, short, styled_state
from molq.dashboard._model import EDGE_MARKS, EdgeView
from molq.dashboard._text import markup


if TYPE_CHECKING:
    from molq import JobRecord, JobStore


def status_lines(store: JobStore, record: JobRecord) -> list[tuple[str, str]]:
    """``(label, value)`` pairs describing one job."""
    now = time.time()
    rows = [
        ("job", record.job_id),
        ("name", job_name(store, record)),
        ("state", str(record.state)),
        ("cluster", f"{record.cluster_name} ({record.scheduler})"),
        ("scheduler id", record.scheduler_job_id or "-"),
        ("attempt", f"{record.attempt} (root {record.root_job_id})"),
        ("submitted", fmt_time(record.submitted_at)),
        ("started", fmt_time(record.started_at)),
        ("finished", fmt_time(record.finished_at)),
        ("runtime", fmt_duration(runtime(record, now))),
        ("exit code", "-" if record.exit_code is None else str(record.exit_code)),
    ]
    if record.failure_reason:
        rows.append(("reason", record.failure_reason))
    if record.retry_due_at is not None and record.next_attempt_job_id:
        rows.append(("retry", f"attempt {record.next_attempt_job_id} due {fmt_time(record.retry_due_at)}"))
    return rows


def record_lines(store: JobStore, record: JobRecord) -> list[tuple[str, str]]:
    """Status lines plus where the job runs and writes."""
    rows = status_lines(store, record)
    rows += [("command", record.command_display), ("cwd", record.cwd)]
    for key, label in (
        ("molq.job_dir", "job dir"),
        ("molq.stdout_path", "stdout"),
        ("molq.stderr_path", "stderr"),
    ):
        rows.append((label, record.metadata.get(key, "-")))
    if record.profile_name:
        rows.append(("profile", record.profile_name))
    return rows


def family_table(family: list[JobRecord], selected: str) -> Table:
    """Every attempt of a retry family; the inspected one is marked."""
    table = Table(title="Retry family", title_justify="left", header_style="bold")
    for column in ("", "ATTEMPT", "JOB ID", "STATE", "EXIT", "FINISHED", "REASON"):
        table.add_column(column)
    for r in family:
        table.add_row(
            "»" if r.job_id == selected else "",
            str(r.attempt),
            short(r.job_id),
            styled_state(r.state),
            "-" if r.exit_code is None else str(r.exit_code),
            fmt_time(r.finished_at),
            markup(r.failure_reason or ""),
        )
    return table


def edges_table(title: str, edges: list[EdgeView], other_label: str) -> Table:
    """Dependency edges with satisfied (✓) / pending (…) / impossible (✗) markers."""
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("", "STATUS", other_label, "ITS STATE", "CONDITION", "NATIVE"):
        table.add_column(column)
    for e in edges:
        table.add_row(
            EDGE_MARKS[e.status],
            e.status,
            short(e.other_job_id),
            styled_state(e.other_state) if e.other_state else "?",
            e.condition,
            markup(e.native),
        )
    return table


def timeline_table(store: JobStore, family: list[JobRecord]) -> Table:
    """Every state change of every attempt, oldest first."""
    table = Table(title="Timeline", title_justify="left", header_style="bold")
    for column in ("TIME", "ATTEMPT", "FROM", "TO", "REASON"):
        table.add_column(column)
    for r in family:
        for t in store.transitions(r.job_id):
            old = styled_state(t.old_state) if t.old_state else "-"
            table.add_row(
                fmt_precise(t.timestamp),
                str(r.attempt),
                old,
                styled_state(t.new_state),
                markup(t.reason or ""),
            )
    return table


def pairs_table(rows: list[tuple[str, str]]) -> Table:
    """``label  value`` rows as a borderless grid (values shown literally)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in rows:
        grid.add_row(label, markup(value))
    return grid
