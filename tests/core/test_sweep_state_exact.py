"""The sweep projection, its status line and launch decisions, on concrete sweeps.

What a user sees: `molq sweep status` counts and overall state, which cells start
next, the job each cell runs as (its dir, its log paths, its MOLQ_SWEEP_* metadata).
"""

from __future__ import annotations

import pytest

from molq.core import CorruptLogError, JobSpec, JobState, RetryPolicy
from molq.core._sweep_events import (
    SweepCancelRequested,
    SweepCell,
    SweepCellLaunched,
    SweepCreated,
    SweepStopped,
)
from molq.core._sweep_state import (
    SweepRecord,
    cell_created,
    cell_job_dir,
    evolve_sweep,
    plan_sweep,
    request_sweep_cancel,
    sweep_status,
)


CELLS = tuple(SweepCell(index=i, job_id=f"cell{i}", args=(("x", i),)) for i in range(3))


def created(**changes) -> SweepCreated:
    fields = {
        "sweep_id": "s", "at": 10.0, "cluster_name": "hpc", "scheduler": "slurm",
        "spec": JobSpec("command", command="run {x}",
                        metadata={"molq.stdout_path": "/w/s/stdout.log", "molq.stderr_path": "/w/out-{x}.err"}),
        "job_dir": "/w/s", "cells": CELLS, "axes": ("x",), "max_parallel": 2, "fail_fast": False,
        "retry": RetryPolicy(max_attempts=2), "profile_name": "prof",
    }
    return SweepCreated(**(fields | changes))


def launched(record: SweepRecord, *indexes: int) -> SweepRecord:
    for i in indexes:
        record = evolve_sweep(record, SweepCellLaunched(sweep_id="s", at=11.0, index=i, job_id=f"cell{i}"))
    return record


class TestProjection:
    def test_created_sweep_record(self):
        """A new sweep's record holds what was asked, nothing launched, version 1."""
        assert evolve_sweep(None, created()) == SweepRecord(
            sweep_id="s", cluster_name="hpc", scheduler="slurm", created_at=10.0, cells=CELLS, axes=("x",),
            max_parallel=2, fail_fast=False, version=1,
        )

    def test_each_event_adds_one_version(self):
        """Launches, a cancel request and a stop each add one to the version."""
        record = launched(evolve_sweep(None, created()), 0, 2)
        assert record.launched == (0, 2)
        assert record.version == 3
        record = evolve_sweep(record, SweepCancelRequested(sweep_id="s", at=12.0, reason="user"))
        assert (record.cancel_requested_at, record.version) == (12.0, 4)
        record = evolve_sweep(record, SweepCancelRequested(sweep_id="s", at=13.0))
        assert (record.cancel_requested_at, record.version) == (12.0, 5)  # the first request counts
        record = evolve_sweep(record, SweepStopped(sweep_id="s", at=14.0, reason="fail_fast: cell 0 ended failed"))
        assert (record.stopped_at, record.stop_reason, record.version) == (14.0, "fail_fast: cell 0 ended failed", 6)

    @pytest.mark.parametrize("index", [-1, 3])
    def test_launching_a_cell_that_does_not_exist_is_corrupt(self, index):
        """A launch of a cell outside the matrix is an impossible history."""
        with pytest.raises(CorruptLogError, match=f"cell {index} launched twice or does not exist"):
            launched(evolve_sweep(None, created()), index)

    def test_launching_twice_is_corrupt(self):
        """The same cell cannot be launched twice."""
        with pytest.raises(CorruptLogError):
            launched(evolve_sweep(None, created()), 1, 1)

    def test_history_must_start_with_one_creation(self):
        """No creation first, or a second creation, is corrupt."""
        with pytest.raises(CorruptLogError, match=r"sweep s: history must start with exactly one sweep\.created"):
            evolve_sweep(None, SweepStopped(sweep_id="s", at=1.0, reason="r"))
        with pytest.raises(CorruptLogError):
            evolve_sweep(evolve_sweep(None, created()), created())


class TestPlan:
    def test_fills_free_slots_lowest_index_first(self):
        """With max_parallel 2 and one cell running, one more cell starts: the lowest not launched."""
        record = launched(evolve_sweep(None, created()), 1)
        assert plan_sweep(record, {1: JobState.RUNNING}, now=20.0) == (
            SweepCellLaunched(sweep_id="s", at=20.0, index=0, job_id="cell0"),
        )

    def test_a_finished_cell_frees_its_slot(self):
        """A launched cell that ended no longer takes a slot; a launched cell without a job yet does."""
        record = launched(evolve_sweep(None, created()), 0, 1)
        assert plan_sweep(record, {0: JobState.SUCCEEDED, 1: JobState.RUNNING}, now=20.0) == (
            SweepCellLaunched(sweep_id="s", at=20.0, index=2, job_id="cell2"),
        )
        assert plan_sweep(record, {0: JobState.SUCCEEDED}, now=20.0) != ()
        assert plan_sweep(record, {1: JobState.RUNNING}, now=20.0) == ()

    def test_fail_fast_stops_after_a_failed_cell(self):
        """With fail_fast, the first failed launched cell stops the sweep, with the reason."""
        record = launched(evolve_sweep(None, created(fail_fast=True)), 0, 1)
        states = {0: JobState.SUCCEEDED, 1: JobState.TIMED_OUT}
        assert plan_sweep(record, states, now=30.0) == (
            SweepStopped(sweep_id="s", at=30.0, reason="fail_fast: cell 1 ended timed_out"),
        )

    def test_without_fail_fast_a_failure_does_not_stop(self):
        """Without fail_fast, a failed cell frees its slot like any other."""
        record = launched(evolve_sweep(None, created()), 0, 1)
        events = plan_sweep(record, {0: JobState.FAILED, 1: JobState.RUNNING}, now=30.0)
        assert [type(e) for e in events] == [SweepCellLaunched]

    def test_a_closed_sweep_plans_nothing(self):
        """Cancelled, stopped or fully launched sweeps start nothing."""
        base = evolve_sweep(None, created())
        cancelled = evolve_sweep(base, SweepCancelRequested(sweep_id="s", at=1.0))
        assert plan_sweep(cancelled, {}, now=1.0) == ()
        assert plan_sweep(launched(base, 0, 1, 2), dict.fromkeys(range(3), JobState.SUCCEEDED), now=1.0) == ()

    def test_cancel_request_once(self):
        """A cancel is requested once, with its reason; a second request adds nothing."""
        record = evolve_sweep(None, created())
        assert request_sweep_cancel(record, "enough", now=5.0) == (
            SweepCancelRequested(sweep_id="s", at=5.0, reason="enough"),
        )
        cancelled = evolve_sweep(record, SweepCancelRequested(sweep_id="s", at=5.0))
        assert request_sweep_cancel(cancelled, None, now=6.0) == ()


class TestStatus:
    def test_counts_and_running(self):
        """Counts per state, 'pending' for cells not launched, 'created' for a launch without a job yet."""
        record = launched(evolve_sweep(None, created()), 0, 1)
        status = sweep_status(record, {0: JobState.RUNNING})
        assert status.sweep_id == "s"
        assert status.total == 3
        assert status.record == record
        assert status.counts == (("created", 1), ("pending", 1), ("running", 1))
        assert status.state == "running"
        assert status.count("running") == 1
        assert status.count("failed") == 0
        assert not status.is_final

    def test_nothing_launched_is_pending(self):
        """A sweep that launched nothing yet is pending."""
        status = sweep_status(evolve_sweep(None, created()), {})
        assert (status.state, status.count("pending")) == ("pending", 3)

    def test_finished_cells_with_more_to_launch_is_running(self):
        """Finished cells and cells still to launch: running."""
        record = launched(evolve_sweep(None, created()), 0)
        assert sweep_status(record, {0: JobState.SUCCEEDED}).state == "running"

    @pytest.mark.parametrize(
        ("states", "overall"),
        [
            ((JobState.SUCCEEDED,) * 3, "succeeded"),
            ((JobState.SUCCEEDED, JobState.LOST, JobState.SUCCEEDED), "failed"),
            ((JobState.SUCCEEDED, JobState.CANCELLED, JobState.SUCCEEDED), "cancelled"),
            ((JobState.FAILED, JobState.CANCELLED, JobState.SUCCEEDED), "failed"),
        ],
    )
    def test_overall_state_of_a_finished_sweep(self, states, overall):
        """Any failed cell fails the sweep; else any cancelled cell cancels it; else it succeeded."""
        record = launched(evolve_sweep(None, created()), 0, 1, 2)
        status = sweep_status(record, dict(enumerate(states)))
        assert status.state == overall
        assert status.is_final

    def test_cancelled_sweep_skips_the_rest(self):
        """After a cancel, cells never launched are 'skipped' and the sweep is cancelled."""
        record = launched(evolve_sweep(None, created()), 0)
        record = evolve_sweep(record, SweepCancelRequested(sweep_id="s", at=12.0))
        status = sweep_status(record, {0: JobState.SUCCEEDED})
        assert status.counts == (("skipped", 2), ("succeeded", 1))
        assert status.state == "cancelled"


class TestCellJobs:
    def test_cell_dir(self):
        """Cell N lives in cell-NNNN under the sweep's dir."""
        assert cell_job_dir("/w/s", 7) == "/w/s/cell-0007"

    def test_cell_job_is_the_template_rendered(self):
        """A cell's job: rendered command, own dir and logs, sweep metadata, the sweep's retry and profile."""
        job = cell_created(created(), CELLS[2], now=50.0)
        assert job.job_id == "cell2"
        assert job.root_job_id == "cell2"
        assert job.at == 50.0
        assert (job.cluster_name, job.scheduler, job.profile_name) == ("hpc", "slurm", "prof")
        assert job.retry == RetryPolicy(max_attempts=2)
        assert job.job_dir == "/w/s/cell-0002"
        assert job.spec.command == 'run "${MOLQ_ARG_x}"'
        assert dict(job.spec.execution.env or {})["MOLQ_ARG_x"] == "2"
        assert dict(job.spec.metadata) == {
            "molq.stdout_path": "/w/s/cell-0002/stdout.log",
            "molq.stderr_path": "/w/out-2.err",
            "molq.job_dir": "/w/s/cell-0002",
            "molq.sweep_id": "s",
            "molq.sweep_cell": "2",
        }

    def test_default_stderr_follows_the_cell(self):
        """The sweep's default stderr path becomes the cell's own."""
        spec = JobSpec("command", command="run", metadata={"molq.stderr_path": "/w/s/stderr.log"})
        job = cell_created(created(spec=spec), CELLS[0], now=1.0)
        assert job.spec.metadata["molq.stderr_path"] == "/w/s/cell-0000/stderr.log"
