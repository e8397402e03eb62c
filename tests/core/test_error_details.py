"""Typed errors carry what a user or a script needs: every spec problem, the failed command's details."""

from __future__ import annotations

from molq.core import SchedulerError, SpecError


def test_spec_error_lists_every_problem():
    """errors holds each problem; without a list, the message is the one problem."""
    assert SpecError("2 problems", ["a: bad", "b: bad"]).errors == ["a: bad", "b: bad"]
    assert SpecError("a: bad").errors == ["a: bad"]


def test_scheduler_error_keeps_the_command():
    """The argv, return code and stderr of the failed command are kept; by default they are empty."""
    exc = SchedulerError("sbatch failed", argv=("sbatch", "x.sh"), returncode=1, stderr="invalid partition")
    assert (exc.argv, exc.returncode, exc.stderr) == (("sbatch", "x.sh"), 1, "invalid partition")
    assert str(exc) == "sbatch failed"
    bare = SchedulerError("down")
    assert (bare.argv, bare.returncode, bare.stderr) == ((), None, "")
