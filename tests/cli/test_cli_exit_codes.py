"""Exit codes of the real CLI: bad option values are usage errors, ``submit --block`` gives the job's code."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (("--mem", "4Q"), "Unknown memory unit 'Q' in '4Q'"),
        (("--time", "banana"), "invalid duration 'banana'"),
        (("--max-duration", "soon"), "invalid duration 'soon'"),
    ],
)
def test_bad_option_value_exits_two(molq, error_line, argv, problem):
    """A value molq cannot parse is a usage error (exit 2) naming the option; nothing is recorded."""
    result = molq("submit", "local", *argv, "--", "true")
    assert result.returncode == 2, result
    line = error_line(result)
    assert problem in line
    assert argv[0] in line
    assert "No jobs" in molq("history").stdout


def test_sweep_bad_max_duration_exits_two(molq, error_line):
    """sweep --max-duration is checked the same way."""
    result = molq("sweep", "local", "--sweep", "a=1", "--max-duration", "soon", "--", "echo", "{a}")
    assert result.returncode == 2
    assert "invalid duration 'soon'" in error_line(result)


@pytest.mark.parametrize("code", [0, 3, 255])
def test_block_exits_with_the_jobs_exit_code(molq, code):
    """submit --block exits with the job's own exit code, as sbatch --wait does."""
    result = molq("submit", "local", "-q", "--block", "--", "sh", "-c", f"exit {code}")
    assert result.returncode == code, result


def test_block_on_a_job_over_its_max_duration_exits_124(molq):
    """A job stopped at --max-duration ends timed_out: exit 124, as GNU timeout."""
    result = molq("submit", "local", "--max-duration", "1s", "--block", "--", "sleep", "30", timeout=60)
    assert result.returncode == 124, result
    assert "timed_out" in result.stdout


def test_dry_run_quiet_prints_only_the_command(molq):
    """--dry-run -q prints the one command line a script would run, nothing else."""
    result = molq("submit", "local", "--dry-run", "-q", "--", "echo", "hi")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("sh -c ")
    assert "Dry run" not in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ("--sweep", "x=1", "--arg", "x=2"),
        ("--sweep", "novalue"),
        ("--arg", "novalue", "--sweep", "x=1"),
        ("--sweep", "1x=1"),
    ],
)
def test_sweep_errors_show_no_requirement_ids(molq, error_line, argv):
    """A sweep mistake reads as a plain sentence, never with ids such as '(R3.6)'."""
    result = molq("sweep", "local", *argv, "--", "echo", "{x}")
    assert result.returncode != 0
    assert not re.search(r"\(R\d", error_line(result))


def test_block_on_a_cancelled_job_exits_130(molq, cli_env, tmp_path):
    """A job cancelled while `submit --block` waits ends the wait with 130."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "molq.cli", "submit", "local", "-q", "--block", "--", "sleep", "60"],
        env=cli_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        job = proc.stdout.readline().strip()
        assert re.fullmatch(r"[0-9a-f]{32}", job), job
        assert molq("cancel", job).returncode == 0
        assert proc.wait(timeout=60) == 130
    finally:
        proc.kill()
        proc.communicate()
