"""Helpers shared by the PBS and LSF dialects: range checks, id chunks, the exit_code file.

What a user sees: a refused out-of-range option, every job of a long list polled, the
state and exit code read from a job's exit_code file when the scheduler forgot the job.
"""

from __future__ import annotations

import pytest

from molq.core import ConfigError, JobState
from molq.core._records import Observation, TerminalStatus
from molq.core._sched._batch import exit_file_observation, positive_int, split_ids, terminal_status


class TestPositiveInt:
    def test_both_ends_are_inside(self):
        """The range includes its ends."""
        assert positive_int("nodes", "1", low=1, high=4) == 1
        assert positive_int("nodes", " 4 ", low=1, high=4) == 4

    @pytest.mark.parametrize("text", ["0", "5", "x", ""])
    def test_outside_or_not_a_number_is_refused(self, text):
        """Outside the range or not an integer: a ConfigError naming the option and the range."""
        with pytest.raises(ConfigError, match="nodes must be an integer from 1 to 4"):
            positive_int("nodes", text, low=1, high=4)

    def test_a_range_starting_at_zero_refuses_text(self):
        """Text that is not a number is refused even where 0 (or -1) would be allowed."""
        with pytest.raises(ConfigError):
            positive_int("n", "many", low=-1, high=9)


class TestSplitIds:
    def test_chunks_keep_order_and_cover_every_id(self):
        """Ids are cut into chunks of at most `size`, in order, none lost."""
        ids = [str(i) for i in range(7)]
        assert split_ids(ids, 3) == [["0", "1", "2"], ["3", "4", "5"], ["6"]]
        assert split_ids(iter(ids), 7) == [ids]
        assert split_ids([], 3) == []


class TestExitFile:
    def test_zero_is_success(self):
        """An exit_code file with 0 means the job succeeded."""
        obs = exit_file_observation("0\n")
        assert (obs.state, obs.exit_code, obs.raw_state) == (JobState.SUCCEEDED, 0, "exit_code file")
        assert obs.reason == "from the job's exit_code file"

    def test_nonzero_is_failure_with_the_code(self):
        """A non-zero code means failed, with that exit code."""
        obs = exit_file_observation("137\n")
        assert (obs.state, obs.exit_code) == (JobState.FAILED, 137)

    def test_unreadable_file_is_unknown_with_the_problem(self):
        """A half-written file gives no state, and says why."""
        obs = exit_file_observation("12 garbage")
        assert obs.state is None
        assert obs.raw_state == "exit_code file"
        assert "exit_code file does not hold one integer" in (obs.reason or "")

    def test_terminal_status_carries_every_field(self):
        """A finished observation becomes a TerminalStatus with all its details; others none."""
        obs = exit_file_observation("3\n")
        assert terminal_status(obs) == TerminalStatus(
            state=JobState.FAILED, exit_code=3, reason="from the job's exit_code file", finished_at=None,
            raw_state="exit_code file",
        )
        assert terminal_status(exit_file_observation("?")) is None
        finished = Observation(JobState.TIMED_OUT, "TIMEOUT", 1, finished_at=50.0, reason="limit")
        assert terminal_status(finished) == TerminalStatus(
            state=JobState.TIMED_OUT, exit_code=1, reason="limit", finished_at=50.0, raw_state="TIMEOUT"
        )
        assert terminal_status(Observation(JobState.RUNNING, "R")) is None
