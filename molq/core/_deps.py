"""Dependency compilation: logical molq edges to scheduler-native strings.

Rules of this module:
  Rule 1: the condition table below is the only mapping of conditions to dialects.
  Rule 2: pure: upstream scheduler ids are passed in, never looked up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Literal, TypeAlias

import attrs

from ._errors import DependencyCycle, DependencyError
from ._spec import DependencyCondition, DependencyRef, JobScheduling


Dialect: TypeAlias = Literal["slurm", "pbs", "lsf"]

CONDITION_NATIVE: Final[Mapping[str, Mapping[str, str]]] = {
    "after_success": {"slurm": "afterok", "pbs": "afterok", "lsf": "done"},
    "after_failure": {"slurm": "afternotok", "pbs": "afternotok", "lsf": "exit"},
    "after_started": {"slurm": "after", "pbs": "after", "lsf": "started"},
    "after": {"slurm": "afterany", "pbs": "afterany", "lsf": "ended"},
}


@attrs.frozen
class CompiledEdge:
    """One logical edge with the upstream's scheduler id and its native rendering."""

    dependency_job_id: str
    dependency_type: DependencyCondition
    scheduler_job_id: str
    native: str


def merge_dependency_refs(
    scheduling: JobScheduling,
    *,
    after_started: Sequence[str] | None = None,
    after: Sequence[str] | None = None,
    after_failure: Sequence[str] | None = None,
    after_success: Sequence[str] | None = None,
) -> tuple[DependencyRef, ...]:
    """Merge keyword dependencies with ``scheduling.dependencies``, dropping exact repeats."""
    refs: list[DependencyRef] = list(scheduling.dependencies)
    for condition, ids in (
        ("after_success", after_success),
        ("after_failure", after_failure),
        ("after_started", after_started),
        ("after", after),
    ):
        for job_id in ids or ():
            if not isinstance(job_id, str) or not job_id:
                msg = f"{condition} expects molq job ids (non-empty strings), got {job_id!r}"
                raise DependencyError(msg)
            refs.append(DependencyRef(job_id, condition))  # type: ignore[arg-type]
    seen: set[DependencyRef] = set()
    unique = []
    for ref in refs:
        if ref not in seen:
            seen.add(ref)
            unique.append(ref)
    return tuple(unique)


def native_edge(condition: DependencyCondition, scheduler_job_id: str, dialect: Dialect) -> str:
    """Render one edge, e.g. ``afterok:123`` or ``done(123)``."""
    keyword = CONDITION_NATIVE[condition][dialect]
    if dialect == "lsf":
        return f"{keyword}({scheduler_job_id})"
    return f"{keyword}:{scheduler_job_id}"


def compile_dependencies(
    refs: Sequence[DependencyRef],
    scheduler_ids: Mapping[str, str],
    dialect: Dialect,
    *,
    job_id: str | None = None,
) -> tuple[str, tuple[CompiledEdge, ...]]:
    """Compile logical refs into one native dependency expression plus per-edge strings.

    All edges must hold (AND): SLURM/PBS join groups with ``,`` and ids of one
    condition with ``:``; LSF joins terms with ``&&``.

    Raises:
        DependencyCycle: a ref names the job itself.
        DependencyError: an upstream has no scheduler id (unknown or never submitted).
    """
    edges: list[CompiledEdge] = []
    for ref in refs:
        if job_id is not None and ref.job_id == job_id:
            msg = f"job {job_id} cannot depend on itself"
            raise DependencyCycle(msg)
        sched_id = scheduler_ids.get(ref.job_id)
        if not sched_id:
            msg = f"dependency {ref.job_id!r} ({ref.condition}) has no scheduler job id: unknown job or not submitted"
            raise DependencyError(msg)
        edges.append(CompiledEdge(ref.job_id, ref.condition, sched_id, native_edge(ref.condition, sched_id, dialect)))
    return render_expression(edges, dialect), tuple(edges)


def render_expression(edges: Sequence[CompiledEdge], dialect: Dialect) -> str:
    """Join compiled edges into one expression for the dialect."""
    if not edges:
        return ""
    if dialect == "lsf":
        return " && ".join(edge.native for edge in edges)
    groups: dict[str, list[str]] = {}
    for edge in edges:
        keyword = CONDITION_NATIVE[edge.dependency_type][dialect]
        groups.setdefault(keyword, []).append(edge.scheduler_job_id)
    return ",".join(f"{keyword}:{':'.join(ids)}" for keyword, ids in groups.items())
