"""End to end: submit, list, status, inspect, history, logs, watch, cancel, cleanup."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


JOB_LINE = re.compile(r"Submitted job ([0-9a-f]{32}) to cluster (\S+)")


def submitted_id(result) -> str:
    assert result.returncode == 0, result.stderr
    match = JOB_LINE.search(result.stdout)
    assert match, result.stdout
    return match.group(1)


@pytest.fixture
def done_job(molq) -> str:
    """A finished local job that printed three lines to stdout and one to stderr."""
    code = "import sys; print('one'); print('two'); print('three'); print('oops', file=sys.stderr)"
    result = molq("submit", "local", "--name", "greet", "--block", "--", sys.executable, "-c", code)
    assert "succeeded (exit 0" in result.stdout
    return submitted_id(result)


def test_submit_block_then_list_status_history(molq, done_job):
    """A blocking submit records a succeeded job that every read command shows."""
    listed = molq("list", "--all")
    assert listed.returncode == 0
    assert done_job[:12] in listed.stdout
    assert "greet" in listed.stdout
    assert "succeeded" in listed.stdout
    assert "No active jobs" in molq("list").stdout
    status = molq("status", done_job[:8])
    assert re.search(r"^state:\s+succeeded$", status.stdout, re.M), status.stdout
    assert re.search(r"^exit code:\s+0$", status.stdout, re.M)
    history = molq("history", "--limit", "5")
    assert done_job[:12] in history.stdout


def test_inspect_shows_record_family_edges_and_timeline(molq, done_job):
    """inspect prints the record, its retry family, its (absent) edges and its transitions."""
    result = molq("inspect", done_job[:10], "local", "--cluster", "local")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"job:          {done_job}" in out
    assert "Retry family" in out
    assert "Depends on (upstream): none" in out
    assert "Needed by (downstream): none" in out
    timeline = out.split("Timeline", 1)[1]
    steps = re.findall(r"│ (\S+)\s+│ (\S+)\s+│\s+│$", timeline, re.M)
    assert steps == [
        ("-", "created"),
        ("created", "submitted"),
        ("submitted", "running"),
        ("running", "succeeded"),
    ]


def test_logs_tail_and_streams(molq, done_job):
    """logs prints stdout, the last N lines, stderr, or both with headers."""
    assert molq("logs", done_job, "local", "--stream", "stdout").stdout == "one\ntwo\nthree\n"
    assert molq("logs", done_job, "--tail", "1").stdout == "three\n"
    assert molq("logs", done_job, "--stream", "stderr").stdout == "oops\n"
    both = molq("logs", done_job, "--stream", "both", "--tail", "1").stdout
    assert re.fullmatch(r"==> stdout \(.*\) <==\nthree\n==> stderr \(.*\) <==\noops\n", both), both


def test_logs_follow_prints_until_the_job_finishes(molq):
    """logs --follow streams output written after it started and stops at the end."""
    code = "import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.3)"
    job = submitted_id(molq("submit", "local", "--", sys.executable, "-c", code))
    result = molq("logs", job, "--follow", timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("0\n1\n2\n")


def test_watch_timeout_cancel_and_watch_again(molq, error_line):
    """watch gives up with one error line; cancel stops the job; watch then reports it."""
    job = submitted_id(molq("submit", "local", "--name", "sleeper", "--", "sleep", "30"))
    waited = molq("watch", job, "--timeout", "0.5")
    assert waited.returncode == 1
    assert "timed out after 0.5s" in error_line(waited)
    pid = molq("status", job).stdout
    assert re.search(r"^state:\s+(running|submitted)$", pid, re.M), pid
    cancelled = molq("cancel", job[:12], "local")
    assert cancelled.returncode == 0
    assert "it is now cancelled" in cancelled.stdout
    assert "nothing to cancel" in molq("cancel", job).stdout
    watched = molq("watch", job, "--timeout", "10")
    assert watched.returncode == 1  # the job did not succeed
    assert "cancelled" in watched.stdout


def test_watch_all_waits_for_every_active_job(molq):
    """watch --all returns once every active job is finished (exit 0: all succeeded)."""
    for _ in range(2):
        submitted_id(molq("submit", "local", "--", "sleep", "0.3"))
    result = molq("watch", "--all", "--timeout", "30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("succeeded") == 2
    assert "No active jobs" in molq("watch", "--all").stdout


def test_failed_block_exits_with_the_jobs_code(molq):
    """A blocking submit of a failing command exits with its code and says how it ended."""
    result = molq("submit", "local", "--block", "--", "sh", "-c", "exit 3")
    assert result.returncode == 3
    assert "failed (exit 3" in result.stdout


def test_retries_create_a_family(molq, cli_env):
    """--retries N makes N attempts in all, as upstream (backoff from the profile), shown as the retry family."""
    config = Path(cli_env["MOLQ_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[profiles.quick]\nscheduler = "local"\ncluster_name = "quick"\n[profiles.quick.retry.backoff]\ninitial_seconds = 0.1\n'
    )
    argv = ("--profile", "quick", "--retries", "2", "--block", "--timeout", "60", "--", "sh", "-c", "exit 4")
    result = molq("submit", "local", *argv)
    assert result.returncode == 4
    job = JOB_LINE.search(result.stdout).group(1)
    family = molq("inspect", job).stdout.split("Retry family", 1)[1].split("Depends on", 1)[0]
    assert len(re.findall(r"│\s+failed\s+│", family)) == 2, family


def test_cleanup_dry_run_changes_nothing(molq, done_job):
    """cleanup --dry-run reports per cluster and removes nothing (recent jobs are kept)."""
    result = molq("cleanup", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "local: would remove 0 job dir(s), would archive 0 record(s)" in result.stdout
    assert done_job[:12] in molq("list", "--all").stdout


def test_daemon_once_and_clusters(molq, done_job):
    """daemon --once reconciles every cluster; clusters list/show describe them."""
    assert "Reconciled 1 cluster(s)." in molq("daemon", "--once", "--skip-cleanup").stdout
    listed = molq("clusters", "list").stdout
    assert re.search(r"local\s+│\s+local\s+│\s+\(this machine\)", listed), listed
    shown = molq("clusters", "show", "local")
    assert "jobs:      1 (succeeded 1)" in shown.stdout


def test_profile_cluster_is_listed(molq, cli_env):
    """A profile in the config file names a cluster before any job ran there."""
    config = Path(cli_env["MOLQ_CONFIG"])
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[profiles.laptop]\nscheduler = "local"\ncluster_name = "lab"\n')
    assert "laptop" in molq("clusters", "list").stdout
    assert "profile:   laptop" in molq("clusters", "show", "lab").stdout
    job = submitted_id(molq("submit", "local", "--profile", "laptop", "--block", "--", "true"))
    assert re.search(r"^cluster:\s+lab \(local\)$", molq("status", job).stdout, re.M)


def test_store_is_only_the_db_given(molq, cli_env, tmp_path, done_job):
    """--db points every command at another database."""
    other = tmp_path / "other.db"
    assert "No jobs" in molq("list", "--all", "--db", str(other)).stdout
    assert done_job[:12] not in molq("history", "--db", str(other)).stdout
    with sqlite3.connect(cli_env["MOLQ_STORE"]) as conn:
        assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 1


def test_import_molq_stays_light():
    """``import molq`` loads neither Rich nor click; the façade never loads the CLI or Rich."""
    code = (
        "import sys, molq\n"
        "print(sorted(m for m in ('rich', 'click') if m in sys.modules))\n"
        "molq.Submitor, molq.JobStore\n"
        "print(sorted(m for m in ('rich', 'molq.cli', 'molq.dashboard') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "[]"]
