"""map_jobs on the REAL Slurm cluster: a list of commands as one array, and its handle (skips without Slurm)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.slurm import SLURM_MARKS

from molq import Cluster, ConfigError, JobScheduling, JobState, Submitor, map_jobs


pytestmark = SLURM_MARKS


@pytest.fixture
def hpc(store, tmp_path):
    sub = Submitor(Cluster("hpc", "slurm"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    for record in sub.list_jobs():
        sub.cancel_job(record.job_id)


def test_map_jobs_runs_each_command_as_a_task(hpc):
    """Four commands, one failing, two at a time: one sbatch, per-task states, failed positions, logs."""
    items = [
        ["echo", "zero"],
        ["sh", "-c", "echo one; exit 3"],
        ["printf", "%s\n", "two words"],
        ["echo", "three"],
    ]
    array = map_jobs(hpc, items, max_parallel=2)
    assert array.job.scheduler_job_id.isdigit()
    record = array.wait(timeout=120)
    assert (record.state, record.exit_code) == (JobState.FAILED, 3)
    assert record.metadata["molq.array_spec"] == "1-4%2"
    assert array.tasks().summary() == "3 succeeded, 1 failed"
    assert array.failed() == (1,)
    outputs = [Path(array.log_paths(position)[0]).read_text() for position in range(4)]
    assert outputs == ["zero\n", "one\n", "two words\n", "three\n"]


def test_map_jobs_refuses_an_array_spec_of_its_own(hpc):
    """The array is map_jobs' to make: a scheduling.array_spec is a ConfigError, and nothing is submitted."""
    with pytest.raises(ConfigError):
        map_jobs(hpc, [["true"]], scheduling=JobScheduling(array_spec="0-3"))
    assert hpc.list_jobs() == []
