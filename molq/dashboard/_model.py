"""What the dashboard and the CLI show about jobs, computed from store reads only."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Literal

import attrs

from molq import CorruptLogError, JobState


if TYPE_CHECKING:
    from molq import JobDependency, JobRecord, JobStore

EdgeStatus = Literal["satisfied", "pending", "impossible", "unknown"]
EDGE_MARKS: dict[str, str] = {"satisfied": "✓", "pending": "…", "impossible": "✗", "unknown": "?"}
_FAILED = frozenset({JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT, JobState.LOST})
_NAMES: dict[str, str | None] = {}


def job_name_of(store: JobStore, job_id: str) -> str | None:
    """The ``job_name`` a job was submitted with (specs never change, so it is cached)."""
    if job_id not in _NAMES:
        try:
            _NAMES[job_id] = store.created_event(job_id).spec.execution.job_name
        except CorruptLogError:
            return None
    return _NAMES[job_id]


def edge_status(condition: str, upstream: JobRecord | None) -> EdgeStatus:
    """Whether a dependency on ``upstream`` (its latest attempt) is met, can still be, or never will."""
    if upstream is None:
        return "unknown"
    state = upstream.state
    if condition == "after_started":
        return "satisfied" if state == JobState.RUNNING or state.is_terminal else "pending"
    if not state.is_terminal:
        return "pending"
    if condition == "after":
        return "satisfied"
    if condition == "after_success":
        return "satisfied" if state == JobState.SUCCEEDED else "impossible"
    if condition == "after_failure":
        return "satisfied" if state in _FAILED else "impossible"
    return "unknown"


@attrs.frozen
class EdgeView:
    """One dependency edge as shown to a user."""

    job_id: str
    other_job_id: str
    condition: str
    native: str
    other_state: JobState | None
    status: EdgeStatus


def latest_of(store: JobStore, job_id: str) -> JobRecord | None:
    """The latest attempt of the family ``job_id`` belongs to."""
    record = store.get_record(job_id)
    if record is None:
        return None
    return store.latest_attempt(record.root_job_id) or record


def upstream_edges(store: JobStore, job_id: str) -> list[EdgeView]:
    """The jobs ``job_id`` waits for, with the status of each edge."""
    return [_view(store, edge, edge.dependency_job_id) for edge in store.dependencies(job_id)]


def downstream_edges(store: JobStore, job_id: str) -> list[EdgeView]:
    """The jobs waiting for ``job_id``, with the status of each edge."""
    return [_view(store, edge, edge.job_id) for edge in store.dependents(job_id)]


def _view(store: JobStore, edge: JobDependency, other: str) -> EdgeView:
    upstream = latest_of(store, edge.dependency_job_id)
    other_record = latest_of(store, other)
    return EdgeView(
        job_id=edge.job_id,
        other_job_id=other,
        condition=edge.dependency_type,
        native=edge.scheduler_dependency,
        other_state=other_record.state if other_record else None,
        status=edge_status(edge.dependency_type, upstream),
    )


@attrs.frozen
class Summary:
    """Counts by state and the overall status of a set of jobs."""

    total: int
    finished: int
    counts: dict[str, int]
    overall: str


def summarize(records: list[JobRecord]) -> Summary:
    """Counts by state, how many are finished, and one word for the whole set."""
    counts = Counter(r.state.value for r in records)
    finished = sum(1 for r in records if r.state.is_terminal)
    if not records:
        overall = "idle"
    elif finished < len(records):
        overall = "running" if counts.get("running") else "waiting"
    elif counts.get("succeeded") == len(records):
        overall = "all succeeded"
    else:
        overall = "finished with failures"
    ordered = {s.value: counts[s.value] for s in JobState if counts.get(s.value)}
    return Summary(total=len(records), finished=finished, counts=ordered, overall=overall)
