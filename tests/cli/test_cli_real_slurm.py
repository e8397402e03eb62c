"""Every job command of the CLI against the REAL Slurm cluster (skips without one)."""

from __future__ import annotations

import json

from tests.slurm import SLURM_MARKS


pytestmark = SLURM_MARKS


def _job_id(result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout.split("Submitted job ", 1)[1].split()[0]


def test_job_commands_against_real_slurm(molq, tmp_path):
    """submit/list/status/inspect/logs/history/watch/cancel/replay/cleanup on real Slurm."""
    parent = _job_id(molq("submit", "slurm", "--name", "parent", "--", "echo", "from slurm"))
    child = _job_id(
        molq("submit", "slurm", "--name", "child", "--after-success", parent[:10], "--", "echo", "child ran")
    )
    watched = molq("watch", child[:12], "--timeout", "120", timeout=150)
    assert watched.returncode == 0, (watched.stdout, watched.stderr)
    status = molq("status", parent[:12], "slurm")
    assert status.returncode == 0
    assert "succeeded" in status.stdout
    logs = molq("logs", child[:12], "slurm", "--stream", "stdout")
    assert logs.stdout.strip() == "child ran"
    inspect = molq("inspect", child[:12], "slurm")
    assert "afterok:" in inspect.stdout
    assert parent[:12] in inspect.stdout
    listing = molq("list", "--all", "--cluster", "slurm")
    assert parent[:12] in listing.stdout
    assert child[:12] in listing.stdout
    history = molq("history", "--cluster", "slurm")
    assert history.returncode == 0

    slow = _job_id(molq("submit", "slurm", "--", "sleep", "120"))
    cancelled = molq("cancel", slow[:12], "slurm")
    assert cancelled.returncode == 0, (cancelled.stdout, cancelled.stderr)
    final = molq("watch", slow[:12], "--timeout", "60", timeout=90)
    assert final.returncode != 0 or "cancelled" in (final.stdout + final.stderr).lower()
    assert "cancelled" in molq("status", slow[:12], "slurm").stdout

    replay = molq("replay", child[:12], "--json")
    assert replay.returncode == 0
    tags = [event["type"] for event in json.loads(replay.stdout)["events"]]
    assert tags[:3] == ["job.created", "job.dependency_recorded", "job.submitted"]
    assert tags[-2:] == ["job.succeeded", "job.usage_recorded"]  # then what sacct says it used
    assert molq("replay", "--verify").returncode == 0
    assert molq("cleanup", "--dry-run", "--cluster", "slurm").returncode == 0
