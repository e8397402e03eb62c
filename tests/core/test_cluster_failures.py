"""When a failed scheduler command is recorded as a cluster event (at most one per error a minute)."""

from __future__ import annotations

from molq.core._cluster_events import SchedulerCommandFailed, cluster_stream, should_record_failure


def failure(error: str = "squeue: timed out", at: float = 100.0) -> SchedulerCommandFailed:
    return SchedulerCommandFailed(cluster_name="c", at=at, scheduler="slurm", operation="status", error=error)


def test_first_failure_is_recorded():
    """With nothing recorded before, a failure is recorded."""
    assert should_record_failure(None, "squeue: timed out", 100.0)


def test_a_different_error_is_recorded_at_once():
    """A new error text is recorded even a second after another one."""
    assert should_record_failure(failure("a"), "b", 101.0)


def test_the_same_error_within_a_minute_is_not_recorded():
    """The same error again after 59.9 s adds nothing."""
    assert not should_record_failure(failure(), "squeue: timed out", 159.9)


def test_the_same_error_after_a_minute_is_recorded():
    """The same error exactly 60 s later is recorded again."""
    assert should_record_failure(failure(), "squeue: timed out", 160.0)


def test_the_quiet_period_can_be_changed():
    """quiet_s sets the period."""
    assert not should_record_failure(failure(), "squeue: timed out", 105.0, quiet_s=10.0)
    assert should_record_failure(failure(), "squeue: timed out", 110.0, quiet_s=10.0)


def test_cluster_stream_name():
    """A cluster's events live in the stream 'cluster/<name>'."""
    assert cluster_stream("hpc") == "cluster/hpc"
