"""Retry: backoff delays and the decision to retry a finished attempt."""

from __future__ import annotations

import pytest

from molq.core import (
    ConfigError,
    JobRecord,
    JobState,
    RetryBackoff,
    RetryDecision,
    RetryPolicy,
    backoff_delay,
    decide_retry,
)


S = JobState


def record(state: JobState = S.FAILED, attempt: int = 1, exit_code: int | None = 1) -> JobRecord:
    return JobRecord(
        job_id="j",
        root_job_id="j",
        attempt=attempt,
        previous_attempt_job_id=None,
        retry_group_id=None,
        profile_name=None,
        cluster_name="c",
        scheduler="local",
        state=state,
        scheduler_job_id="1",
        submitted_at=None,
        started_at=None,
        finished_at=None,
        exit_code=exit_code,
        failure_reason=None,
        cwd=".",
        command_type="argv",
        command_display="true",
    )


class TestBackoff:
    @pytest.mark.parametrize("attempt", [1, 2, 5, 20])
    def test_fixed(self, attempt):
        """Fixed backoff waits initial_seconds on every attempt."""
        b = RetryBackoff(mode="fixed", initial_seconds=7.0)
        assert backoff_delay(b, attempt) == 7.0

    @pytest.mark.parametrize(("attempt", "delay"), [(1, 5.0), (2, 10.0), (3, 20.0), (4, 40.0)])
    def test_exponential(self, attempt, delay):
        """Exponential backoff is initial * factor ** (attempt - 1)."""
        assert backoff_delay(RetryBackoff(), attempt) == delay

    def test_factor(self):
        """The factor is the growth base."""
        b = RetryBackoff(initial_seconds=1.0, factor=3.0)
        assert [backoff_delay(b, n) for n in (1, 2, 3)] == [1.0, 3.0, 9.0]

    def test_capped(self):
        """Delays never exceed maximum_seconds, in either mode."""
        assert backoff_delay(RetryBackoff(maximum_seconds=30.0), 10) == 30.0
        fixed = RetryBackoff(mode="fixed", initial_seconds=60.0, maximum_seconds=30.0)
        assert backoff_delay(fixed, 1) == 30.0

    def test_jitter_added_before_cap(self):
        """Jitter is added to the base, then the sum is capped."""
        b = RetryBackoff(initial_seconds=10.0, maximum_seconds=12.0)
        assert backoff_delay(b, 1, jitter=1.5) == 11.5
        assert backoff_delay(b, 1, jitter=5.0) == 12.0

    def test_never_negative(self):
        """A negative jitter cannot make the delay negative."""
        assert backoff_delay(RetryBackoff(initial_seconds=1.0), 1, jitter=-5.0) == 0.0

    def test_attempt_zero(self):
        """Attempt numbers below 1 are treated as the first attempt."""
        assert backoff_delay(RetryBackoff(), 0) == 5.0


class TestDecideRetry:
    def test_retries_failure(self):
        """A failed first attempt under a 3-attempt policy is retried after the backoff."""
        policy = RetryPolicy(max_attempts=3)
        decision = decide_retry(policy, record(), jitter=0.5)
        assert decision.retry
        assert decision.delay == 5.5
        assert "attempt 2" in decision.reason

    def test_delay_grows_with_attempt(self):
        """The delay follows the attempt number."""
        policy = RetryPolicy(max_attempts=5)
        assert decide_retry(policy, record(attempt=3)).delay == 20.0

    @pytest.mark.parametrize("attempt", [3, 4])
    def test_max_attempts(self, attempt):
        """No retry once max_attempts is reached."""
        decision = decide_retry(RetryPolicy(max_attempts=3), record(attempt=attempt))
        assert decision == RetryDecision(retry=False, reason=f"attempt {attempt} of 3")

    def test_default_policy_never_retries(self):
        """The default policy allows a single attempt."""
        assert not decide_retry(RetryPolicy(), record()).retry

    @pytest.mark.parametrize("state", [S.CREATED, S.SUBMITTED, S.QUEUED, S.RUNNING])
    def test_active(self, state):
        """An attempt still active is not retried."""
        assert not decide_retry(RetryPolicy(max_attempts=3), record(state)).retry

    @pytest.mark.parametrize(
        ("state", "retried"),
        [
            (S.FAILED, True),
            (S.TIMED_OUT, True),
            (S.CANCELLED, False),
            (S.LOST, False),
            (S.SUCCEEDED, False),
        ],
    )
    def test_state_filter(self, state, retried):
        """Only states in retry_on_states are retried (failed and timed out by default)."""
        decision = decide_retry(RetryPolicy(max_attempts=2), record(state))
        assert decision.retry is retried

    def test_custom_states(self):
        """A policy may retry LOST jobs only."""
        policy = RetryPolicy(max_attempts=2, retry_on_states=(S.LOST,))
        assert decide_retry(policy, record(S.LOST)).retry
        assert not decide_retry(policy, record(S.FAILED)).retry

    @pytest.mark.parametrize(("code", "retried"), [(3, True), (4, True), (1, False), (None, False)])
    def test_exit_code_filter(self, code, retried):
        """With retry_on_exit_codes only those codes are retried."""
        policy = RetryPolicy(max_attempts=2, retry_on_exit_codes=(3, 4))
        decision = decide_retry(policy, record(exit_code=code))
        assert decision.retry is retried
        if not retried:
            assert "exit code" in decision.reason


class TestBackoffNeverOverflows:
    def test_default_policy_far_attempt(self):
        """The default policy gives its maximum at attempt 1,026 (the float power overflowed there)."""
        assert backoff_delay(RetryBackoff(), 1026) == 300.0
        assert backoff_delay(RetryBackoff(), 10**9) == 300.0

    def test_huge_factor(self):
        """factor=1e200 is capped at attempt 3 instead of raising OverflowError."""
        b = RetryBackoff(initial_seconds=1.0, factor=1e200, maximum_seconds=60.0)
        assert [backoff_delay(b, n) for n in (1, 2, 3, 50)] == [1.0, 60.0, 60.0, 60.0]

    def test_decide_retry_far_attempt(self):
        """decide_retry at a huge attempt number still decides, with the maximum delay."""
        policy = RetryPolicy(max_attempts=10**6, backoff=RetryBackoff(factor=1e200))
        decision = decide_retry(policy, record(attempt=5000))
        assert decision.retry
        assert decision.delay == 300.0

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("factor", float("inf")),
            ("factor", float("nan")),
            ("initial_seconds", float("inf")),
            ("maximum_seconds", float("nan")),
            ("maximum_seconds", float("inf")),
            ("factor", "2"),
            ("initial_seconds", True),
        ],
    )
    def test_impossible_values_refused(self, field, value):
        """A backoff value that cannot give a finite delay is a ConfigError naming the field."""
        with pytest.raises(ConfigError, match=f"RetryBackoff.{field}"):
            RetryBackoff(**{field: value})
