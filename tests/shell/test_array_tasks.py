"""A reconciliation pass records an array's tasks as job.task_changed events (scripted scheduler, real store)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from molq.core import JobScheduling, JobSpec, JobState, Observation, SchedulerError
from molq.core._events import JobCreated
from molq.core._ports import Submission
from molq.core._tasks import ARRAY_SPEC_KEY
from molq.shell._array_tasks import append_task_events, job_tasks
from molq.shell._reconcile import JobReconciler
from molq.shell._submission import create_and_submit
from molq.shell.store._store import JobStore
from molq.shell.transport._local import LocalTransport


S = JobState


class ArrayScheduler:
    """Answers for the array as a whole from ``state`` and per task from ``tasks``."""

    name = "scripted"

    def __init__(self) -> None:
        self.state = Observation(S.RUNNING)
        self.tasks: dict[str, Observation] = {}
        self.task_queries: list[str] = []
        self.fail_tasks = False

    def prepare(self, spec: JobSpec, job_dir: str) -> Submission:
        return Submission(argv=("submit",), script="", script_path="")

    def submit(self, spec: JobSpec, job_dir: str) -> str:
        return "500"

    def observe_many(
        self, scheduler_job_ids: Sequence[str], *, job_dirs: Mapping[str, str] | None = None
    ) -> dict[str, Observation]:
        return dict.fromkeys(scheduler_job_ids, self.state)

    def array_tasks(self, scheduler_job_id: str) -> dict[str, Observation]:
        self.task_queries.append(scheduler_job_id)
        if self.fail_tasks:
            msg = "squeue: error: Socket timed out"
            raise SchedulerError(msg)
        return dict(self.tasks)

    def cancel(self, scheduler_job_id: str, *, job_dir: str | None = None) -> None:
        """Nothing to cancel in a script."""


@pytest.fixture
def world(store: JobStore):
    scheduler = ArrayScheduler()
    now = [1000.0]
    reconciler = JobReconciler(store, scheduler, "c", transport=LocalTransport(), clock=lambda: now[0])
    return store, scheduler, now, reconciler


def submit(store: JobStore, scheduler: ArrayScheduler, *, array: str | None = "0-2") -> str:
    metadata = {ARRAY_SPEC_KEY: array} if array else {}
    spec = JobSpec("argv", argv=("true",), scheduling=JobScheduling(array_spec=array), metadata=metadata)
    created = JobCreated(
        job_id="j", at=1000.0, cluster_name="c", scheduler="scripted", root_job_id="j", spec=spec
    )
    create_and_submit(store, scheduler, created, clock=lambda: 1000.0)
    return "j"


def test_tasks_are_recorded_as_they_change(world):
    """Each pass appends only what changed; the parent follows the scheduler's view of the array."""
    store, scheduler, now, reconciler = world
    submit(store, scheduler)
    scheduler.tasks = {
        "500_0": Observation(S.RUNNING),
        "500_1": Observation(S.QUEUED),
        "500": Observation(S.RUNNING),
    }
    reconciler.reconcile()
    assert job_tasks(store, "j").summary() == "1 running, 1 queued"
    version = store.stream_version("j")
    reconciler.reconcile()
    assert store.stream_version("j") == version  # nothing new, nothing appended
    scheduler.state = Observation(S.FAILED, exit_code=1)
    scheduler.tasks = {
        "500_0": Observation(S.SUCCEEDED, exit_code=0),
        "500_1": Observation(S.FAILED, exit_code=1),
        "500_2": Observation(S.SUCCEEDED, exit_code=0),
    }
    now[0] += 5
    reconciler.reconcile()
    tasks = job_tasks(store, "j")
    assert tasks.summary() == "2 succeeded, 1 failed"
    assert [(t.index, t.exit_code, t.transitions) for t in tasks.tasks] == [(0, 0, 2), (1, 1, 2), (2, 0, 1)]
    record = store.get_record("j")
    assert record is not None
    assert (record.state, record.exit_code) == (S.FAILED, 1)
    assert record.version == store.stream_version("j")


def test_plain_jobs_are_not_asked_about_tasks(world):
    """A job without an array spec costs no task query."""
    store, scheduler, _, reconciler = world
    submit(store, scheduler, array=None)
    reconciler.reconcile()
    assert scheduler.task_queries == []


def test_failed_task_query_is_reported_and_changes_no_task(world):
    """A failing task query is an error of the pass; the parent is still polled."""
    store, scheduler, _, reconciler = world
    submit(store, scheduler)
    scheduler.fail_tasks = True
    report = reconciler.reconcile()
    assert any("task query" in error for error in report.errors)
    assert job_tasks(store, "j").tasks == ()
    record = store.get_record("j")
    assert record is not None
    assert record.state is S.RUNNING


def test_append_returns_zero_when_nothing_is_new(world):
    """append_task_events appends the news once and reports how many events it wrote."""
    store, scheduler, _, _ = world
    submit(store, scheduler)
    observed = {"500_0": Observation(S.SUCCEEDED, exit_code=0)}
    assert append_task_events(store, "j", observed, now=1.0) == 1
    assert append_task_events(store, "j", observed, now=2.0) == 0
