"""The array-task fold and ids, exactly as users read them (inspect, logs --task, cancel --task)."""

from __future__ import annotations

import functools

import pytest

from molq.core import ConfigError, JobState, Observation
from molq.core._events import JobTaskChanged, JobUnseen
from molq.core._tasks import (
    NO_TASKS,
    TaskRecord,
    evolve_tasks,
    fold_tasks,
    task_events,
    task_log_paths,
    task_scheduler_id,
)


S = JobState
HISTORY = (
    JobTaskChanged(job_id="j", at=1.0, index=2, state=S.QUEUED, raw_state="PENDING", task_id="77_2"),
    JobUnseen(job_id="j", at=1.5, detail="missing from the status reply"),
    JobTaskChanged(job_id="j", at=2.0, index=2, state=S.RUNNING, raw_state="RUNNING", started_at=1.9),
    JobTaskChanged(job_id="j", at=3.0, index=0, state=S.FAILED, exit_code=3, reason="NonZeroExitCode"),
    JobTaskChanged(job_id="j", at=4.0, index=2, state=S.SUCCEEDED, exit_code=0, raw_state="COMPLETED",
                   finished_at=3.9),
)


def test_the_fold_event_by_event_keeps_ids_start_times_and_counts():
    """evolve_tasks one event at a time gives what fold_tasks gives, field by field."""
    stepped = functools.reduce(evolve_tasks, HISTORY, NO_TASKS)
    assert stepped == fold_tasks(HISTORY)
    assert stepped.tasks == (
        TaskRecord(index=0, state=S.FAILED, exit_code=3, reason="NonZeroExitCode", changed_at=3.0, transitions=1),
        TaskRecord(index=2, state=S.SUCCEEDED, exit_code=0, raw_state="COMPLETED", task_id="77_2",
                   started_at=1.9, finished_at=3.9, changed_at=4.0, transitions=3),
    )
    assert evolve_tasks(stepped, HISTORY[1]) is stepped  # other events change nothing


def test_new_events_carry_the_schedulers_words():
    """A task's event keeps the scheduler's reason, raw state, id and times."""
    seen = Observation(S.FAILED, exit_code=1, reason="NonZeroExitCode", raw_state="FAILED",
                       started_at=5.0, finished_at=6.0)
    (event,) = task_events(NO_TASKS, "j", {"77_4": seen}, now=7.0)
    assert event == JobTaskChanged(job_id="j", at=7.0, index=4, state=S.FAILED, exit_code=1,
                                   reason="NonZeroExitCode", raw_state="FAILED", task_id="77_4",
                                   started_at=5.0, finished_at=6.0)


def test_task_zero_has_an_id_and_the_refusals_say_why():
    assert task_scheduler_id("slurm", "77", 0) == "77_0"
    with pytest.raises(ConfigError) as negative:
        task_scheduler_id("slurm", "77", -1)
    assert str(negative.value) == "task index must be 0 or more, got -1"
    with pytest.raises(ConfigError) as local:
        task_scheduler_id("local", "77", 1)
    assert str(local.value) == "local job '77' has no per-task ids: only SLURM, OpenPBS and LSF arrays do"


@pytest.mark.parametrize("scheduler", ["slurm", "pbs", "lsf", "local"])
def test_a_stream_without_a_recorded_path_has_no_task_path(scheduler):
    """No path recorded (an old record, a dry run) gives "" rather than a made-up ".3"."""
    assert task_log_paths(scheduler, {}, "77", 3) == ("", "")
    assert task_log_paths(scheduler, {"molq.stdout_path": "/o"}, "77", 3)[1] == ""
