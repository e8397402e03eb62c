"""End to end on a fake SLURM: dependency edges in inspect, replay and the monitor's frame."""

from __future__ import annotations

import pytest


@pytest.fixture
def pipeline(molq, fake_slurm):
    """prep (succeeded), other (queued), train (after prep ok, after other started), onfail (after prep failed)."""
    ids = {}
    ids["prep"] = molq("submit", "slurm", "-q", "--name", "prep", "--", "echo", "a").stdout.strip()
    ids["other"] = molq("submit", "slurm", "-q", "--name", "other", "--", "echo", "b").stdout.strip()
    ids["train"] = molq(
        "submit",
        "slurm",
        "-q",
        "--name",
        "train",
        "--partition",
        "gpu",
        "--after-success",
        ids["prep"][:8],
        "--after-started",
        ids["other"],
        "--",
        "echo",
        "c",
    ).stdout.strip()
    ids["onfail"] = molq(
        "submit", "slurm", "-q", "--name", "onfail", "--after-failure", ids["prep"], "--", "echo", "d"
    ).stdout.strip()
    (fake_slurm / "sacct.txt").write_text(
        "1000|COMPLETED|0:0|1795447431|1795447432\n1001|PENDING|0:0|1795447431|Unknown\n"
    )
    assert molq("list").returncode == 0  # reconciles against the fake sacct
    return ids


def test_inspect_marks_each_edge(molq, pipeline):
    """Upstream edges are satisfied (✓), pending (…) or impossible (✗) from the upstream state."""
    train = molq("inspect", pipeline["train"]).stdout
    assert "Depends on (upstream)" in train
    assert "✓ │ satisfied │ " + pipeline["prep"][:12] in train
    assert "… │ pending   │ " + pipeline["other"][:12] in train
    assert "afterok:1000" in train
    prep = molq("inspect", pipeline["prep"]).stdout
    assert "Needed by (downstream)" in prep
    assert "✗ │ impossible │ " + pipeline["onfail"][:12] in prep


def test_replay_shows_edges_then_and_now(molq, pipeline, cli_env):
    """replay lists the dependency events; --as-of before the upstream finished shows it pending."""
    now = molq("replay", pipeline["onfail"]).stdout
    assert "job.dependency_recorded" in now
    assert f"✗ impossible after_failure  {pipeline['prep']}  (afternotok:1000)" in now
    import sqlite3

    with sqlite3.connect(cli_env["MOLQ_STORE"]) as conn:
        (last,) = conn.execute(
            "SELECT MAX(recorded_at) FROM events WHERE stream = ?", (pipeline["onfail"],)
        ).fetchone()
    then = molq("replay", pipeline["onfail"], "--as-of", repr(last)).stdout
    assert f"… pending    after_failure  {pipeline['prep']}" in then


def test_dry_run_shows_partition_and_sbatch_script(molq, fake_slurm):
    """A slurm dry run shows the sbatch command, the partition and the #SBATCH script."""
    result = molq(
        "submit", "slurm", "--dry-run", "--partition", "gpu", "--cpus", "4", "--", "python", "train.py"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("command: sbatch --parsable ")
    assert "partition: gpu" in result.stdout
    assert "#SBATCH" in result.stdout
    assert not (fake_slurm / "next_id").exists()  # sbatch never ran


def test_monitor_once_frame(molq, pipeline):
    """monitor --once prints the header with counts and the job table without a terminal."""
    frame = molq("monitor", "--once", "--all").stdout
    assert "WAITING" in frame
    assert "1/4 finished" in frame
    for name in ("prep", "other", "train", "onfail"):
        assert name in frame
    focused = molq("monitor", "--once", pipeline["prep"][:8], pipeline["train"]).stdout
    assert "molq run" in focused
    assert "onfail" not in focused
