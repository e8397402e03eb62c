"""-v shows the commands molq runs, -q keeps only what scripts need, job ids complete in the shell."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from molq.cli import cli
from molq.shell.transport._local import LocalTransport


RAN = re.compile(r"^molq: ran \[local\] sbatch --parsable \S+job\.sbatch \(exit 0, \d+\.\d{3}s\)$", re.M)
COMMANDS = sorted(cli.list_commands(None))  # type: ignore[arg-type]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_verbose_and_quiet(molq, command):
    """`molq COMMAND --help` lists -v/--verbose and -q/--quiet for every command."""
    result = molq(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "-v, --verbose" in result.stdout
    assert "-q, --quiet" in result.stdout


def test_verbose_shows_scheduler_commands_with_timings(molq, fake_slurm):
    """submit -v prints the sbatch it ran, its exit status and time on stderr; without -v nothing."""
    quiet = molq("submit", "slurm", "-q", "--", "true")
    assert "molq: ran" not in quiet.stderr
    verbose = molq("submit", "slurm", "-v", "-q", "--", "true")
    assert verbose.returncode == 0, verbose.stderr
    assert RAN.search(verbose.stderr), verbose.stderr
    assert verbose.stdout.strip() == verbose.stdout.strip().splitlines()[0]  # stdout: only the id
    for argv in (("-v", "list"), ("list", "--verbose")):
        listed = molq(*argv)
        assert re.search(r"^molq: ran \[local\] (squeue|sacct) ", listed.stderr, re.M), listed.stderr


def test_quiet_prints_only_ids_or_state(molq, fake_slurm):
    """list -q / history -q: full ids only; status -q: the state; cancel -q and cleanup -q: nothing."""
    first = molq("submit", "slurm", "-q", "--", "true").stdout.strip()
    second = molq("submit", "slurm", "-q", "--", "true").stdout.strip()
    assert molq("list", "-q").stdout.split() == [second, first]
    assert molq("history", "--quiet").stdout.split() == [second, first]
    assert molq("status", first[:8], "-q", "--no-refresh").stdout == "submitted\n"
    cancelled = molq("cancel", first, "-q")
    assert cancelled.returncode == 0
    assert cancelled.stdout == ""
    assert molq("cleanup", "-q").stdout == ""


def test_quiet_silences_the_tables_of_other_commands(molq):
    """inspect -q, clusters list -q and watch -q print nothing; their exit code still answers."""
    job = molq("submit", "local", "-q", "--block", "--", "true").stdout.strip()
    for argv in (("inspect", job, "-q"), ("clusters", "list", "-q"), ("watch", job, "-q")):
        result = molq(*argv)
        assert result.returncode == 0, (argv, result.stderr)
        assert result.stdout == "", argv
    assert molq("inspect", "nosuchjob", "-q").returncode == 1


def test_sweep_quiet_prints_the_sweep_id(molq):
    """sweep -q prints only the sweep id, as submit -q prints the job id."""
    result = molq("sweep", "local", "-q", "--sweep", "n=1", "--", "echo", "{n}")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"[0-9a-f]{32}\n", result.stdout), result.stdout


def _complete(molq_env: dict[str, str], words: str, cword: int) -> list[str]:
    import subprocess
    import sys

    env = {**molq_env, "_MOLQ_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    done = subprocess.run(
        [sys.executable, "-m", "molq.cli"], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    return [line.split(",", 1)[1] for line in done.stdout.splitlines() if line]


def test_job_ids_complete_from_the_store(molq, cli_env):
    """bash completion of JOB_ID offers the stored ids that start with what was typed."""
    assert _complete(cli_env, "molq status ", 2) == []
    assert not Path(cli_env["MOLQ_STORE"]).exists()  # completing never creates a store
    job = molq("submit", "local", "-q", "--block", "--", "true").stdout.strip()
    assert _complete(cli_env, f"molq status {job[:3]}", 2) == [job]
    assert _complete(cli_env, f"molq logs {job[:3]}", 2) == [job]
    assert _complete(cli_env, f"molq watch {job[:3]}", 2) == [job]
    assert _complete(cli_env, "molq inspect zz", 2) == []


def test_transport_commands_reach_the_molq_commands_logger(caplog):
    """LocalTransport.run logs each command on `molq.commands` at DEBUG, with status and time."""
    with caplog.at_level(logging.DEBUG, logger="molq.commands"):
        LocalTransport().run(["sh", "-c", "exit 3"])
    assert [r.name for r in caplog.records] == ["molq.commands"]
    assert re.fullmatch(r"\[local\] sh -c 'exit 3' \(exit 3, \d+\.\d{3}s\)", caplog.records[0].getMessage())


@pytest.mark.ssh
def test_ssh_commands_reach_the_molq_commands_logger(caplog):
    """SshTransport.run logs the remote argv under `ssh HOST`."""
    from molq.shell.transport._ssh import SshTransport
    from molq.shell.transport._ssh_options import SshTransportOptions

    alias = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")
    ssh = SshTransport(SshTransportOptions(alias))
    try:
        with caplog.at_level(logging.DEBUG, logger="molq.commands"):
            ssh.run(["echo", "hi"])
    finally:
        ssh.close()
    messages = [r.getMessage() for r in caplog.records if r.name == "molq.commands"]
    assert any(re.fullmatch(rf"\[ssh {alias}\] echo hi \(exit 0, \d+\.\d{{3}}s\)", m) for m in messages), messages
