"""Issue 13 item 17: wrong-typed or impossible Python API values are ConfigErrors at the call."""

from __future__ import annotations

import pytest

from molq.core import (
    ConfigError,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    Memory,
    RetentionPolicy,
    RetryPolicy,
    SubmitorDefaults,
)
from molq.core._polling import AdaptiveStrategy, ExponentialBackoffStrategy, FixedStrategy
from molq.core._spec import check_submittable


@pytest.mark.parametrize("env", [{"A": 1}, {"A": None}, {1: "x"}, ["A=1"], "A=1"])
def test_env_of_non_strings_is_a_config_error(env):
    """JobExecution(env={"A": 1}) names env, not a bare TypeError."""
    with pytest.raises(ConfigError, match="env"):
        JobExecution(env=env)


@pytest.mark.parametrize(("field", "value"), [("job_name", 3), ("output_file", b"x"), ("cwd", 5)])
def test_execution_text_fields_must_be_text(field, value):
    """Names and paths of the wrong type are refused."""
    with pytest.raises(ConfigError):
        JobExecution(**{field: value})


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [({"cpu_count": 2.9}, "cpu_count"), ({"cpu_count": "2"}, "cpu_count"), ({"gpu_count": 1.0}, "gpu_count"), ({"gpu_count": 1, "gpu_type": 3}, "gpu_type")],
)
def test_resources_counts_must_be_ints(kwargs, key):
    """cpu_count=2.9 is refused, not truncated to 2."""
    with pytest.raises(ConfigError, match=key):
        JobResources(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "key"), [({"exclusive_node": "false"}, "exclusive_node"), ({"node_count": 1.5}, "node_count"), ({"partition": 7}, "partition")]
)
def test_scheduling_types(kwargs, key):
    """exclusive_node="false" is refused, not read as True."""
    with pytest.raises(ConfigError, match=key):
        JobScheduling(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"keep_job_dirs_for_days": 0.9}, "keep_job_dirs_for_days"),
        ({"keep_terminal_records_for_days": "90"}, "keep_terminal_records_for_days"),
        ({"keep_failed_job_dirs": "no"}, "keep_failed_job_dirs"),
        ({"keep_failed_job_dirs": 0}, "keep_failed_job_dirs"),
    ],
)
def test_retention_types(kwargs, key):
    """keep_job_dirs_for_days=0.9 is refused, not truncated to 0 (which would delete every dir)."""
    with pytest.raises(ConfigError, match=key):
        RetentionPolicy(**kwargs)


@pytest.mark.parametrize("kwargs", [{"max_attempts": "3"}, {"max_attempts": 2.0}, {"retry_on_states": "failed"}, {"backoff": 5}])
def test_retry_policy_types(kwargs):
    """RetryPolicy refuses text counts, a bare state string and a non-RetryBackoff backoff."""
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)


def test_submitor_defaults_types():
    """SubmitorDefaults takes the value classes, not dicts."""
    with pytest.raises(ConfigError, match="resources"):
        SubmitorDefaults(resources={"cpu_count": 2})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("resources", "max_duration", "what"),
    [
        (JobResources(memory=Memory(0)), None, "memory"),
        (JobResources(time_limit=Duration(0)), None, "time_limit"),
        (JobResources(), Duration(0), "max_duration"),
    ],
)
def test_zero_quantities_cannot_be_submitted(resources, max_duration, what):
    """Zero memory and zero time limits are refused before a job is created."""
    with pytest.raises(ConfigError, match=what):
        check_submittable(resources, max_duration)


@pytest.mark.parametrize(
    "make",
    [
        lambda: FixedStrategy(interval=-1),
        lambda: FixedStrategy(interval="5"),
        lambda: ExponentialBackoffStrategy(initial=-1),
        lambda: ExponentialBackoffStrategy(factor=0.5),
        lambda: ExponentialBackoffStrategy(initial=10, maximum=1),
        lambda: AdaptiveStrategy(minimum=-0.1),
        lambda: AdaptiveStrategy(minimum=5, maximum=1),
        lambda: AdaptiveStrategy(expected_runtime=-3),
        lambda: AdaptiveStrategy(fraction=float("nan")),
    ],
)
def test_strategies_refuse_negative_and_inverted(make):
    """Polling strategies refuse negative intervals and a minimum above the maximum."""
    with pytest.raises(ConfigError):
        make()


def test_exponential_strategy_does_not_overflow():
    """A huge poll count stays at the maximum instead of overflowing a float."""
    assert ExponentialBackoffStrategy(initial=1, factor=1e200, maximum=60).next_interval(elapsed=0, polls=5000) == 60


def test_exponential_strategy_is_fast_for_any_poll_count():
    """A factor barely above 1 and a billion polls answer at once (no loop over polls)."""
    import time

    strategy = ExponentialBackoffStrategy(initial=1, factor=1.0000001, maximum=60)
    began = time.perf_counter()
    assert strategy.next_interval(elapsed=0, polls=10**9) == 60
    assert strategy.next_interval(elapsed=0, polls=3) == pytest.approx(1.0000003)
    assert time.perf_counter() - began < 0.1
    assert ExponentialBackoffStrategy(initial=1, factor=2, maximum=60).next_interval(elapsed=0, polls=3) == 8
