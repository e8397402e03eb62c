"""A failed scheduler command changes no state and is recorded in the log."""

from __future__ import annotations

from molq import JobState
from molq.core import SchedulerError


def test_failed_status_query_is_recorded_and_changes_nothing(local_submitor, monkeypatch):
    """The failure becomes one cluster.command_failed event; jobs keep their state; polling recovers."""
    handle = local_submitor.submit_job(argv=["sleep", "1"])
    scheduler = local_submitor.target.scheduler_impl
    real = scheduler.observe_many

    def broken(ids, *, job_dirs=None):
        raise SchedulerError("squeue failed: controller down", argv=("squeue", "-h"), returncode=1, stderr="down")

    monkeypatch.setattr(scheduler, "observe_many", broken)
    before = local_submitor.get_job(handle.job_id)
    report = local_submitor.reconciler.reconcile()
    local_submitor.reconciler.reconcile()  # the same error again within a minute: not recorded twice
    assert report.errors
    assert local_submitor.get_job(handle.job_id) == before
    [failure] = local_submitor.store.scheduler_failures("laptop")
    assert failure.operation == "status"
    assert failure.scheduler == "local"
    assert failure.argv == ("squeue", "-h")
    assert failure.returncode == 1
    assert failure.stderr == "down"
    assert "controller down" in failure.error
    monkeypatch.setattr(scheduler, "observe_many", real)
    assert handle.wait(timeout=30).state is JobState.SUCCEEDED
    assert local_submitor.store.verify_projections() == []


def test_a_different_error_is_recorded_again(local_submitor, monkeypatch):
    """A new error text is a new fact, even within the quiet minute."""
    local_submitor.submit_job(argv=["sleep", "2"])
    scheduler = local_submitor.target.scheduler_impl
    for text in ("first failure", "second failure"):
        monkeypatch.setattr(
            scheduler, "observe_many", lambda ids, *, job_dirs=None, text=text: (_ for _ in ()).throw(SchedulerError(text))
        )
        local_submitor.reconciler.reconcile()
    assert [f.error for f in local_submitor.store.scheduler_failures("laptop")] == ["second failure", "first failure"]
    monkeypatch.undo()
    local_submitor.watch_jobs(timeout=30)
