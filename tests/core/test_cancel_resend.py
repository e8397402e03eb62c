"""cancel_due_again: when the reconcile loop asks a scheduler again to cancel a job."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from molq.core import JobRecord, JobState
from molq.core._cancel_resend import CANCEL_RESEND_AFTER, CANCEL_RESEND_EVERY, cancel_due_again


def record(*, cancel_at: float | None = 100.0, sid: str | None = "42") -> JobRecord:
    return JobRecord(
        job_id="j", cluster_name="c", scheduler="slurm", state=JobState.RUNNING,
        cancel_requested_at=cancel_at, scheduler_job_id=sid,
    )


def test_the_figures():
    assert (CANCEL_RESEND_AFTER, CANCEL_RESEND_EVERY) == (10.0, 30.0)


@pytest.mark.parametrize(
    ("now", "last", "due"),
    [(109.99, None, False), (110.0, None, True), (500.0, None, True),
     (139.99, 110.0, False), (140.0, 110.0, True)],
)
def test_first_after_ten_seconds_then_every_thirty(now, last, due):
    assert cancel_due_again(record(), JobState.RUNNING, now=now, last_sent=last) is due


@pytest.mark.parametrize("observed", [None, *[s for s in JobState if s.is_terminal]])
def test_never_for_a_job_the_scheduler_no_longer_reports_active(observed):
    assert not cancel_due_again(record(), observed, now=1e9, last_sent=None)


def test_never_without_a_request_or_a_scheduler_id():
    assert not cancel_due_again(record(cancel_at=None), JobState.RUNNING, now=1e9, last_sent=None)
    assert not cancel_due_again(record(sid=None), JobState.RUNNING, now=1e9, last_sent=None)


@given(
    st.floats(0, 1e6), st.floats(0, 1e6), st.none() | st.floats(0, 1e6),
    st.sampled_from([s for s in JobState if not s.is_terminal]),
)
def test_due_only_after_the_pause_since_the_last_send(cancel_at, now, last, observed):
    due = cancel_due_again(record(cancel_at=cancel_at), observed, now=now, last_sent=last)
    since, pause = (cancel_at, CANCEL_RESEND_AFTER) if last is None else (last, CANCEL_RESEND_EVERY)
    assert due is (now - since >= pause)
