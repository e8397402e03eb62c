"""End to end: ``molq submit --scheduler-arg`` and a script's own directives in ``--dry-run``."""

from __future__ import annotations

import sqlite3


def test_scheduler_args_appear_in_the_dry_run_header(molq):
    """Each --scheduler-arg is one #SBATCH line after molq's own, shown under 'directives'."""
    result = molq(
        "submit", "slurm", "--dry-run", "--scheduler-arg=--constraint=intel",
        "--scheduler-arg", '--comment="two words"', "--", "echo", "hi",
    )
    assert result.returncode == 0, result.stderr
    block = result.stdout.split("--- directives (molq's, the script's own, then --scheduler-arg) ---\n", 1)[1]
    header = block.split("\n--- script ", 1)[0].split("\n")
    assert header[-2:] == ["#SBATCH --constraint=intel", '#SBATCH --comment="two words"']
    assert header[0].startswith("#SBATCH --job-name=molq-")


def test_conflicting_scheduler_arg_is_refused_and_nothing_recorded(molq, cli_env):
    """A flag molq sets itself is a one-line error naming it; the store stays empty."""
    result = molq("submit", "pbs", "--scheduler-arg=-o /tmp/x", "--", "true")
    assert result.returncode == 1
    assert "scheduler flag '-o /tmp/x' sets -o, but molq sets the output path" in result.stderr
    with sqlite3.connect(cli_env["MOLQ_STORE"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0


def test_local_refuses_scheduler_args(molq):
    """The local scheduler has no directives to write them into."""
    result = molq("submit", "local", "--scheduler-arg=--constraint=a", "--", "true")
    assert result.returncode == 1
    assert "the local scheduler does not support scheduling.extra_flags" in result.stderr
