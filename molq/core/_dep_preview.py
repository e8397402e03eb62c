"""Upstream molq's dependency preview values and the edge-state rule they use.

Rules of this module:
  Rule 1: pure values and one pure function; the dashboard's ``edge_status`` agrees with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._state import JobState


RelationState = Literal["satisfied", "pending", "impossible"]
_FAILED = frozenset({JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT, JobState.LOST})


def dependency_relation_state(
    dependency_type: str, related_state: JobState, related_started_at: float | None = None
) -> RelationState:
    """Whether one dependency edge is ``"satisfied"``, still ``"pending"`` or ``"impossible"``.

    ``related_state`` is the upstream job's state; ``related_started_at`` when it began running.
    """
    state = JobState(related_state)
    if dependency_type == "after_started":
        began = related_started_at is not None or state == JobState.RUNNING or state.is_terminal
        return "satisfied" if began else "pending"
    if not state.is_terminal:
        return "pending"
    if dependency_type == "after":
        return "satisfied"
    if dependency_type == "after_success":
        return "satisfied" if state == JobState.SUCCEEDED else "impossible"
    if dependency_type == "after_failure":
        return "satisfied" if state in _FAILED else "impossible"
    return "pending"


@dataclass(frozen=True)
class DependencyPreviewItem:
    """One dependency relation with the related job's state."""

    job_id: str
    dependency_type: str
    relation_state: str
    job_state: JobState
    command_display: str = ""
    scheduler_dependency: str | None = None


@dataclass(frozen=True)
class DependencyPreview:
    """Depth-1 dependency preview of one job: its upstream and downstream relations."""

    job_id: str
    upstream_total: int = 0
    upstream_satisfied: int = 0
    upstream: tuple[DependencyPreviewItem, ...] = ()
    downstream_total: int = 0
    downstream: tuple[DependencyPreviewItem, ...] = ()
