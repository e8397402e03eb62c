"""The full-screen dashboards: RunDashboard (chosen jobs) and MolqMonitor (all jobs).

They only read the store (a daemon, ``molq watch`` or a Submitor keeps it current),
never call a scheduler, and never cancel anything: quitting leaves jobs running.
"""

from __future__ import annotations

import abc
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console, Group
from rich.live import Live

from molq import ConfigError
from molq.dashboard._keys import KeyReader
from molq.dashboard._model import latest_of, summarize
from molq.dashboard._view import detail_screen, list_screen


if TYPE_CHECKING:
    from molq import JobRecord, JobStore
    from molq.dashboard._rows import DashboardState

_CHROME_LINES = 10  # header panel, table header and borders, key help


class Dashboard(abc.ABC):
    """Selection, detail toggling and the refresh loop shared by both dashboards."""

    title = "molq"

    def __init__(self, store: JobStore | None, *, refresh: float = 2.0, console: Console | None = None) -> None:
        if refresh <= 0:
            msg = f"refresh must be a positive number of seconds, got {refresh!r}"
            raise ConfigError(msg)
        self._store = store
        self.refresh = refresh
        self.console = console or Console()
        self.records: list[JobRecord] = []
        self.selected = 0
        self.detail = False
        self.quit = False
        self.refreshed_at = 0.0
        self._selected_id: str | None = None

    @property
    def store(self) -> JobStore:
        """The job store read by ``run``.

        Raises:
            ConfigError: the dashboard was made without one (upstream's ``RunDashboard()``).
        """
        if self._store is None:
            msg = f"{type(self).__name__} was made without a job store: pass one, or call watch(data_fn)"
            raise ConfigError(msg)
        return self._store

    @abc.abstractmethod
    def load(self) -> list[JobRecord]:
        """The records to show, in display order."""

    def reload(self) -> None:
        """Read the store again, keeping the same job selected when it is still shown."""
        self.records = self.load()
        self.refreshed_at = time.time()
        ids = [r.job_id for r in self.records]
        if self._selected_id in ids:
            self.selected = ids.index(self._selected_id)
        self._select(self.selected)

    def _select(self, index: int) -> None:
        self.selected = max(0, min(index, len(self.records) - 1))
        self._selected_id = self.records[self.selected].job_id if self.records else None

    def _page(self) -> int:
        return max(1, self.console.size.height - _CHROME_LINES)

    def handle(self, key: str) -> None:
        """Apply one key press."""
        moves = {"up": -1, "k": -1, "down": 1, "j": 1, "pageup": -self._page(), "pagedown": self._page()}
        if key in ("q", "Q"):
            self.quit = True
        elif key in moves:
            self._select(self.selected + moves[key])
        elif key in ("home", "g"):
            self._select(0)
        elif key in ("end", "G"):
            self._select(len(self.records) - 1)
        elif key == "enter":
            self.detail = not self.detail and bool(self.records)
        elif key in ("escape", "backspace", "left", "b"):
            self.detail = False
        elif key == "r":
            self.reload()

    def render(self) -> Group:
        """The current screen."""
        if self.detail and self.records:
            return detail_screen(self.store, self.records[self.selected])
        view = (summarize(self.records), self.selected, self.refreshed_at, self._page())
        return list_screen(self.title, self.store, self.records, view)

    def run(self) -> None:
        """Show the dashboard until ``q`` (or Ctrl-C); needs an interactive terminal.

        Raises:
            ConfigError: stdin or stdout is not a terminal.
        """
        if not (sys.stdin.isatty() and self.console.is_terminal):
            msg = (
                "the dashboard needs an interactive terminal (use `molq list` or `monitor --once` in scripts)"
            )
            raise ConfigError(msg)
        self.reload()
        try:
            with (
                KeyReader(sys.stdin.fileno()) as keys,
                Live(self.render(), console=self.console, screen=True, auto_refresh=False) as live,
            ):
                self._loop(keys, live)
        except KeyboardInterrupt:
            return

    def _loop(self, keys: KeyReader, live: Live) -> None:
        while not self.quit:
            wait = self.refresh - (time.time() - self.refreshed_at)
            pressed = keys.read(wait)
            for key in pressed:
                self.handle(key)
            if time.time() - self.refreshed_at >= self.refresh:
                self.reload()
            if not self.quit:
                live.update(self.render(), refresh=True)


class MolqMonitor(Dashboard):
    """Every persisted job (active ones unless ``include_terminal``), newest first.

    Args:
        store: the job store to read.
        include_terminal: also show finished jobs.
        limit: at most this many jobs.
        cluster_name: only this cluster's jobs (all clusters for None).
        refresh: seconds between store reads.
        console: where to draw (default: the terminal).
    """

    title = "molq monitor"

    def __init__(
        self,
        store: JobStore,
        *,
        include_terminal: bool = False,
        limit: int = 200,
        cluster_name: str | None = None,
        refresh: float = 2.0,
        console: Console | None = None,
    ) -> None:
        super().__init__(store, refresh=refresh, console=console)
        self.include_terminal = include_terminal
        self.limit = limit
        self.cluster_name = cluster_name

    def load(self) -> list[JobRecord]:
        """Records from the store, newest first."""
        return self.store.list_records(
            self.cluster_name, include_terminal=self.include_terminal, limit=self.limit
        )


class RunDashboard(Dashboard):
    """A focused view of chosen jobs (each shown as its family's latest attempt).

    ``RunDashboard(store, job_ids).run()`` reads the store; upstream molq's
    ``RunDashboard(console=None).watch(data_fn, refresh_interval=2.0)`` draws the
    DashboardState snapshots ``data_fn`` returns instead, and needs no store.

    Args:
        store: the job store to read (None when only ``watch`` is used; a Rich
            Console here is taken as ``console``, as upstream's first argument).
        job_ids: the jobs to show, in this order.
        refresh: seconds between store reads.
        console: where to draw (default: the terminal).
    """

    title = "molq run"

    def __init__(
        self,
        store: JobStore | Console | None = None,
        job_ids: Sequence[str] = (),
        *,
        refresh: float = 2.0,
        console: Console | None = None,
    ) -> None:
        if isinstance(store, Console):
            store, console = None, console or store
        super().__init__(store, refresh=refresh, console=console)
        self.job_ids = list(job_ids)

    def watch(self, data_fn: Callable[[], DashboardState], *, refresh_interval: float = 2.0) -> None:
        """Show the snapshots ``data_fn`` returns until ``q`` is pressed (upstream molq's API).

        ``data_fn`` is called once at the start and then every ``refresh_interval``
        seconds; ↑/↓ select a row, Enter opens its detail view, Esc returns, q quits.
        Quitting does not cancel any job.

        Raises:
            ConfigError: ``refresh_interval`` is not positive, or stdin/stdout is not a terminal.
            TypeError: ``data_fn`` is not callable or returned something other than a DashboardState.
        """
        from molq.dashboard._snapshot import SnapshotView

        SnapshotView(data_fn, refresh_interval=refresh_interval, console=self.console).run()

    def load(self) -> list[JobRecord]:
        """The latest attempt of each chosen job that the store knows."""
        store = self.store
        found = (latest_of(store, job_id) for job_id in self.job_ids)
        return [record for record in found if record is not None]
