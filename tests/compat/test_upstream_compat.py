"""Issue 18: code written for upstream molq runs unchanged (one test per listed difference)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import molq
from molq import (
    Cluster,
    CommandError,
    ConfigError,
    Duration,
    JobNotFoundError,
    JobState,
    JobStore,
    Memory,
    MolqError,
    MolqTimeoutError,
    SchedulerError,
    Script,
    ScriptError,
    SubmitError,
    Submitor,
)


# -- Memory --------------------------------------------------------------------------------------


def test_memory_bytes_attribute():
    """The byte count is ``.bytes`` (``n_bytes`` stays as our name)."""
    assert Memory.gb(2).bytes == 2 * 1024**3 == Memory.gb(2).n_bytes


@pytest.mark.parametrize(
    ("memory", "slurm", "pbs"),
    [(Memory.gb(8), "8G", "8gb"), (Memory.tb(1), "1T", "1tb"), (Memory.kb(256), "256K", "256kb"), (Memory.mb(1536), "1536M", "1536mb")],
)
def test_memory_renders_in_the_largest_exact_unit(memory, slurm, pbs):
    """to_slurm()/to_pbs() use the largest exact unit and never round a request up."""
    assert memory.to_slurm() == slurm
    assert memory.to_pbs() == pbs


# -- Duration ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("59", 59), (30, 30), ("05:30", 330), ("01:00:00", 3600), ("1-02:03:04", 93784)],
)
def test_duration_bare_number_is_seconds(text, seconds):
    """A bare number is seconds (as Duration.parse(30)); clock forms as SLURM writes them."""
    assert Duration.parse(text).seconds == seconds


# -- Errors --------------------------------------------------------------------------------------


def test_molq_error_keeps_keyword_context():
    """MolqError(message, **context) keeps the context on ``.context``."""
    error = MolqError("it broke", job_id="j1", attempt=2)
    assert str(error) == "it broke"
    assert error.context == {"job_id": "j1", "attempt": 2}
    assert ConfigError("bad", key="x").context == {"key": "x"}


def test_scheduler_error_takes_stderr_and_command():
    """SchedulerError(stderr=, command=) as upstream; argv/returncode stay."""
    error = SchedulerError("sbatch failed", stderr="no partition", command=["sbatch", "job.sh"])
    assert error.stderr == "no partition"
    assert error.command == ["sbatch", "job.sh"]
    assert error.argv == ("sbatch", "job.sh")
    ours = SchedulerError("x", argv=("qsub", "a"), returncode=1, stderr="e")
    assert (ours.argv, ours.returncode, ours.command) == (("qsub", "a"), 1, "qsub a")


def test_job_not_found_error_has_job_id_and_cluster_name(local_submitor):
    """JobNotFoundError(job_id, cluster_name=None) with .job_id/.cluster_name; get_job raises it so."""
    error = JobNotFoundError("abc", "hpc")
    assert (error.job_id, error.cluster_name) == ("abc", "hpc")
    assert JobNotFoundError("abc").cluster_name is None
    with pytest.raises(JobNotFoundError) as info:
        local_submitor.get_job("nope")
    assert (info.value.job_id, info.value.cluster_name) == ("nope", "laptop")


def test_timeout_error_is_a_builtin_timeout_error():
    """MolqTimeoutError is also a TimeoutError."""
    assert issubclass(MolqTimeoutError, TimeoutError)


def test_submit_error_family_is_exported_and_raised(local_submitor):
    """SubmitError, CommandError(SubmitError), ScriptError(SubmitError): argv/command/script mistakes."""
    assert issubclass(CommandError, SubmitError)
    assert issubclass(ScriptError, SubmitError)
    assert issubclass(CommandError, ConfigError)  # what molq raised before still catches them
    with pytest.raises(CommandError):
        local_submitor.submit_job()
    with pytest.raises(CommandError):
        local_submitor.submit_job(argv=["true"], command="true")
    with pytest.raises(CommandError):
        local_submitor.submit_job(argv=[])
    with pytest.raises(ScriptError):
        local_submitor.submit_job(script="echo hi")
    with pytest.raises(ScriptError):
        Script("inline")


@pytest.mark.parametrize("kind", ["condor", "shell"])
def test_unknown_scheduler_message_leads_with_upstream_words(kind):
    """'Unknown scheduler' leads the message; the old kind 'shell' is refused like any unknown one."""
    with pytest.raises(ConfigError, match=f"^Unknown scheduler '{kind}'"):
        Cluster("c", kind)


def test_unknown_memory_unit_message_leads_with_upstream_words():
    """'Unknown memory unit' leads the message."""
    with pytest.raises(ConfigError, match=r"^Unknown memory unit 'X'"):
        Memory.parse("4X")


def test_project_on_another_cluster_message(store, tmp_path):
    """'Project belongs to cluster' leads the refusal of a submitor of another cluster."""
    here, there = Cluster("here", "local"), Cluster("there", "local")
    project = here.get_workspace("w", path=str(tmp_path)).get_project("p")
    with pytest.raises(ConfigError, match=r"^Project belongs to cluster 'here'"):
        project.submit_job(Submitor(there, store=store), argv=["true"])


# -- JobStore(":memory:") and JobHandle ------------------------------------------------------------


def test_in_memory_store_runs_a_job(tmp_path):
    """JobStore(":memory:") works (no file is created) and verifies clean."""
    store = JobStore(":memory:")
    try:
        handle = Submitor(Cluster("m", "local"), store=store).submit_job(argv=["true"])
        assert handle.wait(timeout=30).state == JobState.SUCCEEDED
        assert store.in_memory
        assert store.verify_projections() == []
    finally:
        store.close()
    assert not (tmp_path / "work" / ":memory:").exists()


def test_handle_status_is_cached_and_refresh_updates_it(local_submitor, monkeypatch):
    """status() does no I/O; refresh() reconciles and updates the handle; wait() too."""
    handle = local_submitor.submit_job(argv=["true"])
    calls = []
    original = local_submitor.refresh_jobs
    monkeypatch.setattr(local_submitor, "refresh_jobs", lambda: calls.append(1) or original())
    assert handle.status() in (JobState.SUBMITTED, JobState.RUNNING, JobState.SUCCEEDED)
    assert calls == []
    record = handle.wait(timeout=30)
    assert handle.status() == record.state == JobState.SUCCEEDED
    assert handle.refresh() is handle
    assert calls
    assert handle.status() == JobState.SUCCEEDED


# -- Exports -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["RunDashboard", "MolqMonitor", "DashboardState", "JobRow", "DependencyPreview", "DependencyPreviewItem",
     "dependency_relation_state", "SubmitError", "CommandError", "ScriptError"],
)
def test_upstream_names_are_exported(name):
    """Upstream's names resolve from ``molq`` and are in __all__."""
    assert name in molq.__all__
    assert getattr(molq, name) is not None


def test_dashboard_values_do_not_import_rich():
    """``import molq`` and the dashboard values stay free of Rich; RunDashboard loads it lazily."""
    code = "import sys, molq; molq.JobRow; molq.DashboardState; print('rich' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


@pytest.mark.parametrize(
    ("condition", "state", "started", "expected"),
    [
        ("after_success", JobState.SUCCEEDED, 1.0, "satisfied"),
        ("after_success", JobState.FAILED, 1.0, "impossible"),
        ("after_success", JobState.RUNNING, 1.0, "pending"),
        ("after_failure", JobState.CANCELLED, None, "satisfied"),
        ("after_started", JobState.RUNNING, 1.0, "satisfied"),
        ("after_started", JobState.QUEUED, None, "pending"),
        ("after", JobState.FAILED, 1.0, "satisfied"),
    ],
)
def test_dependency_relation_state(condition, state, started, expected):
    """dependency_relation_state(type, state, started_at) says satisfied / pending / impossible."""
    assert molq.dependency_relation_state(condition, state, started) == expected


# -- Value types behave as frozen stdlib dataclasses ------------------------------------------------


def _values():
    from molq import (
        DependencyRef,
        JobDependency,
        JobExecution,
        JobRecord,
        JobResources,
        JobScheduling,
        QueueEntry,
        RetentionPolicy,
        RetryBackoff,
        RetryPolicy,
        SchedulerCapabilities,
        StatusTransition,
        SubmitorDefaults,
    )

    return [
        Memory.gb(1),
        Duration.hours(1),
        Script.inline("echo hi"),
        JobResources(cpu_count=2, memory="4G"),
        JobScheduling(partition="gpu"),
        JobExecution(env={"A": "1"}),
        SubmitorDefaults(resources=JobResources(cpu_count=1)),
        RetryBackoff(),
        RetryPolicy(max_attempts=2),
        RetentionPolicy(),
        DependencyRef("j1"),
        JobDependency("j2", "j1", "after_success", "afterok:1"),
        StatusTransition("j1", None, JobState.CREATED, 1.0),
        QueueEntry("123"),
        JobRecord(job_id="j1", cluster_name="c", scheduler="local", state=JobState.RUNNING),
        SchedulerCapabilities(),
    ]


@pytest.mark.parametrize("value", _values(), ids=lambda v: type(v).__name__)
def test_values_are_frozen_stdlib_dataclasses(value):
    """dataclasses.replace/fields/asdict work and assignment raises FrozenInstanceError."""
    import dataclasses

    assert dataclasses.is_dataclass(value)
    names = [f.name for f in dataclasses.fields(value)]
    assert names
    assert dataclasses.replace(value) == value
    assert set(dataclasses.asdict(value)) == set(names)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, names[0], getattr(value, names[0]))


def test_job_record_from_four_keywords():
    """JobRecord(job_id=, cluster_name=, scheduler=, state=) is enough, as upstream."""
    from molq import JobRecord

    record = JobRecord(job_id="j", cluster_name="c", scheduler="slurm", state=JobState.QUEUED)
    assert (record.root_job_id, record.attempt, record.metadata, record.exit_code) == ("j", 1, {}, None)


def test_replace_runs_the_checks():
    """dataclasses.replace re-validates, as construction does."""
    import dataclasses

    from molq import JobResources

    with pytest.raises(ConfigError, match="cpu_count"):
        dataclasses.replace(JobResources(cpu_count=2), cpu_count=2.5)


def test_script_file_path_is_a_path_and_round_trips_through_the_log():
    """Script.file_path is a Path; stored as its text and read back as a Path."""
    from pathlib import Path

    from molq.core import JobSpec
    from molq.core._events import JobCreated, decode_event, encode_event

    script = Script.path("/opt/run.sh")
    assert script.file_path == Path("/opt/run.sh")
    assert isinstance(Script("path", file_path="rel/x.sh").file_path, Path)
    event = JobCreated(job_id="j", at=0.0, cluster_name="c", scheduler="local", root_job_id="j",
                       spec=JobSpec("script", script=script))
    data = encode_event(event)
    assert b'"file_path":"/opt/run.sh"' in data
    assert decode_event(data) == event


def test_capability_errors_name_the_dotted_field(local_submitor):
    """Unsupported fields are named as resources.X / scheduling.X, as upstream."""
    from molq import JobResources, JobScheduling

    with pytest.raises(ConfigError, match=r"scheduling\.partition"):
        local_submitor.submit_job(argv=["true"], scheduling=JobScheduling(partition="gpu"))
    with pytest.raises(ConfigError, match=r"resources\.gpu_count"):
        local_submitor.submit_job(argv=["true"], resources=JobResources(gpu_count=1))
