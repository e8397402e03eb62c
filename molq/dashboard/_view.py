"""The dashboard's screens: header, job list and job detail, as Rich renderables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from molq.dashboard._format import (
    STATE_STYLES,
    fmt_duration,
    fmt_time,
    job_name,
    runtime,
    short,
    styled_state,
)
from molq.dashboard._model import Summary, downstream_edges, upstream_edges
from molq.dashboard._panels import edges_table, family_table, pairs_table, record_lines, timeline_table
from molq.dashboard._text import markup


if TYPE_CHECKING:
    from molq import JobRecord, JobStore

LIST_KEYS = "↑/↓ select   Enter details   q quit (jobs keep running)"
DETAIL_KEYS = "Esc/Backspace/Enter back   ↑/↓ previous/next job   q quit (jobs keep running)"
_OVERALL_STYLES = {"running": "bold blue", "waiting": "yellow", "all succeeded": "bold green", "idle": "dim"}


def header(title: str, summary: Summary, refreshed_at: float) -> Panel:
    """Overall status, counts by state and a progress bar of finished jobs."""
    style = _OVERALL_STYLES.get(summary.overall, "bold red")
    line = Text.assemble(
        (f"{summary.overall.upper()}", style), f"   {summary.finished}/{summary.total} finished   "
    )
    for state, count in summary.counts.items():
        line.append(f"{state} {count}  ", style=STATE_STYLES.get(state, ""))
    bar = ProgressBar(total=max(summary.total, 1), completed=summary.finished, width=60)
    when = time.strftime("%H:%M:%S", time.localtime(refreshed_at))
    return Panel(
        Group(line, bar), title=f"[bold]{markup(title)}[/]", subtitle=f"refreshed {when}", title_align="left"
    )


def job_list(store: JobStore, records: list[JobRecord], selected: int, height: int) -> Table:
    """The jobs table; the selected row is highlighted and kept in view."""
    table = Table(expand=True, header_style="bold")
    for column, ratio in (
        ("JOB ID", 2),
        ("NAME", 4),
        ("CLUSTER", 2),
        ("STATE", 2),
        ("TRY", 1),
        ("RUNTIME", 2),
        ("EXIT", 1),
    ):
        table.add_column(column, ratio=ratio, no_wrap=True, overflow="ellipsis")
    first = max(0, min(selected - height // 2, len(records) - height))
    now = time.time()
    for index in range(first, min(len(records), first + max(height, 1))):
        r = records[index]
        table.add_row(
            short(r.job_id),
            markup(job_name(store, r)),
            markup(r.cluster_name),
            styled_state(r.state),
            str(r.attempt),
            fmt_duration(runtime(r, now)),
            "-" if r.exit_code is None else str(r.exit_code),
            style="reverse" if index == selected else None,
        )
    return table


def list_screen(
    title: str, store: JobStore, records: list[JobRecord], view: tuple[Summary, int, float, int]
) -> Group:
    """Header, jobs table (or a note when empty) and key help."""
    summary, selected, refreshed_at, height = view
    body: RenderableType = job_list(store, records, selected, height) if records else Text("No jobs to show.")
    return Group(header(title, summary, refreshed_at), *sweep_lines(store), body, Text(LIST_KEYS, style="dim"))


def sweep_lines(store: JobStore, *, limit: int = 3) -> list[Text]:
    """One line per open sweep (read from the store), shown under the header."""
    from molq import sweep_status_of
    from molq.dashboard._format import format_status

    sweeps = store.list_sweeps(None, open_only=True)
    lines = [Text(f"sweep {format_status(sweep_status_of(store, s))}", style="cyan") for s in sweeps[:limit]]
    if len(sweeps) > limit:
        lines.append(Text(f"… and {len(sweeps) - limit} more open sweeps (molq sweeps)", style="dim"))
    return lines


def detail_screen(store: JobStore, record: JobRecord) -> Group:
    """Everything about one job: record, upstream/downstream dependencies, attempts, timeline."""
    up, down = upstream_edges(store, record.job_id), downstream_edges(store, record.job_id)
    parts: list[RenderableType] = [
        Panel(
            pairs_table(record_lines(store, record)),
            title=f"[bold]Job {short(record.job_id)}[/]",
            title_align="left",
        ),
        edges_table("Upstream (this job waits for)", up, "UPSTREAM") if up else Text("Upstream: none"),
        edges_table("Downstream (waiting for this job)", down, "DOWNSTREAM")
        if down
        else Text("Downstream: none"),
    ]
    family = store.family(record.root_job_id)
    if len(family) > 1:
        parts.append(family_table(family, record.job_id))
    parts += [
        timeline_table(store, family),
        Text(f"as of {fmt_time(time.time())}   {DETAIL_KEYS}", style="dim"),
    ]
    return Group(*parts)
