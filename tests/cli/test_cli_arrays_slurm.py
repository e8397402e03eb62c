"""Job arrays, task by task, through the CLI on the REAL Slurm cluster (skips without one)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.slurm import SLURM_MARKS


pytestmark = SLURM_MARKS

BODY = (
    '[ "$SLURM_ARRAY_TASK_ID" = 3 ] && { echo "task 3 fails" >&2; exit 1; }; echo "task $SLURM_ARRAY_TASK_ID"'
)


def _job_id(result) -> str:
    assert result.returncode == 0, (result.stdout, result.stderr)
    return result.stdout.split("Submitted job ", 1)[1].split()[0]


def test_array_tasks_in_inspect_list_logs_and_json(molq):
    """--array 0-4%2 with task 3 exiting 1: per-task states, exit codes and log paths everywhere."""
    job = _job_id(molq("submit", "slurm", "--array", "0-4%2", "--", "sh", "-c", BODY))
    watched = molq("watch", job[:12], "--timeout", "120", timeout=150)
    assert watched.returncode != 0  # the array failed: one of its tasks did

    doc = json.loads(molq("inspect", job[:12], "slurm", "--json").stdout)
    assert doc["job"]["state"] == "failed"
    assert doc["job"]["exit_code"] == 1
    assert doc["job"]["tasks"] == "4 succeeded, 1 failed"
    array = doc["array"]
    assert array["array_spec"] == "0-4%2"
    assert array["counts"] == {"succeeded": 4, "failed": 1}
    sid = doc["job"]["scheduler_job_id"]
    by_index = {t["index"]: t for t in array["tasks"]}
    assert sorted(by_index) == [0, 1, 2, 3, 4]
    assert {i: (t["state"], t["exit_code"]) for i, t in by_index.items()} == {
        0: ("succeeded", 0),
        1: ("succeeded", 0),
        2: ("succeeded", 0),
        3: ("failed", 1),
        4: ("succeeded", 0),
    }
    assert by_index[3]["task_id"] == f"{sid}_3"
    assert by_index[3]["stdout_path"] == f"{doc['job']['stdout_path']}.{sid}_3"
    for index in (0, 1, 2, 4):
        assert Path(by_index[index]["stdout_path"]).read_text() == f"task {index}\n"
    assert Path(by_index[3]["stderr_path"]).read_text() == "task 3 fails\n"

    inspect = molq("inspect", job[:12], "slurm").stdout
    assert "tasks:        4 succeeded, 1 failed (array 0-4%2)" in inspect
    assert "task 3      failed     exit 1" in inspect

    listing = molq("list", "--all", "--cluster", "slurm").stdout
    assert f"tasks of {job}: 4 succeeded, 1 failed" in listing
    rows = json.loads(molq("list", "--all", "--cluster", "slurm", "--format", "json").stdout)
    assert [r["tasks"] for r in rows if r["job_id"] == job] == ["4 succeeded, 1 failed"]

    assert molq("logs", job[:12], "slurm", "--task", "2").stdout == "task 2\n"
    assert molq("logs", job[:12], "slurm", "--task", "3", "--stream", "stderr").stdout == "task 3 fails\n"


def test_throttle_passes_through_to_sbatch(molq):
    """--array 1-100%10 reaches sbatch unchanged (dry run shows the directive)."""
    dry = molq("submit", "slurm", "--array", "1-100%10", "--dry-run", "--", "true")
    assert dry.returncode == 0, dry.stderr
    assert "#SBATCH --array=1-100%10" in dry.stdout


def test_logs_task_of_a_plain_job_is_refused(molq):
    """--task on a job that is not an array names the problem."""
    job = _job_id(molq("submit", "slurm", "--", "true"))
    result = molq("logs", job[:12], "slurm", "--task", "0")
    assert result.returncode != 0
    assert "is not an array job" in result.stderr


def test_after_success_on_an_array_needs_every_task(molq):
    """afterok on an array id waits for all tasks; one failed task means the dependent never runs."""
    failing = _job_id(
        molq(
            "submit",
            "slurm",
            "--array",
            "0-2",
            "--",
            "sh",
            "-c",
            '[ "$SLURM_ARRAY_TASK_ID" = 1 ] && exit 1; exit 0',
        )
    )
    passing = _job_id(molq("submit", "slurm", "--array", "0-2", "--", "sleep", "1"))
    never = _job_id(molq("submit", "slurm", "--after-success", failing[:12], "--", "true"))
    runs = _job_id(molq("submit", "slurm", "--after-success", passing[:12], "--", "true"))
    molq("watch", never[:12], "--timeout", "120", timeout=150)
    molq("watch", runs[:12], "--timeout", "120", timeout=150)
    states = {j: json.loads(molq("status", j[:12], "--json").stdout)["state"] for j in (never, runs, passing)}
    assert states == {never: "cancelled", runs: "succeeded", passing: "succeeded"}
    doc = json.loads(molq("inspect", passing[:12], "--json").stdout)
    assert doc["array"]["counts"] == {"succeeded": 3}


def test_cancel_one_task(molq):
    """cancel --task 1 ends that task only; the others run on until the array is cancelled."""
    job = _job_id(molq("submit", "slurm", "--array", "0-2", "--", "sleep", "60"))
    deadline = time.monotonic() + 60
    while True:  # wait until every task runs, so the cancel meets a running task
        molq("watch", job[:12], "--timeout", "1", timeout=30)
        doc = json.loads(molq("inspect", job[:12], "--json").stdout)
        if doc["array"]["counts"] == {"running": 3}:
            break
        assert time.monotonic() < deadline, doc["array"]
        time.sleep(1)
    done = molq("cancel", job[:12], "--task", "1")
    assert done.returncode == 0, done.stderr
    assert f"Cancel requested for task 1 of job {job}" in done.stdout
    deadline = time.monotonic() + 60
    while True:
        molq("watch", job[:12], "--timeout", "1", timeout=30)
        doc = json.loads(molq("inspect", job[:12], "--json").stdout)
        states = {t["index"]: t["state"] for t in doc["array"]["tasks"]}
        if states[1] == "cancelled":
            break
        assert time.monotonic() < deadline, states
        time.sleep(1)
    assert (states[0], states[2], doc["job"]["state"]) == ("running", "running", "running")
    assert molq("cancel", job[:12]).returncode == 0
    refused = molq("cancel", _job_id(molq("submit", "slurm", "--", "sleep", "30"))[:12], "--task", "0")
    assert refused.returncode != 0
    assert "is not an array job" in refused.stderr
