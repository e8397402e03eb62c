"""Upstream molq's dashboard snapshot values (``DashboardState``, ``JobRow``), free of Rich."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DependencyLine:
    """One dependency relation in a job's detail view."""

    marker: str
    job_id: str
    dependency_type: str
    job_state: str
    scheduler_dependency: str | None = None


@dataclass(frozen=True)
class JobRow:
    """One job as a dashboard row: state text, id and what the detail view shows."""

    state: str
    run_id: str
    name: str | None = None
    cluster: str | None = None
    scheduler_id: str | None = None
    elapsed: str | None = None
    message: str | None = None
    dependency_summary: str | None = None
    upstream: tuple[DependencyLine, ...] = ()
    downstream: tuple[DependencyLine, ...] = ()
    extras: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DashboardState:
    """A snapshot of a run for a dashboard tick: counts, overall status and rows."""

    title: str
    overall_status: str
    total: int
    running: int
    pending: int
    done: int
    failed: int
    updated_at: str
    jobs: tuple[JobRow, ...] = ()
