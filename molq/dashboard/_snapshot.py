"""Upstream molq's dashboard contract: ``RunDashboard().watch(data_fn)`` draws the caller's snapshots.

The caller's ``data_fn`` returns a fresh :class:`DashboardState` every ``refresh_interval``
seconds; this module only shows it (list and detail view) and reads keys. It never
touches jobs, so quitting leaves them running.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from molq import ConfigError
from molq.dashboard._format import STATE_STYLES
from molq.dashboard._keys import KeyReader
from molq.dashboard._rows import DashboardState, DependencyLine, JobRow
from molq.dashboard._text import markup, shown


LIST_KEYS = "↑/↓ select   Enter details   q quit (jobs keep running)"
DETAIL_KEYS = "Esc/Enter back   ↑/↓ previous/next job   q quit (jobs keep running)"
_CHROME_LINES = 10  # header panel, table header and borders, key help
_STYLES = {**STATE_STYLES, "pending": "yellow", "done": "green", "mixed": "bold yellow", "blocked": "yellow"}


class SnapshotView:
    """The list/detail screen over snapshots from ``data_fn``, with upstream's keys.

    Args:
        data_fn: returns the DashboardState to show; called once per refresh.
        refresh_interval: seconds between calls of ``data_fn``.
        console: where to draw.

    Raises:
        ConfigError: ``refresh_interval`` is not a positive number.
    """

    def __init__(
        self, data_fn: Callable[[], DashboardState], *, refresh_interval: float, console: Console
    ) -> None:
        if isinstance(refresh_interval, bool) or not isinstance(refresh_interval, int | float) or refresh_interval <= 0:
            msg = f"refresh_interval must be a positive number of seconds, got {refresh_interval!r}"
            raise ConfigError(msg)
        candidate: object = data_fn
        if not callable(candidate):
            msg = f"data_fn must be a callable returning a DashboardState, got {type(data_fn).__name__}"
            raise TypeError(msg)
        self.data_fn = data_fn
        self.refresh_interval = float(refresh_interval)
        self.console = console
        self.state: DashboardState | None = None
        self.selected = 0
        self.detail = False
        self.quit = False
        self.refreshed_at = 0.0

    @property
    def rows(self) -> tuple[JobRow, ...]:
        """The rows of the current snapshot."""
        return self.state.jobs if self.state is not None else ()

    def reload(self) -> None:
        """Ask ``data_fn`` for a new snapshot, keeping the same job selected when it is still shown.

        Raises:
            TypeError: ``data_fn`` returned something other than a DashboardState.
        """
        chosen = self.rows[self.selected].run_id if self.rows else None
        state: object = self.data_fn()
        if not isinstance(state, DashboardState):
            msg = f"data_fn must return a DashboardState, got {type(state).__name__}"
            raise TypeError(msg)
        self.state = state
        self.refreshed_at = time.monotonic()
        ids = [row.run_id for row in state.jobs]
        self._select(ids.index(chosen) if chosen in ids else self.selected)
        if not state.jobs:
            self.detail = False

    def _select(self, index: int) -> None:
        self.selected = max(0, min(index, len(self.rows) - 1))

    def _page(self) -> int:
        return max(1, self.console.size.height - _CHROME_LINES)

    def handle(self, key: str) -> None:
        """Apply one key press (q quits, ↑/↓ select, Enter toggles the detail view, Esc leaves it)."""
        moves = {"up": -1, "k": -1, "down": 1, "j": 1, "pageup": -self._page(), "pagedown": self._page()}
        if key in ("q", "Q", "\x03"):
            self.quit = True
        elif key in moves:
            self._select(self.selected + moves[key])
        elif key in ("home", "g"):
            self._select(0)
        elif key in ("end", "G"):
            self._select(len(self.rows) - 1)
        elif key == "enter":
            self.detail = not self.detail and bool(self.rows)
        elif key in ("escape", "backspace", "left", "b"):
            self.detail = False
        elif key == "r":
            self.reload()

    def render(self) -> Group:
        """The current screen: header, then the jobs table or the selected job's detail."""
        state = self.state or DashboardState("molq", "pending", 0, 0, 0, 0, 0, "-")
        if self.detail and self.rows:
            return Group(header(state), detail_panel(self.rows[self.selected]), Text(DETAIL_KEYS, style="dim"))
        body: RenderableType = jobs_table(self.rows, self.selected, self._page()) if self.rows else Text("No jobs to show.")
        return Group(header(state), body, Text(LIST_KEYS, style="dim"))

    def run(self) -> None:
        """Show the snapshots until ``q`` (or Ctrl-C).

        Raises:
            ConfigError: stdin or stdout is not a terminal.
        """
        if not (sys.stdin.isatty() and self.console.is_terminal):
            msg = "the dashboard needs an interactive terminal (render a DashboardState yourself in scripts)"
            raise ConfigError(msg)
        from rich.live import Live

        self.reload()
        try:
            with (
                KeyReader(sys.stdin.fileno()) as keys,
                Live(self.render(), console=self.console, screen=True, auto_refresh=False) as live,
            ):
                while not self.quit:
                    for key in keys.read(self.refresh_interval - (time.monotonic() - self.refreshed_at)):
                        self.handle(key)
                    if not self.quit and time.monotonic() - self.refreshed_at >= self.refresh_interval:
                        self.reload()
                    if not self.quit:
                        live.update(self.render(), refresh=True)
        except KeyboardInterrupt:
            return


def _style(state: str) -> str:
    return _STYLES.get(state.lower(), "")


def header(state: DashboardState) -> Panel:
    """Overall status, the counts and a bar of finished (done + failed) jobs."""
    line = Text.assemble((state.overall_status.upper(), f"bold {_style(state.overall_status)}".strip()), "   ")
    for label, count, style in (
        ("total", state.total, ""),
        ("running", state.running, _style("running")),
        ("pending", state.pending, _style("pending")),
        ("done", state.done, _style("done")),
        ("failed", state.failed, _style("failed")),
    ):
        line.append(f"{count} {label}   ", style=style)
    bar = ProgressBar(total=max(state.total, 1), completed=state.done + state.failed, width=60)
    return Panel(
        Group(line, bar),
        title=f"[bold]{markup(state.title)}[/]",
        subtitle=f"updated {markup(state.updated_at)}",
        title_align="left",
    )


def jobs_table(rows: tuple[JobRow, ...], selected: int, height: int) -> Table:
    """One line per row; the selected one is highlighted and kept in view."""
    table = Table(expand=True, header_style="bold")
    for column, ratio in (
        ("STATE", 2), ("NAME", 4), ("ID", 2), ("ELAPSED", 2), ("CLUSTER", 2), ("SCHED ID", 2), ("DEPS", 2), ("NOTE", 3),
    ):
        table.add_column(column, ratio=ratio, no_wrap=True, overflow="ellipsis")
    first = max(0, min(selected - height // 2, len(rows) - height))
    for index in range(first, min(len(rows), first + height)):
        row = rows[index]
        table.add_row(
            Text(shown(row.state.upper()), style=_style(row.state)),
            Text(shown(row.name or "-")),
            Text(shown(row.run_id[:8])),
            Text(shown(row.elapsed or "-")),
            Text(shown(row.cluster or "-")),
            Text(shown(row.scheduler_id or "-")),
            Text(shown(row.dependency_summary or "-")),
            Text(shown(row.message or "")),
            style="reverse" if index == selected else None,
        )
    return table


def detail_panel(row: JobRow) -> Panel:
    """Every field of one row, its extras and its upstream/downstream dependencies."""
    grid = Table.grid(padding=(0, 3))
    grid.add_column(justify="right", style="dim")
    grid.add_column()
    pairs = [
        ("state", row.state.upper()), ("name", row.name), ("job id", row.run_id), ("cluster", row.cluster),
        ("sched id", row.scheduler_id), ("elapsed", row.elapsed), ("note", row.message), ("deps", row.dependency_summary),
    ]
    for key, value in [*pairs, *row.extras]:
        if value:
            grid.add_row(Text(shown(key)), Text(shown(value)))
    for title, lines in (("upstream", row.upstream), ("downstream", row.downstream)):
        for index, dep in enumerate(lines):
            grid.add_row(title if index == 0 else "", Text(shown(_dependency_text(dep))))
    return Panel(grid, title=f"[bold]Job {markup(row.run_id)}[/]", title_align="left")


def _dependency_text(dep: DependencyLine) -> str:
    text = f"{dep.marker} {dep.job_id}  {dep.dependency_type}  {dep.job_state}"
    return f"{text}  {dep.scheduler_dependency}" if dep.scheduler_dependency else text
