"""Issue 18, CLI: upstream molq's spellings work (scheduler positional, short flags, --queue, --retries)."""

from __future__ import annotations

import re

import pytest


JOB_LINE = re.compile(r"Submitted job (\w+)")


@pytest.fixture
def local_job(molq):
    """One finished local job."""
    result = molq("submit", "local", "--block", "--timeout", "60", "--", "true")
    assert result.returncode == 0, result.stderr
    return JOB_LINE.search(result.stdout).group(1)


@pytest.mark.parametrize("command", ["list", "history", "cleanup", "daemon"])
def test_scheduler_positional_is_accepted(molq, local_job, command):
    """`molq list local` (and history, cleanup, daemon) take the optional [SCHEDULER]."""
    extra = {"list": ["--all"], "cleanup": ["--dry-run"], "daemon": ["--once"], "history": []}[command]
    result = molq(command, "local", *extra)
    assert result.returncode == 0, result.stderr
    if command in ("list", "history"):
        assert local_job[:12] in result.stdout


def test_scheduler_positional_filters(molq, local_job):
    """`molq list slurm --all` leaves out local jobs."""
    result = molq("list", "slurm", "--all", "--no-refresh")
    assert result.returncode == 0, result.stderr
    assert local_job[:12] not in result.stdout


def test_monitor_and_watch_short_flags(molq, local_job):
    """monitor -a -n -r and watch -a parse as their long forms."""
    result = molq("monitor", "-a", "-n", "5", "-r", "0.5", "--once")
    assert result.returncode == 0, result.stderr
    assert molq("watch", "-a", "--timeout", "5").returncode == 0


def test_hidden_queue_alias_on_submit(molq):
    """--queue is upstream's --partition: accepted (the local scheduler then refuses partitions)."""
    result = molq("submit", "local", "--queue", "gpu", "--dry-run", "--", "true")
    assert "partition" in result.stderr
    assert "--queue" not in molq("submit", "--help").stdout


def test_retries_means_attempts_in_all(molq):
    """--retries 1 is one attempt in all, as upstream (no retry)."""
    result = molq("submit", "local", "--retries", "1", "--block", "--timeout", "60", "--", "sh", "-c", "exit 4")
    assert result.returncode == 4  # --block exits with the job's own code (issue 19)
    job = JOB_LINE.search(result.stdout).group(1)
    family = molq("inspect", job).stdout.split("Retry family", 1)[1].split("Depends on", 1)[0]
    assert len(re.findall(r"│\s+failed\s+│", family)) == 1, family


def test_history_all_and_config(molq, cli_env):
    """history --all lists past the default limit of 20; --config is accepted (for --profile)."""
    for _ in range(21):
        assert molq("submit", "local", "-q", "--", "true").returncode == 0
    limited = molq("history").stdout.splitlines()
    everything = molq("history", "--all", "--config", cli_env["MOLQ_CONFIG"]).stdout.splitlines()
    # Piped, history prints a header line and one line per job (issue 19).
    assert limited[0].startswith("JOB ID")
    assert len(limited) == 1 + 20
    assert everything[0].startswith("JOB ID")
    assert len(everything) == 1 + 21


def test_profile_names_the_cluster(molq, cli_env, local_job):
    """--profile on list/status/watch/cleanup/daemon/history picks the profile's cluster."""
    from pathlib import Path

    config = Path(cli_env["MOLQ_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[profiles.lab]\nscheduler = "local"\ncluster_name = "elsewhere"\n')
    assert local_job[:12] in molq("list", "--all", "--no-refresh").stdout
    assert local_job[:12] not in molq("list", "--all", "--no-refresh", "--profile", "lab").stdout
    assert local_job[:12] not in molq("history", "--profile", "lab").stdout
    assert molq("status", local_job, "--profile", "lab").returncode != 0  # not in that cluster
    for command in (("cleanup", "--dry-run"), ("daemon", "--once"), ("watch", "-a", "--timeout", "5")):
        result = molq(*command, "--profile", "lab")
        assert result.returncode == 0, result.stderr
    missing = molq("list", "--profile", "nope")
    assert missing.returncode != 0
    assert "no profile 'nope'" in missing.stderr
