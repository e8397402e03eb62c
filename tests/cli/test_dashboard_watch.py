"""Issue 18: upstream's ``RunDashboard().watch(data_fn, refresh_interval=...)`` on our RunDashboard.

The data flow is checked here without a terminal; the keys and screen in a real terminal
are checked in test_dashboard_watch_tmux.py.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from molq import ConfigError, DashboardState, JobRow, RunDashboard
from molq.dashboard import DependencyLine
from molq.dashboard._snapshot import SnapshotView


def rows(*ids: str) -> tuple[JobRow, ...]:
    return tuple(JobRow(state="running", run_id=i, name=f"job-{i}", extras=(("command", f"run {i}"),)) for i in ids)


def snapshot(jobs: tuple[JobRow, ...], *, updated: str = "12:00:00") -> DashboardState:
    return DashboardState("my run", "running", len(jobs), len(jobs), 0, 0, 0, updated, jobs)


def text(view: SnapshotView) -> str:
    console = Console(file=io.StringIO(), width=160, height=40, color_system=None)
    console.print(view.render())
    return console.file.getvalue()


def view_of(states: list[DashboardState]) -> SnapshotView:
    calls = iter(states)
    return SnapshotView(lambda: next(calls), refresh_interval=0.5, console=Console(file=io.StringIO(), height=40))


def test_each_reload_shows_the_snapshot_data_fn_returns():
    """Title, overall status, counts, updated time and rows come from data_fn, fresh on each reload."""
    view = view_of([snapshot(rows("aaa111"), updated="12:00:01"), snapshot(rows("aaa111", "bbb222"), updated="12:00:03")])
    view.reload()
    first = text(view)
    assert "my run" in first
    assert "RUNNING" in first
    assert "updated 12:00:01" in first
    assert "job-aaa111" in first
    assert "job-bbb222" not in first
    assert "1 total" in first
    view.reload()
    second = text(view)
    assert "updated 12:00:03" in second
    assert "job-bbb222" in second
    assert "2 total" in second


def test_selection_follows_the_same_job_across_snapshots():
    """The selected row stays on the same run_id when a new snapshot reorders rows."""
    view = view_of([snapshot(rows("a", "b", "c")), snapshot(rows("c", "b", "a"))])
    view.reload()
    view.handle("down")
    view.handle("down")
    assert view.rows[view.selected].run_id == "c"
    view.reload()
    assert view.selected == 0
    assert view.rows[0].run_id == "c"


def test_enter_shows_the_rows_detail_and_escape_returns():
    """Enter opens the selected row's fields, extras and dependencies; Esc goes back to the list."""
    dep = DependencyLine("✓", "up-1", "after_success", "succeeded", "afterok:12")
    row = JobRow(state="pending", run_id="detail-job", name="train", scheduler_id="88001", upstream=(dep,), extras=(("cwd", "/work/x"),))
    view = view_of([snapshot((*rows("a"), row))])
    view.reload()
    view.handle("down")
    view.handle("enter")
    detail = text(view)
    assert "Job detail-job" in detail
    assert "88001" in detail
    assert "/work/x" in detail
    assert "✓ up-1  after_success  succeeded  afterok:12" in detail
    view.handle("escape")
    assert "Enter details" in text(view)
    view.handle("q")
    assert view.quit


def test_an_empty_snapshot_shows_a_note_and_cannot_open_detail():
    """No rows: a note instead of a table; Enter does nothing."""
    view = view_of([snapshot(())])
    view.reload()
    view.handle("enter")
    assert not view.detail
    assert "No jobs to show." in text(view)


def test_data_fn_returning_something_else_is_a_type_error():
    """A data_fn that returns a dict is named, not drawn."""
    view = SnapshotView(lambda: {"title": "x"}, refresh_interval=1, console=Console(file=io.StringIO()))  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="data_fn must return a DashboardState, got dict"):
        view.reload()


@pytest.mark.parametrize("interval", [0, -1, True])
def test_refresh_interval_must_be_positive(interval):
    """A zero, negative or boolean interval is a ConfigError before anything is drawn."""
    with pytest.raises(ConfigError, match="refresh_interval"):
        RunDashboard().watch(lambda: snapshot(()), refresh_interval=interval)


def test_watch_outside_a_terminal_is_a_config_error():
    """Without a terminal watch refuses instead of drawing into a pipe; data_fn is not called."""
    called = []
    dashboard = RunDashboard(console=Console(file=io.StringIO()))
    with pytest.raises(ConfigError, match="interactive terminal"):
        dashboard.watch(lambda: called.append(1) or snapshot(()))  # type: ignore[func-returns-value]
    assert called == []


def test_upstream_constructor_forms():
    """RunDashboard() and RunDashboard(console) (upstream's only argument) work; loading then names the missing store."""
    console = Console(file=io.StringIO())
    assert RunDashboard(console).console is console
    assert RunDashboard(console=console).console is console
    with pytest.raises(ConfigError, match="without a job store"):
        RunDashboard().load()


def test_store_form_still_works(store):
    """Our constructor (store, job_ids) reads the store as before."""
    dashboard = RunDashboard(store, ["missing-job"], refresh=1.0)
    assert dashboard.store is store
    assert dashboard.load() == []
