"""Slurm arrays task by task: squeue -r, sacct and scontrol text (captured from Slurm) into Observations."""

from __future__ import annotations

from pathlib import Path

from molq.core import JobState, Observation
from molq.core._sched._slurm_tasks import (
    merge_task_views,
    needs_exit_codes,
    parse_scontrol_tasks,
    parse_task_views,
    sacct_tasks_argv,
    scontrol_tasks_argv,
    squeue_tasks_argv,
    with_scontrol,
)


FIXTURES = Path(__file__).parents[1] / "fixtures" / "slurm"
S = JobState


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_argv():
    """squeue -r expands pending tasks; sacct and scontrol name the array."""
    assert squeue_tasks_argv("77") == ("squeue", "-h", "-r", "-t", "all", "-j", "77", "-o", "%i|%T|%S|%e|%r")
    assert sacct_tasks_argv("77")[:6] == ("sacct", "-X", "-P", "-n", "-j", "77")
    assert scontrol_tasks_argv("77") == ("scontrol", "show", "job", "77")


def test_finished_array_task_states_and_exit_codes():
    """0-4 with task 3 exiting 1: four succeeded with 0, task 3 failed with 1."""
    tasks = parse_task_views(text("squeue_array_tasks.txt"), text("sacct_array_tasks.txt"))
    assert sorted(tasks) == [f"1710_{i}" for i in range(5)]
    assert {k: (o.state, o.exit_code) for k, o in tasks.items()} == {
        **{f"1710_{i}": (S.SUCCEEDED, 0) for i in (0, 1, 2, 4)},
        "1710_3": (S.FAILED, 1),
    }
    assert tasks["1710_3"].reason == "NonZeroExitCode"
    assert tasks["1710_3"].finished_at == 1796225713.0
    assert not needs_exit_codes(tasks)


def test_squeue_alone_lacks_exit_codes_and_scontrol_fills_them():
    """Right after the end sacct may lag: squeue names the states, scontrol the exit codes."""
    tasks = parse_task_views(text("squeue_array_tasks.txt"), None)
    assert needs_exit_codes(tasks)
    assert tasks["1710_3"].exit_code is None
    filled = with_scontrol(tasks, text("scontrol_array_tasks.txt"))
    assert (filled["1710_3"].state, filled["1710_3"].exit_code) == (S.FAILED, 1)
    assert not needs_exit_codes(filled)


def test_scontrol_records_by_task():
    """Each scontrol record is keyed <ArrayJobId>_<ArrayTaskId>."""
    tasks = parse_scontrol_tasks(text("scontrol_array_tasks.txt"))
    assert sorted(tasks) == [f"1710_{i}" for i in range(5)]
    assert parse_scontrol_tasks(text("scontrol_completed.txt")) == {}


def test_running_array_with_throttle():
    """A throttled array: one task running, the pending ones each listed by squeue -r."""
    tasks = parse_task_views(text("squeue_array_tasks_running.txt"), text("sacct_array_tasks_running.txt"))
    assert {k: o.state for k, o in tasks.items()} == {
        "1715_0": S.RUNNING,
        "1715_1": S.QUEUED,
        "1715_2": S.QUEUED,
        "1715_3": S.QUEUED,
    }
    assert tasks["1715_1"].reason == "JobArrayTaskLimit"


def test_merge_prefers_the_fresher_view():
    """The first view's state wins; a later one fills the exit code only if it agrees."""
    live = {"5_1": Observation(S.FAILED), "5_2": Observation(S.RUNNING)}
    acct = {
        "5_1": Observation(S.FAILED, exit_code=2),
        "5_2": Observation(S.SUCCEEDED, exit_code=0),
        "5": Observation(S.RUNNING),
    }
    merged = merge_task_views(live, acct)
    assert merged == {"5_1": Observation(S.FAILED, exit_code=2), "5_2": Observation(S.RUNNING)}


def test_array_tasks_write_the_exit_code_through_their_own_temp_file():
    """Tasks ending together must not share exit_code.tmp (one mv would find it gone); plain jobs keep theirs."""
    from molq.core import JobScheduling, JobSpec
    from molq.core._sched._body import render_body

    array = JobSpec("argv", argv=("true",), cwd="/w", scheduling=JobScheduling(array_spec="0-4"))
    plain = JobSpec("argv", argv=("true",), cwd="/w")
    assert "> /j/exit_code.tmp.$$ && mv -f /j/exit_code.tmp.$$ /j/exit_code" in render_body(array, "/j")
    assert "> /j/exit_code.tmp && mv -f /j/exit_code.tmp /j/exit_code" in render_body(plain, "/j")
