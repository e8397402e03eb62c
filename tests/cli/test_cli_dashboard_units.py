"""The dashboard's pure pieces: key parsing, edge status, summaries, timestamps, navigation."""

from __future__ import annotations

import datetime as dt

import pytest
from rich.console import Console

from molq import Cluster, JobDependency, JobStore, Submitor
from molq.cli._audit import parse_as_of
from molq.core import JobState
from molq.dashboard import MolqMonitor
from molq.dashboard._keys import parse_keys
from molq.dashboard._model import EdgeView, edge_status, summarize
from molq.dashboard._panels import edges_table


def test_parse_keys_splits_sequences():
    """Arrow, page and enter sequences become names; a lone ESC is escape."""
    assert parse_keys("\x1b[A\x1b[Bq\r\x1b[6~\x1bOA\x1b") == [
        "up",
        "down",
        "q",
        "enter",
        "pagedown",
        "up",
        "escape",
    ]


class _Rec:
    def __init__(self, state: JobState) -> None:
        self.state = state


@pytest.mark.parametrize(
    ("condition", "state", "expected"),
    [
        ("after_success", JobState.SUCCEEDED, "satisfied"),
        ("after_success", JobState.FAILED, "impossible"),
        ("after_success", JobState.RUNNING, "pending"),
        ("after_failure", JobState.CANCELLED, "satisfied"),
        ("after_failure", JobState.SUCCEEDED, "impossible"),
        ("after_started", JobState.RUNNING, "satisfied"),
        ("after_started", JobState.QUEUED, "pending"),
        ("after", JobState.LOST, "satisfied"),
        ("after", JobState.SUBMITTED, "pending"),
    ],
)
def test_edge_status(condition, state, expected):
    """An edge is met, still possible, or never met, from the upstream's latest state."""
    assert edge_status(condition, _Rec(state)) == expected  # type: ignore[arg-type]
    assert edge_status(condition, None) == "unknown"


def test_edges_table_renders_constructed_edges():
    """JobDependency-shaped edges render with their markers."""
    dep = JobDependency("child", "parent", "after_success", "afterok:12")
    view = EdgeView(
        dep.job_id,
        dep.dependency_job_id,
        dep.dependency_type,
        dep.scheduler_dependency,
        JobState.FAILED,
        edge_status(dep.dependency_type, _Rec(JobState.FAILED)),
    )  # type: ignore[arg-type]
    console = Console(width=120, record=True)
    console.print(edges_table("Upstream", [view], "UPSTREAM"))
    text = console.export_text()
    assert "✗" in text
    assert "impossible" in text
    assert "afterok:12" in text


def test_summarize_overall():
    """The header word follows the states of all shown jobs."""
    assert summarize([]).overall == "idle"
    assert summarize([_Rec(JobState.SUCCEEDED)] * 2).overall == "all succeeded"  # type: ignore[list-item]
    mixed = summarize([_Rec(JobState.SUCCEEDED), _Rec(JobState.RUNNING)])  # type: ignore[list-item]
    assert (mixed.overall, mixed.finished, mixed.total) == ("running", 1, 2)
    assert summarize([_Rec(JobState.FAILED)]).overall == "finished with failures"  # type: ignore[list-item]


def test_parse_as_of_accepts_epoch_and_iso():
    """Epoch seconds and ISO 8601 (with or without offset) give the same instant."""
    assert parse_as_of("1700000000.5") == 1700000000.5
    assert parse_as_of("2023-11-14T22:13:20+00:00") == 1700000000.0
    naive = dt.datetime(2023, 11, 14, 22, 13, 20).astimezone().timestamp()
    assert parse_as_of("2023-11-14T22:13:20") == naive
    with pytest.raises(ValueError):
        parse_as_of("tomorrow")


def test_monitor_navigation_keeps_selection(tmp_path):
    """Keys move the selection within bounds; Enter toggles details; q quits; reload keeps the job."""
    store = JobStore(tmp_path / "jobs.db")
    submitor = Submitor(Cluster("local", "local"), store=store)
    for _ in range(3):
        submitor.submit_job(argv=["true"])
    submitor.watch_jobs(None, timeout=60)
    dash = MolqMonitor(store, include_terminal=True, console=Console(width=120, height=40))
    dash.reload()
    for key in ("down", "down", "down"):
        dash.handle(key)
    assert dash.selected == 2
    chosen = dash.records[2].job_id
    dash.handle("enter")
    assert dash.detail
    console = Console(width=160, record=True)
    console.print(dash.render())
    assert f"Job {chosen[:12]}" in console.export_text()
    dash.handle("escape")
    dash.handle("up")
    dash.reload()
    assert dash.records[dash.selected].job_id == dash.records[1].job_id
    dash.handle("q")
    assert dash.quit
    store.close()


def test_open_sweeps_are_shown_under_the_header(tmp_path):
    """The monitor's list screen names every open sweep (store only)."""
    from molq import Cluster, JobStore, Submitor
    from molq.dashboard._view import sweep_lines

    store = JobStore(tmp_path / "jobs.db")
    sub = Submitor(Cluster("dash", "local"), store=store, jobs_dir=tmp_path / "jobs")
    handle = sub.submit_sweep(command="sleep 30; echo {n}", matrix={"n": [1, 2, 3]}, max_parallel=1)
    lines = [line.plain for line in sweep_lines(store)]
    assert len(lines) == 1
    assert handle.sweep_id in lines[0]
    assert "3 cells" in lines[0]
    handle.cancel()
    assert sweep_lines(store) == []
    store.close()
