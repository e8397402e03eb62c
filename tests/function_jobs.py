"""The function-job checks every backend must pass (issue 16): local, Slurm, PBS, LSF and SSH.

Import explicitly (not a conftest). The functions are defined inside the checks, so
cloudpickle sends them by value: the job's interpreter need not import ``tests``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

import molq
from molq import (
    JobFailedError,
    JobState,
    RemoteTraceback,
    RetryBackoff,
    RetryPolicy,
    Submitor,
)
from molq.api._outcomes import recorded_summary
from molq.run_function import RESULT_FILE


FAST = RetryBackoff(mode="fixed", initial_seconds=0.1, maximum_seconds=0.1)
TIMEOUT = 240


def check_values_and_exceptions(sub: Submitor, **options: Any) -> None:
    """A value comes back; an exception comes back re-created, with its remote traceback."""

    def add(x, y, *, scale=1):
        return {"sum": (x + y) * scale, "text": "ünï 'q' $HOME"}

    def explode(why):
        msg = f"bad input: {why}"
        raise KeyError(msg)

    ok = sub.submit_function(add, 2, 3, scale=10, **options)
    bad = sub.submit_function(explode, "x", **options)
    assert ok.result(timeout=TIMEOUT) == {"sum": 50, "text": "ünï 'q' $HOME"}
    assert ok.done() is True
    assert ok.exception() is None
    with pytest.raises(KeyError, match="bad input: x") as caught:
        bad.result(timeout=TIMEOUT)
    cause = caught.value.__cause__
    assert isinstance(cause, RemoteTraceback)
    assert "in explode" in cause.text
    assert "KeyError" in cause.text
    assert isinstance(bad.exception(), KeyError)
    assert sub.get_job(bad.job_id).state is JobState.FAILED
    check_logged(sub, ok.job_id, "value", "builtins.dict")
    check_logged(sub, bad.job_id, "exception", "builtins.KeyError")


def check_logged(sub: Submitor, job_id: str, outcome: str, type_name: str) -> None:
    """The log holds the outcome's hash, size and type; the hash is the file's."""
    summary = recorded_summary(sub.store, sub.latest_attempt(job_id).job_id)
    assert summary is not None
    assert summary["outcome"] == outcome
    assert summary["type"] == type_name
    record = sub.latest_attempt(job_id)
    blob = sub.target.transport.read_bytes(f"{record.metadata['molq.job_dir']}/{RESULT_FILE}")
    assert summary["size"] == len(blob)
    assert summary["sha256"] == hashlib.sha256(blob).hexdigest()


def check_retry_runs_same_call(sub: Submitor, **options: Any) -> None:
    """A retried function runs again with the same arguments, and its second outcome counts."""

    def flaky(items, tag=""):
        attempt = molq.context().attempt
        if attempt == 1:
            msg = "first attempt fails"
            raise RuntimeError(msg)
        return [items, tag, attempt]

    handle = sub.submit_function(
        flaky, (1, "two"), fn_kwargs={"tag": "t"}, retry=RetryPolicy(max_attempts=2, backoff=FAST), **options
    )
    assert handle.result(timeout=TIMEOUT) == [(1, "two"), "t", 2]
    family = sub.get_retry_family(handle.job_id)
    assert [r.state for r in family] == [JobState.FAILED, JobState.SUCCEEDED]


def check_map_and_as_completed(sub: Submitor, **options: Any) -> None:
    """map_functions keeps input order; as_completed yields every handle once, as jobs end."""

    def power(base, exponent):
        return base**exponent

    handles = sub.map_functions(power, [2, 3, 4], [2, 2, 3], **options)
    assert [h.result(timeout=TIMEOUT) for h in handles] == [4, 9, 64]
    again = sub.map_functions(power, [5, 6], [1, 2], **options)
    seen = list(molq.as_completed(again, timeout=TIMEOUT))
    assert sorted(h.job_id for h in seen) == sorted(h.job_id for h in again)
    assert sorted(h.result() for h in seen) == [5, 36]


def check_cancelled_is_typed(sub: Submitor, **options: Any) -> None:
    """A job cancelled before it returns raises JobFailedError naming CANCELLED."""

    def sleepy():
        import time

        time.sleep(120)

    handle = sub.submit_function(sleepy, **options)
    handle.cancel()
    with pytest.raises(JobFailedError) as caught:
        handle.result(timeout=TIMEOUT)
    assert caught.value.state == "CANCELLED"
    assert caught.value.job_id == handle.job_id


def check_dry_run_writes_nothing(sub: Submitor, **options: Any) -> None:
    """A dry run renders ``python -m molq.run_function`` and writes no payload nor record."""
    before = sub.list_jobs(include_terminal=True)
    dry = sub.submit_function(len, "abc", dry_run=True, **options)
    assert "molq.run_function" in dry.details["script"]
    assert not sub.target.transport.exists(dry.details["job_dir"])
    assert sub.list_jobs(include_terminal=True) == before


def run_all(sub: Submitor, **options: Any) -> None:
    """Every check, on one Submitor."""
    check_dry_run_writes_nothing(sub, **options)
    check_values_and_exceptions(sub, **options)
    check_retry_runs_same_call(sub, **options)
    check_map_and_as_completed(sub, **options)
    check_cancelled_is_typed(sub, **options)
    assert sub.store.verify_projections() == []
    assert sub.list_jobs() == []  # nothing left running
