"""What a user asks for: exact merges of defaults, exact displays, and every refusal with its named field."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from molq.core._errors import CommandError, ConfigError, ScriptError
from molq.core._spec import (
    DependencyRef,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    RetentionPolicy,
    RetryBackoff,
    RetryPolicy,
    Script,
    SubmitorDefaults,
    check_submittable,
    merge_execution,
    merge_resources,
    merge_scheduling,
)
from molq.core._state import JobState
from molq.core._units import Duration, Memory


def test_resources_take_text_and_refuse_zero_counts() -> None:
    res = JobResources(cpu_count=1, memory="4G", gpu_count=1, gpu_type="a100", time_limit="01:00:00")
    assert res.memory == Memory(4 * 1024**3)
    assert res.time_limit == Duration(3600)
    assert JobResources(memory=None, time_limit=None) == JobResources()
    for bad in ({"cpu_count": 0}, {"gpu_count": 0}, {"cpu_count": True}, {"gpu_type": 3, "gpu_count": 1}):
        with pytest.raises(ConfigError):
            JobResources(**bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="gpu_type needs gpu_count"):
        JobResources(gpu_type="a100")


def test_check_submittable() -> None:
    check_submittable(JobResources(memory=Memory(1), time_limit=Duration(1)), Duration(1))
    check_submittable(JobResources(), None)
    with pytest.raises(ConfigError, match="memory must be at least 1 byte"):
        check_submittable(JobResources(memory=Memory(0)), None)
    with pytest.raises(ConfigError, match="time_limit must be longer than 0 seconds"):
        check_submittable(JobResources(time_limit=Duration(0)), None)
    with pytest.raises(ConfigError, match="max_duration must be longer than 0 seconds"):
        check_submittable(JobResources(), Duration(0))


def test_scripts() -> None:
    assert Script.inline("echo hi") == Script("inline", text="echo hi")
    path = Script.path(PurePosixPath("/w/run.sh"))
    assert path.file_path == Path("/w/run.sh")
    assert isinstance(Script("path", file_path="/w/run.sh").file_path, Path)  # type: ignore[arg-type]
    for bad in (
        lambda: Script("inline"),
        lambda: Script("inline", text="x", file_path=Path("/a")),
        lambda: Script("path"),
        lambda: Script("path", text="x", file_path=Path("/a")),
        lambda: Script("other", text="x"),  # type: ignore[arg-type]
    ):
        with pytest.raises(ScriptError):
            bad()
    with pytest.raises(ConfigError, match=r"a path must be a str or pathlib\.Path, got int 3"):
        Script("path", file_path=3)  # type: ignore[arg-type]


def test_dependency_refs() -> None:
    assert DependencyRef("j1").condition == "after_success"
    for condition in ("after_success", "after_failure", "after_started", "after"):
        assert DependencyRef("j1", condition).condition == condition  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown dependency condition 'afterok'; expected one of after_success"):
        DependencyRef("j1", "afterok")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        DependencyRef(None)  # type: ignore[arg-type]


def test_scheduling() -> None:
    sched = JobScheduling(partition="gpu", dependencies=[DependencyRef("a")])  # type: ignore[arg-type]
    assert sched.dependencies == (DependencyRef("a"),)
    assert sched.queue == "gpu"
    assert JobScheduling(dependencies=None).dependencies == ()  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="either 'dependency'"):
        JobScheduling(dependency="afterok:1", dependencies=(DependencyRef("a"),))
    for bad in ({"node_count": 0}, {"exclusive_node": 1}, {"partition": 5}, {"reservation": 5}, {"email": 5},
                {"qos": 5}, {"account": 5}, {"priority": 5}, {"array_spec": 5}, {"dependency": 5}):
        with pytest.raises(ConfigError):
            JobScheduling(**bad)  # type: ignore[arg-type]


def test_execution() -> None:
    ex = JobExecution(env={"A": "1"}, cwd=PurePosixPath("/w"), job_name="n")  # type: ignore[arg-type]
    assert dict(ex.env or {}) == {"A": "1"}
    assert ex.cwd == "/w"
    for bad in ({"env": {"A": 1}}, {"env": ["A"]}, {"job_name": 1}, {"output_file": 1}, {"error_file": 1}, {"cwd": 1}):
        with pytest.raises(ConfigError):
            JobExecution(**bad)  # type: ignore[arg-type]


def test_retry_policy() -> None:
    policy = RetryPolicy(max_attempts=3, retry_on_states=["failed", "lost"], retry_on_exit_codes=[1, 2])  # type: ignore[arg-type]
    assert policy.retry_on_states == (JobState.FAILED, JobState.LOST)
    assert policy.retry_on_exit_codes == (1, 2)
    assert RetryPolicy().retry_on_states == (JobState.FAILED, JobState.TIMED_OUT)
    assert RetryPolicy().max_attempts == 1
    assert RetryPolicy().retry_on_exit_codes is None
    with pytest.raises(ConfigError, match="retry_on_states must be terminal states, got running, queued"):
        RetryPolicy(retry_on_states=(JobState.RUNNING, JobState.QUEUED, JobState.FAILED))
    with pytest.raises(ConfigError, match="retry_on_states must be a tuple of JobState, got str 'failed'"):
        RetryPolicy(retry_on_states="failed")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="retry_on_states must be a tuple of JobState, got JobState"):
        RetryPolicy(retry_on_states=JobState.FAILED)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="retry_on_states: 'broken' is not a valid JobState"):
        RetryPolicy(retry_on_states=("broken",))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="retry_on_exit_codes must be a tuple of integers, got str '1'"):
        RetryPolicy(retry_on_exit_codes="1")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="retry_on_exit_codes must be a tuple of integers, got int 1"):
        RetryPolicy(retry_on_exit_codes=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        RetryPolicy(retry_on_exit_codes=(1, "2"))  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigError, match=r"RetryPolicy\.backoff must be a RetryBackoff, got dict"):
        RetryPolicy(backoff={})  # type: ignore[arg-type]


def test_backoff() -> None:
    assert RetryBackoff() == RetryBackoff("exponential", 5.0, 300.0, 2.0)
    RetryBackoff("fixed", 0, 0, 1)
    with pytest.raises(ConfigError, match=r"RetryBackoff\.mode must be 'fixed' or 'exponential', got 'linear'"):
        RetryBackoff("linear")  # type: ignore[arg-type]
    for bad in ({"initial_seconds": -1}, {"maximum_seconds": -1}, {"factor": 0.5}, {"initial_seconds": float("inf")}):
        with pytest.raises(ConfigError):
            RetryBackoff(**bad)  # type: ignore[arg-type]


def test_retention() -> None:
    assert RetentionPolicy() == RetentionPolicy(30, 90, True)
    RetentionPolicy(0, 0, False)
    for bad in ({"keep_job_dirs_for_days": -1}, {"keep_terminal_records_for_days": -1},
                {"keep_failed_job_dirs": 1}, {"keep_job_dirs_for_days": None}):
        with pytest.raises(ConfigError):
            RetentionPolicy(**bad)  # type: ignore[arg-type]


def test_submitor_defaults_types() -> None:
    SubmitorDefaults(JobResources(), JobScheduling(), JobExecution())
    for name in ("resources", "scheduling", "execution"):
        with pytest.raises(ConfigError, match=f"SubmitorDefaults.{name} must be a"):
            SubmitorDefaults(**{name: {}})  # type: ignore[arg-type]


def test_merges_take_set_fields_and_keep_the_rest() -> None:
    base = JobResources(cpu_count=4, memory="8G", time_limit="1h")
    assert merge_resources(base, JobResources(cpu_count=2)) == JobResources(cpu_count=2, memory="8G", time_limit="1h")
    assert merge_resources(None, None) == JobResources()
    assert merge_resources(base, None) == base
    assert merge_resources(None, base) == base
    sched = JobScheduling(partition="cpu", account="proj", dependency="afterok:1")
    merged = merge_scheduling(sched, JobScheduling(dependencies=(DependencyRef("a"),), exclusive_node=True))
    assert merged == JobScheduling(partition="cpu", account="proj", dependencies=(DependencyRef("a"),), exclusive_node=True)
    merged = merge_scheduling(JobScheduling(dependencies=(DependencyRef("a"),)), JobScheduling(dependency="afterok:2"))
    assert merged == JobScheduling(dependency="afterok:2")
    assert merge_scheduling(sched, JobScheduling()) == sched
    ex = merge_execution(JobExecution(env={"A": "1", "B": "2"}, job_name="base"), JobExecution(env={"B": "3"}))
    assert dict(ex.env or {}) == {"A": "1", "B": "3"}
    assert ex.job_name == "base"
    assert dict(merge_execution(JobExecution(), JobExecution(env={"C": "1"})).env or {}) == {"C": "1"}
    assert merge_execution(JobExecution(env={"A": "1"}), JobExecution(cwd="/w")).env == {"A": "1"}


def test_spec_shapes_and_display() -> None:
    assert JobSpec("argv", argv=("python", "run.py", "--lr=0.1", "a b", "it's", "")).display == (
        "python run.py --lr=0.1 'a b' 'it'\"'\"'s' ''"
    )
    assert JobSpec("argv", argv=("x@y:1,2+3%",)).display == "x@y:1,2+3%"
    assert JobSpec("argv", argv=("a;b",)).display == "'a;b'"
    assert JobSpec("command", command="echo hi | wc").display == "echo hi | wc"
    assert JobSpec("script", script=Script.inline("echo")).display == "<inline script>"
    assert JobSpec("script", script=Script.path("/w/run.sh")).display == "/w/run.sh"
    spec = JobSpec("argv", argv=("true",), metadata={"k": "v"}, max_duration="2h")  # type: ignore[arg-type]
    assert spec.max_duration == Duration(7200)
    assert dict(spec.metadata) == {"k": "v"}
    assert spec.cwd == "."
    for bad in (
        lambda: JobSpec("argv"),
        lambda: JobSpec("argv", command="x"),
        lambda: JobSpec("command", argv=("x",), command="x"),
        lambda: JobSpec("script", argv=("x",)),
    ):
        with pytest.raises(CommandError, match="exactly one of argv, command or script"):
            bad()
    with pytest.raises(CommandError, match="argv must not be empty"):
        JobSpec("argv", argv=())


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: JobResources(cpu_count=0), "cpu_count"),
        (lambda: JobResources(gpu_count=0), "gpu_count"),
        (lambda: JobResources(gpu_type=1, gpu_count=1), "gpu_type"),
        (lambda: JobScheduling(node_count=0), "node_count"),
        (lambda: JobScheduling(exclusive_node="yes"), "exclusive_node"),
        (lambda: JobScheduling(partition=1), "partition"),
        (lambda: JobScheduling(qos=1), "qos"),
        (lambda: JobExecution(job_name=1), "job_name"),
        (lambda: JobExecution(error_file=1), "error_file"),
        (lambda: JobExecution(env={"A": 1}), "env"),
        (lambda: DependencyRef(None), "DependencyRef.job_id"),
        (lambda: RetryPolicy(max_attempts=None), "max_attempts"),
        (lambda: RetryPolicy(retry_on_exit_codes=(1, None)), "retry_on_exit_codes item"),
        (lambda: RetentionPolicy(keep_job_dirs_for_days=None), "keep_job_dirs_for_days"),
        (lambda: RetentionPolicy(keep_terminal_records_for_days=None), "keep_terminal_records_for_days"),
        (lambda: RetentionPolicy(keep_failed_job_dirs=None), "keep_failed_job_dirs"),
    ],
)
def test_refusals_start_with_the_field_name(make: object, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        make()  # type: ignore[operator]
    assert str(info.value).startswith(f"{field} must ")


def test_merge_keeps_a_base_flag_the_override_leaves_at_its_default() -> None:
    merged = merge_scheduling(JobScheduling(exclusive_node=True, node_count=2), JobScheduling(partition="x"))
    assert merged == JobScheduling(exclusive_node=True, node_count=2, partition="x")


def test_metadata_given_as_a_frozen_mapping_is_kept() -> None:
    first = JobSpec("argv", argv=("true",), metadata={"k": "v"})
    again = JobSpec("argv", argv=("true",), metadata=first.metadata)
    assert again.metadata == {"k": "v"}
    assert type(again.metadata) is type(first.metadata)
