"""Issue 13 item 17 at submit_job: bad values are ConfigErrors and nothing reaches the store."""

from __future__ import annotations

import os

import pytest

from molq import Cluster, ConfigError, Duration, JobExecution, JobResources, Memory, Submitor


def test_retry_of_the_wrong_type_is_refused_before_the_store(local_submitor, store):
    """retry="3" is a ConfigError at submit_job; no job is recorded."""
    with pytest.raises(ConfigError, match="retry must be a RetryPolicy"):
        local_submitor.submit_job(argv=["true"], retry="3")
    assert local_submitor.list_jobs(include_terminal=True) == []


def test_default_retry_of_the_wrong_type_is_refused(store):
    """Submitor(default_retry_policy=3) is refused at construction."""
    with pytest.raises(ConfigError, match="retry"):
        Submitor(Cluster("laptop", "local"), store=store, default_retry_policy=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "what"),
    [
        ({"resources": JobResources(memory=Memory(0))}, "memory"),
        ({"resources": JobResources(time_limit=Duration(0))}, "time_limit"),
        ({"max_duration": 0}, "max_duration"),
        ({"max_duration": "0s"}, "max_duration"),
    ],
)
def test_zero_quantities_are_refused_at_submit(local_submitor, kwargs, what):
    """Zero memory or a zero duration would crash or stop the job at once: refused, nothing stored."""
    with pytest.raises(ConfigError, match=what):
        local_submitor.submit_job(argv=["true"], **kwargs)
    assert local_submitor.list_jobs(include_terminal=True) == []


def test_missing_cwd_is_refused_not_created(local_submitor, tmp_path):
    """A cwd that does not exist is a ConfigError; molq does not create it."""
    missing = tmp_path / "no" / "such" / "dir"
    with pytest.raises(ConfigError, match="does not exist"):
        local_submitor.submit_job(argv=["true"], execution=JobExecution(cwd=missing))
    assert not os.path.exists(tmp_path / "no")
    assert local_submitor.list_jobs(include_terminal=True) == []
