"""The tasks of a job array: ids, the fold, the summary and which observations are news."""

from __future__ import annotations

import pytest

from molq.core import ConfigError, JobState, Observation
from molq.core._events import JobTaskChanged, JobUnseen
from molq.core._tasks import (
    ARRAY_SPEC_KEY,
    NO_TASKS,
    ArrayTasks,
    evolve_tasks,
    fold_tasks,
    is_array_job,
    pbs_task_log_path,
    slurm_task_log_path,
    task_events,
    task_index,
    task_log_paths,
    task_scheduler_id,
)


S = JobState


def changed(index: int, state: JobState, at: float = 1.0, **kw) -> JobTaskChanged:
    return JobTaskChanged(job_id="j", at=at, index=index, state=state, **kw)


@pytest.mark.parametrize(
    ("task_id", "index"),
    [("123_4", 4), ("123_0", 0), ("123[4]", 4), ("19[12].pbshost", 12), ("7[3].a.b", 3)],
)
def test_task_index_reads_every_scheduler_spelling(task_id, index):
    """Slurm's 123_4, PBS's 123[4].server and LSF's 123[4] all name index 4."""
    assert task_index(task_id) == index


@pytest.mark.parametrize("task_id", ["123", "123_[5-9]", "123_[5-9%2]", "19[].pbshost", "x_1", "123_4x", ""])
def test_task_index_refuses_what_names_no_task(task_id):
    """The array itself and pending ranges are not tasks."""
    assert task_index(task_id) is None


class TestFold:
    def test_empty(self):
        """No events: no tasks, and the summary says so."""
        tasks = fold_tasks([])
        assert tasks == NO_TASKS
        assert tasks.summary() == "no tasks seen"
        assert not tasks.all_succeeded()

    def test_last_event_per_task_wins_and_keeps_start(self):
        """A task's state, exit code and end come from its latest event; its start stays."""
        tasks = fold_tasks(
            [
                changed(1, S.RUNNING, at=1, started_at=10.0, task_id="5_1"),
                changed(0, S.SUCCEEDED, at=2, exit_code=0),
                changed(1, S.FAILED, at=3, exit_code=2, finished_at=20.0, reason="NonZeroExitCode"),
            ]
        )
        assert [t.index for t in tasks.tasks] == [0, 1]
        one = tasks.get(1)
        assert one is not None
        assert (one.state, one.exit_code, one.started_at, one.finished_at) == (S.FAILED, 2, 10.0, 20.0)
        assert (one.task_id, one.changed_at, one.transitions, one.reason) == ("5_1", 3, 2, "NonZeroExitCode")
        assert tasks.get(7) is None

    def test_other_events_are_ignored(self):
        """Job events that are not task events change no task."""
        unseen = JobUnseen(job_id="j", at=1.0)
        assert fold_tasks([unseen]) == NO_TASKS
        assert evolve_tasks(NO_TASKS, unseen) is NO_TASKS

    def test_summary_counts_in_outcome_order(self):
        """998 succeeded, 2 failed: successes first, then failures, then what still runs."""
        events = [changed(i, S.SUCCEEDED) for i in range(998)]
        events += [changed(998, S.FAILED), changed(999, S.FAILED), changed(1000, S.RUNNING)]
        tasks = fold_tasks(events)
        assert tasks.summary() == "998 succeeded, 2 failed, 1 running"
        assert tasks.counts() == {"succeeded": 998, "failed": 2, "running": 1}
        assert tasks.indices(S.FAILED) == (998, 999)
        assert not tasks.all_succeeded()

    def test_all_succeeded(self):
        """all_succeeded needs every recorded task to have succeeded."""
        assert fold_tasks([changed(0, S.SUCCEEDED), changed(1, S.SUCCEEDED)]).all_succeeded()
        assert not fold_tasks([changed(0, S.SUCCEEDED), changed(1, S.QUEUED)]).all_succeeded()

    def test_fold_continues_from_tasks(self):
        """Folding onto earlier tasks keeps them."""
        first = fold_tasks([changed(0, S.RUNNING)])
        assert fold_tasks([changed(1, S.QUEUED)], first) == ArrayTasks(
            (*first.tasks, *fold_tasks([changed(1, S.QUEUED)]).tasks)
        )


class TestTaskEvents:
    def test_new_tasks_and_changes_only(self):
        """Observed tasks become events when new or changed; repeats and non-tasks do not."""
        tasks = fold_tasks([changed(0, S.RUNNING)])
        observed = {
            "9_0": Observation(S.RUNNING, "RUNNING"),
            "9_1": Observation(S.FAILED, "FAILED", exit_code=1, finished_at=5.0),
            "9": Observation(S.RUNNING),
            "9_[2-4]": Observation(S.QUEUED),
            "9_5": Observation(None),
        }
        events = task_events(tasks, "j", observed, now=42.0)
        assert events == (
            JobTaskChanged(
                job_id="j",
                at=42.0,
                index=1,
                state=S.FAILED,
                exit_code=1,
                raw_state="FAILED",
                task_id="9_1",
                finished_at=5.0,
            ),
        )

    def test_ended_task_stays_ended(self):
        """A stale active row for an ended task records nothing; a late exit code does."""
        tasks = fold_tasks([changed(3, S.FAILED)])
        assert task_events(tasks, "j", {"9_3": Observation(S.RUNNING)}, now=1) == ()
        assert task_events(tasks, "j", {"9_3": Observation(S.SUCCEEDED, exit_code=0)}, now=1) == ()
        late = task_events(tasks, "j", {"9_3": Observation(S.FAILED, exit_code=3)}, now=1)
        assert [(e.index, e.exit_code) for e in late] == [(3, 3)]
        known = fold_tasks([changed(3, S.FAILED, exit_code=3)])
        assert task_events(known, "j", {"9_3": Observation(S.FAILED, exit_code=3)}, now=1) == ()

    def test_events_in_index_order(self):
        """Events come out by index, not by the order of the reply (10 after 9)."""
        observed = {f"9_{i}": Observation(S.QUEUED) for i in (10, 2, 9)}
        assert [e.index for e in task_events(NO_TASKS, "j", observed, now=1)] == [2, 9, 10]


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("/d/stdout.log", "/d/stdout.log.77_3"),
        ("/d/out-%A-%a.txt", "/d/out-77-3.txt"),
        ("/d/out-%a.txt", "/d/out-3.txt"),
    ],
)
def test_slurm_task_log_path(template, expected):
    """The inverse of how molq renders an array's --output (<path>.%A_%a, or the user's %a pattern)."""
    assert slurm_task_log_path(template, "77", 3) == expected


@pytest.mark.parametrize(
    ("scheduler", "expected"),
    [
        ("slurm", ("/d/stdout.log.77_3", "/d/stderr.log.77_3")),
        ("pbs", ("/d/stdout.log.3", "/d/stderr.log.3")),
        ("lsf", ("/d/stdout.log.3", "/d/stderr.log.3")),
        ("local", ("/d/stdout.log", "/d/stderr.log")),
    ],
)
def test_task_log_paths_per_scheduler(scheduler, expected):
    """Slurm, OpenPBS and LSF tasks each have their own files."""
    metadata = {"molq.stdout_path": "/d/stdout.log", "molq.stderr_path": "/d/stderr.log"}
    assert task_log_paths(scheduler, metadata, "77", 3) == expected


def test_pbs_task_log_path_with_the_marker():
    """A path that already names ^array_index^ has it replaced."""
    assert pbs_task_log_path("/d/out.^array_index^.txt", 4) == "/d/out.4.txt"


def test_is_array_job():
    """The array spec in the metadata marks an array job."""
    from molq.core import JobRecord

    plain = JobRecord(job_id="j", cluster_name="c", scheduler="slurm", state=S.RUNNING)
    array = JobRecord(
        job_id="j", cluster_name="c", scheduler="slurm", state=S.RUNNING, metadata={ARRAY_SPEC_KEY: "0-3"}
    )
    assert (is_array_job(plain), is_array_job(array)) == (False, True)


@pytest.mark.parametrize(
    ("scheduler", "sid", "expected"),
    [("slurm", "77", "77_3"), ("pbs", "9[].pbshost", "9[3].pbshost"), ("lsf", "12", "12[3]")],
)
def test_task_scheduler_id(scheduler, sid, expected):
    """Each scheduler's own name for task 3."""
    assert task_scheduler_id(scheduler, sid, 3) == expected


@pytest.mark.parametrize(
    ("scheduler", "sid", "index"), [("local", "77", 1), ("pbs", "14", 1), ("slurm", "77", -1)]
)
def test_task_scheduler_id_refused(scheduler, sid, index):
    """No per-task id on local or Torque-style PBS ids, nor for a negative index."""
    with pytest.raises(ConfigError):
        task_scheduler_id(scheduler, sid, index)
