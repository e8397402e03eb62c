"""What `molq status` shows for a local job, from the facts its job dir holds (state, raw state, reason)."""

from __future__ import annotations

import pytest

from molq.core import JobState, Observation
from molq.core._sched._local import observe_facts


T0 = 1700000000.5


def facts(**changes) -> Observation:
    fields = {"status": "-", "exit_file": "-", "wrapper_pid": "4242", "alive": "0", "started": str(T0),
              "timed_out": "0", "cancelled": "0"}
    return observe_facts(**(fields | changes))


def test_running():
    """A live wrapper: running, since its start."""
    assert facts(alive="1") == Observation(state=JobState.RUNNING, raw_state="running", started_at=T0)


def test_not_started():
    """No wrapper pid yet: unknown, 'not started'."""
    assert facts(wrapper_pid="-", started="-") == Observation(
        state=None, raw_state="not started", reason="the wrapper has not started"
    )


def test_wrapper_gone_without_status_is_lost():
    """A wrapper that died without writing a status: LOST, with the reason and its start."""
    assert facts() == Observation(
        state=JobState.LOST, raw_state="wrapper gone", started_at=T0,
        reason="exit status unknown: the job's wrapper process ended without recording one",
    )


def test_exit_file_without_status():
    """A wrapper gone but an exit_code file left: that code decides, with the flags."""
    assert facts(exit_file="3") == Observation(
        state=JobState.FAILED, raw_state="exited 3", exit_code=3, started_at=T0, reason="exit code 3"
    )
    assert facts(exit_file="1", timed_out="1").state is JobState.TIMED_OUT
    assert facts(exit_file="1", cancelled="1").state is JobState.CANCELLED


@pytest.mark.parametrize(
    ("status", "timed_out", "cancelled", "expected"),
    [
        ("0 1700000100", "1", "1", (JobState.SUCCEEDED, "exited 0", None)),
        ("1 1700000100", "1", "0", (JobState.TIMED_OUT, "timed_out", "time limit reached")),
        ("1 1700000100", "0", "1", (JobState.CANCELLED, "cancelled", "cancelled")),
        ("x 1700000100", "0", "0", (JobState.LOST, "unreadable status", "exit status file is unreadable")),
        ("128 1700000100", "0", "0", (JobState.FAILED, "exited 128", "exit code 128")),
        ("129 1700000100", "0", "0", (JobState.FAILED, "exited 129", "killed by signal 1")),
    ],
)
def test_finished(status, timed_out, cancelled, expected):
    """A status file decides: exit 0 wins over late cancels/timeouts; signals are named."""
    obs = facts(status=status, timed_out=timed_out, cancelled=cancelled)
    assert (obs.state, obs.raw_state, obs.reason) == expected
    assert obs.finished_at == 1700000100.0
    assert obs.started_at == T0


def test_times_in_other_forms():
    """A start time with extra decimals or junk after the dot is read up to the dot; '-' is none."""
    assert facts(alive="1", started="1700000000.5.1").started_at == 1700000000.0
    assert facts(alive="1", started="-").started_at is None
    assert facts(alive="1", started="abc").started_at is None


def test_a_status_caught_mid_write_is_still_running():
    """An empty status file is being written: the job is judged by its wrapper."""
    assert facts(status="", alive="1").state is JobState.RUNNING


class TestJobScript:
    def script(self, memory: int | None) -> list[str]:
        from molq.core import JobSpec
        from molq.core._sched._local import render_job_script
        from molq.core._spec import JobResources
        from molq.core._units import Memory

        resources = JobResources(memory=None if memory is None else Memory(n_bytes=memory))
        return render_job_script(JobSpec("argv", argv=("true",), resources=resources), "/j").splitlines()

    def test_memory_limit_in_kib(self):
        """A memory request becomes `ulimit -v` in KiB, at least 1, right after the header."""
        assert self.script(3 * 1024 * 1024)[:3] == ["#!/bin/sh", "# molq job script (generated)",
                                                     "ulimit -v 3072 || exit 126"]
        assert self.script(1000)[2] == "ulimit -v 1 || exit 126"

    def test_no_memory_no_limit(self):
        """Without a memory request the body follows the header directly."""
        lines = self.script(None)
        assert lines[:2] == ["#!/bin/sh", "# molq job script (generated)"]
        assert not any(line.startswith("ulimit") for line in lines)
