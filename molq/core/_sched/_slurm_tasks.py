"""Slurm job arrays, task by task: the queries and how their answers combine.

Rules of this module:
  Rule 1: pure: argv out, text in, Observations keyed by Slurm's task id (``123_4``) out.
  Rule 2: squeue's view wins (it is fresher); sacct fills the exit code when both agree,
          and alone speaks for tasks squeue has already forgotten (as ``corroborate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from .._records import Observation
from .._tasks import task_index
from ._slurm import SQUEUE_FORMAT, sacct_argv, scontrol_argv
from ._slurm_parse import _scontrol_record, corroborate, parse_sacct, parse_squeue


_TASK_HEAD: Final = re.compile(r"^JobId=[0-9]+ ArrayJobId=([0-9]+) ArrayTaskId=([0-9]+)\s", re.ASCII)


def squeue_tasks_argv(scheduler_job_id: str) -> tuple[str, ...]:
    """Squeue for one array, one line per task (``-r``: pending tasks expanded too)."""
    return ("squeue", "-h", "-r", "-t", "all", "-j", scheduler_job_id, "-o", SQUEUE_FORMAT)


def sacct_tasks_argv(scheduler_job_id: str) -> tuple[str, ...]:
    """Sacct for one array: one allocation line per task that has started or ended."""
    return sacct_argv([scheduler_job_id])


def scontrol_tasks_argv(scheduler_job_id: str) -> tuple[str, ...]:
    """Scontrol for one array: a record per task slurmctld still holds, with its ExitCode."""
    return scontrol_argv(scheduler_job_id)


def merge_task_views(*views: Mapping[str, Observation]) -> dict[str, Observation]:
    """``{task id: Observation}`` from views freshest first; ids naming no task are dropped."""
    merged: dict[str, Observation] = {}
    for task_id in sorted({key for view in views for key in view}):
        if task_index(task_id) is None:
            continue
        obs: Observation | None = None
        for view in views:
            obs = corroborate(obs, view.get(task_id))
        if obs is not None:
            merged[task_id] = obs
    return merged


def needs_exit_codes(tasks: Mapping[str, Observation]) -> bool:
    """Whether a task ended with no exit code known (sacct lags squeue by a moment)."""
    return any(o.state is not None and o.state.is_terminal and o.exit_code is None for o in tasks.values())


def parse_scontrol_tasks(stdout: str) -> dict[str, Observation]:
    """``scontrol show job <array>`` as ``{"123_4": Observation}``, one per task record."""
    found: dict[str, Observation] = {}
    for chunk in re.split(r"\n[ \t\r]*\n", stdout):
        text = chunk.strip()
        head = _TASK_HEAD.match(text)
        record = _scontrol_record(text) if head else None
        if head and record is not None:
            found[f"{head.group(1)}_{head.group(2)}"] = record
    return found


def parse_task_views(squeue_stdout: str, sacct_stdout: str | None) -> dict[str, Observation]:
    """Parse ``squeue_tasks_argv`` and ``sacct_tasks_argv`` output into per-task Observations."""
    accounting = parse_sacct(sacct_stdout) if sacct_stdout is not None else {}
    return merge_task_views(parse_squeue(squeue_stdout), accounting)


def with_scontrol(tasks: Mapping[str, Observation], scontrol_stdout: str) -> dict[str, Observation]:
    """``tasks`` with exit codes filled from ``scontrol show job`` where it agrees on the state."""
    return merge_task_views(tasks, parse_scontrol_tasks(scontrol_stdout))
