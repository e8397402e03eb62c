"""map_jobs' pure half: the array spec and the shell case each task runs."""

from __future__ import annotations

import subprocess

import pytest

from molq.core import ConfigError
from molq.core._map import map_array_spec, map_command


def run_task(
    command: str, index: str, env_name: str = "SLURM_ARRAY_TASK_ID"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command],
        env={"PATH": "/usr/bin:/bin", env_name: index},
        capture_output=True,
        text=True,
        check=False,
    )


def test_array_spec_and_throttle():
    """1-N, with %max_parallel when given."""
    assert map_array_spec(3) == "1-3"
    assert map_array_spec(100, 10) == "1-100%10"


@pytest.mark.parametrize(("count", "limit"), [(0, None), (3, 0)])
def test_array_spec_refused(count, limit):
    """No commands, or a throttle below 1, is a ConfigError."""
    with pytest.raises(ConfigError):
        map_array_spec(count, limit)


@pytest.mark.parametrize("env_name", ["SLURM_ARRAY_TASK_ID", "PBS_ARRAY_INDEX", "LSB_JOBINDEX"])
def test_each_task_runs_its_own_argv_quoted(env_name):
    """Task k runs item k-1 exactly (spaces and quotes survive) under each scheduler's variable."""
    command = map_command([["echo", "first"], ["printf", "%s|", "two words", "it's"]])
    assert run_task(command, "1", env_name).stdout == "first\n"
    assert run_task(command, "2", env_name).stdout == "two words|it's|"
    unknown = run_task(command, "3", env_name)
    assert (unknown.returncode, unknown.stderr) == (2, "molq map_jobs: no command for task 3\n")


@pytest.mark.parametrize("bad", [[], "echo hi", ["echo hi"], [[]], [["echo", 3]]])
def test_bad_lists_are_refused(bad):
    """An empty list, a string, or an item that is not a non-empty list of strings is a ConfigError."""
    with pytest.raises(ConfigError):
        map_command(bad)


def test_one_command_and_a_throttle_of_one_are_allowed():
    """The smallest array and the tightest throttle are valid."""
    assert map_array_spec(1) == "1-1"
    assert map_array_spec(3, 1) == "1-3%1"


@pytest.mark.parametrize(
    ("count", "limit", "message"),
    [(0, None, "map_jobs needs at least one command"), (3, 0, "max_parallel must be 1 or more, got 0"),
     (3, -2, "max_parallel must be 1 or more, got -2")],
)
def test_array_spec_refusals_say_why(count, limit, message):
    with pytest.raises(ConfigError) as caught:
        map_array_spec(count, limit)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "map_jobs needs a list of commands (each a list of strings)"),
        ("echo hi", "map_jobs needs a list of commands (each a list of strings)"),
        ([["true"], "echo hi"], "map_jobs item 1 must be a non-empty list of strings, got 'echo hi'"),
        ([["true"], ["true"], []], "map_jobs item 2 must be a non-empty list of strings, got []"),
        ([["echo", 3]], "map_jobs item 0 must be a non-empty list of strings, got ['echo', 3]"),
    ],
)
def test_bad_lists_name_the_item(bad, message):
    """The refusal names the first bad item by its position in the list."""
    with pytest.raises(ConfigError) as caught:
        map_command(bad)
    assert str(caught.value) == message


def test_the_case_statement_is_what_the_task_shell_reads():
    """The text each task runs, whole: the index variable, one arm per item, a catch-all."""
    assert map_command([["echo", "a b"]]) == "\n".join([
        '__molq_task="${SLURM_ARRAY_TASK_ID:-${PBS_ARRAY_INDEX:-${LSB_JOBINDEX:-}}}"',
        'case "$__molq_task" in',
        "1) exec echo 'a b' ;;",
        '*) echo "molq map_jobs: no command for task $__molq_task" >&2; exit 2 ;;',
        "esac",
    ])
