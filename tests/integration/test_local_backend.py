"""The local scheduler end to end, with real processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from molq import (
    Cluster,
    ConfigError,
    DependencyError,
    EventType,
    JobExecution,
    JobNotFoundError,
    JobResources,
    JobScheduling,
    JobState,
    JobStore,
    Memory,
    MolqTimeoutError,
    RetentionPolicy,
    RetryBackoff,
    RetryPolicy,
    Script,
    Submitor,
)


FAST_RETRY = RetryBackoff(mode="fixed", initial_seconds=0.1, maximum_seconds=0.1)


@pytest.fixture(params=["runner", "wrapper"])
def local_submitor(request, store, monkeypatch):
    """Every test here runs with the jobs root's runner and with the per-job sh wrapper (ADR 0016)."""
    if request.param == "wrapper":
        monkeypatch.setenv("MOLQ_LOCAL_RUNNER", "0")
    submitor = Submitor(Cluster("laptop", "local"), store=store)
    yield submitor
    submitor.close()


def test_first_job_succeeds_and_records_its_output(local_submitor):
    """The README's first job: SUCCEEDED, exit code 0, stdout captured at the recorded path."""
    handle = local_submitor.submit_job(argv=["python3", "-c", "print(42)"])
    record = handle.wait(timeout=60)
    assert record.state is JobState.SUCCEEDED
    assert record.exit_code == 0
    assert Path(record.metadata["molq.stdout_path"]).read_text() == "42\n"
    assert record.metadata["molq.job_dir"].endswith(f".molq/jobs/{handle.job_id}")
    assert record.started_at is not None
    assert record.finished_at is not None
    assert record.submitted_at <= record.finished_at


@pytest.mark.parametrize("code", [1, 3, 127])
def test_failure_exit_codes_are_recorded(local_submitor, code):
    """A non-zero exit ends FAILED with that exit code and a reason."""
    record = local_submitor.submit_job(command=f"exit {code}").wait(timeout=30)
    assert record.state is JobState.FAILED
    assert record.exit_code == code
    assert record.failure_reason == f"exit code {code}"


def test_stderr_and_env_and_cwd(local_submitor, tmp_path):
    """env values and cwd reach the job byte-exact; stderr goes to its own file."""
    workdir = tmp_path / "dir with spaces"
    workdir.mkdir()
    value = "it's $HOME `x` \"q\" ünï"
    record = local_submitor.submit_job(
        argv=["sh", "-c", 'printf %s "$WEIRD"; pwd >&2'],
        execution=JobExecution(env={"WEIRD": value}, cwd=str(workdir)),
    ).wait(timeout=30)
    assert record.state is JobState.SUCCEEDED
    assert Path(record.metadata["molq.stdout_path"]).read_text() == value
    assert Path(record.metadata["molq.stderr_path"]).read_text().strip() == str(workdir)
    assert record.cwd == str(workdir)


def test_inline_and_path_scripts(local_submitor, tmp_path):
    """Inline and path scripts both run."""
    script_file = tmp_path / "s.sh"
    script_file.write_text("echo from-file\n")
    inline = local_submitor.submit_job(script=Script.inline("#!/bin/sh\necho inline\n")).wait(timeout=30)
    by_path = local_submitor.submit_job(script=Script.path(script_file)).wait(timeout=30)
    assert Path(inline.metadata["molq.stdout_path"]).read_text() == "inline\n"
    assert Path(by_path.metadata["molq.stdout_path"]).read_text() == "from-file\n"


def test_cancel_kills_the_whole_process_group(local_submitor, tmp_path):
    """cancel ends CANCELLED and no process of the job survives."""
    pid_file = tmp_path / "child.pid"
    handle = local_submitor.submit_job(command=f"sleep 60 & echo $! > {pid_file}; wait")
    deadline = time.time() + 10
    while not pid_file.exists() and time.time() < deadline:
        time.sleep(0.02)
    grandchild = int(pid_file.read_text())
    handle.cancel()
    record = handle.wait(timeout=15)
    assert record.state is JobState.CANCELLED
    assert _gone_or_zombie(grandchild)
    assert record.failure_reason == "cancelled"


def _gone_or_zombie(pid: int, within: float = 5.0) -> bool:
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "State:\tZ" in status:
            return True
        time.sleep(0.05)
    return False


def test_cancel_of_a_finished_job_is_a_no_op(local_submitor):
    """Cancelling a final job changes nothing."""
    handle = local_submitor.submit_job(argv=["true"])
    handle.wait(timeout=30)
    handle.cancel()
    assert local_submitor.get_job(handle.job_id).state is JobState.SUCCEEDED


def test_time_limit_ends_timed_out(local_submitor):
    """A job past resources.time_limit is stopped by the watchdog and ends TIMED_OUT."""
    record = local_submitor.submit_job(
        argv=["sleep", "30"], resources=JobResources(time_limit="1s")
    ).wait(timeout=20)
    assert record.state is JobState.TIMED_OUT
    assert record.failure_reason == "time limit reached"


def test_memory_limit_is_enforced(local_submitor):
    """resources.memory becomes a ulimit: allocating far more fails."""
    record = local_submitor.submit_job(
        argv=["python3", "-c", "b = bytearray(800 * 1024 * 1024)"],
        resources=JobResources(memory=Memory.mb(200)),
    ).wait(timeout=30)
    assert record.state is JobState.FAILED


def test_retry_with_exit_code_filter_and_backoff(local_submitor, tmp_path):
    """Retries follow the exit-code filter; each attempt has a fresh id; the handle follows the family."""
    counter = tmp_path / "count"
    command = f'n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; [ $n -ge 3 ] || exit 3'
    handle = local_submitor.submit_job(
        command=command,
        retry=RetryPolicy(max_attempts=5, retry_on_exit_codes=(3,), backoff=FAST_RETRY),
    )
    record = handle.wait(timeout=60)
    assert record.state is JobState.SUCCEEDED
    assert record.attempt == 3
    family = local_submitor.get_retry_family(handle.job_id)
    assert [r.attempt for r in family] == [1, 2, 3]
    assert [r.state for r in family] == [JobState.FAILED, JobState.FAILED, JobState.SUCCEEDED]
    assert len({r.job_id for r in family}) == 3
    assert family[1].previous_attempt_job_id == family[0].job_id
    assert all(r.root_job_id == handle.job_id for r in family)
    assert family[1].created_at - family[0].finished_at >= 0.1


def test_retry_skipped_for_other_exit_codes(local_submitor):
    """An exit code outside retry_on_exit_codes is final."""
    record = local_submitor.submit_job(
        command="exit 4", retry=RetryPolicy(max_attempts=3, retry_on_exit_codes=(3,), backoff=FAST_RETRY)
    ).wait(timeout=30)
    assert record.attempt == 1
    assert record.state is JobState.FAILED


def test_retry_stops_at_max_attempts(local_submitor):
    """max_attempts bounds the family."""
    handle = local_submitor.submit_job(
        command="exit 1", retry=RetryPolicy(max_attempts=2, backoff=FAST_RETRY)
    )
    record = handle.wait(timeout=30)
    assert record.attempt == 2
    assert len(local_submitor.get_retry_family(handle.job_id)) == 2


def test_default_retry_policy_applies(store):
    """A Submitor's default_retry_policy is used when submit_job gives none."""
    sub = Submitor(Cluster("laptop", "local"), store=store, default_retry_policy=RetryPolicy(2, backoff=FAST_RETRY))
    assert sub.submit_job(command="exit 1").wait(timeout=30).attempt == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scheduling": JobScheduling(partition="gpu")},
        {"resources": JobResources(gpu_count=1)},
        {"resources": JobResources(cpu_count=4)},
        {"scheduling": JobScheduling(account="a")},
        {"scheduling": JobScheduling(array_spec="0-3")},
    ],
)
def test_unsupported_fields_are_rejected_before_anything_is_written(local_submitor, kwargs):
    """The local scheduler refuses what it cannot honour, and writes nothing."""
    with pytest.raises(ConfigError, match="local scheduler does not support"):
        local_submitor.submit_job(argv=["true"], **kwargs)
    assert local_submitor.store.last_seq() == 0
    assert not Path(".molq").exists()


def test_dependencies_are_rejected_on_local(local_submitor):
    """Dependencies are a ConfigError on the local scheduler, even on known jobs."""
    parent = local_submitor.submit_job(argv=["true"])
    with pytest.raises(ConfigError, match=r"scheduling\.dependencies"):
        local_submitor.submit_job(argv=["true"], after_success=[parent.job_id])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of argv, command or script"),
        ({"argv": ["a"], "command": "b"}, "exactly one of argv, command or script"),
        ({"argv": []}, "non-empty list"),
        ({"argv": "echo hi"}, "non-empty list"),
        ({"argv": ["echo", 3]}, "must be strings"),
        ({"command": "  "}, "non-empty shell command"),
        ({"argv": ["x"], "metadata": {"molq.job_dir": "x"}}, "reserved"),
        ({"argv": ["x"], "job_dir_name": "../escape"}, "single directory name"),
        ({"argv": ["x"], "job_dir_name": "a/b"}, "single directory name"),
        ({"argv": ["x"], "execution": JobExecution(env={"BAD NAME": "1"})}, "invalid environment variable name"),
        ({"argv": ["x\0y"]}, "NUL"),
        ({"argv": ["x"], "resources": {"cpu_count": 1}}, "resources must be a JobResources"),
        ({"argv": ["x"], "max_duration": "soon"}, "invalid duration"),
        ({"argv": ["ok", "bad\udcff"]}, r"argv\[1\] contains text that is not valid UTF-8"),
        ({"argv": ["x"], "execution": JobExecution(env={"A": "\ud800"})}, r"execution.env\['A'\]"),
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_stored(local_submitor, kwargs, message):
    """Bad submissions raise ConfigError naming the problem; the log stays empty."""
    with pytest.raises(ConfigError, match=message):
        local_submitor.submit_job(**kwargs)
    assert local_submitor.store.last_seq() == 0


def test_bad_units_and_unknown_scheduler():
    """Unparseable Memory/Duration and unknown schedulers are ConfigErrors."""
    with pytest.raises(ConfigError, match="invalid memory"):
        JobResources(memory="lots")
    with pytest.raises(ConfigError, match="invalid duration"):
        JobResources(time_limit="a while")
    with pytest.raises(ConfigError, match="Unknown scheduler 'condor'"):
        Cluster("c", "condor")
    with pytest.raises(ConfigError, match="not both"):
        Cluster("c", "local", host="h", transport=object())  # type: ignore[arg-type]


def test_failed_submission_leaves_an_event(local_submitor, monkeypatch):
    """When the scheduler cannot start the job, a job.submit_failed event says why."""
    from molq.core import SchedulerError

    def refuse(spec, job_dir):
        raise SchedulerError("no more processes", argv=("sh",), returncode=1, stderr="fork failed")

    monkeypatch.setattr(local_submitor.target.scheduler_impl, "submit", refuse)
    with pytest.raises(SchedulerError):
        local_submitor.submit_job(argv=["true"])
    [record] = local_submitor.list_jobs(include_terminal=True)
    assert record.state is JobState.FAILED
    assert "no more processes" in record.failure_reason
    assert "fork failed" in record.failure_reason
    types = [r.event.__struct_config__.tag for r in local_submitor.store.read_stream(record.job_id)]
    assert types == ["job.created", "job.submit_failed"]


def test_crash_between_intent_and_submission_is_adopted(local_submitor, monkeypatch):
    """A job started but never recorded as submitted is adopted on the next reconcile."""
    scheduler = local_submitor.target.scheduler_impl
    real_submit = scheduler.submit

    def submit_then_crash(spec, job_dir):
        real_submit(spec, job_dir)
        raise KeyboardInterrupt  # the process dies before recording the submission

    monkeypatch.setattr(scheduler, "submit", submit_then_crash)
    with pytest.raises(KeyboardInterrupt):
        local_submitor.submit_job(argv=["true"])
    monkeypatch.undo()
    [record] = local_submitor.list_jobs()
    assert record.state is JobState.CREATED
    local_submitor.reconciler.created_grace = 0.0
    time.sleep(0.3)
    record = local_submitor.watch_jobs([record.job_id], timeout=10)[0]
    assert record.state is JobState.SUCCEEDED
    submitted = [r.event for r in local_submitor.store.read_stream(record.job_id) if r.event.__struct_config__.tag == "job.submitted"]
    assert submitted[0].adopted is True


def test_crash_before_the_scheduler_was_asked_is_marked_lost(local_submitor, monkeypatch):
    """An intent with nothing started is marked LOST with a reason, never silently dropped."""
    monkeypatch.setattr(local_submitor.target.scheduler_impl, "submit", lambda spec, job_dir: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        local_submitor.submit_job(argv=["true"])
    monkeypatch.undo()
    local_submitor.reconciler.created_grace = 0.0
    local_submitor.refresh_jobs()
    [record] = local_submitor.list_jobs(include_terminal=True)
    assert record.state is JobState.LOST
    assert "submission interrupted" in record.failure_reason


def test_killed_wrapper_is_reported_lost_not_guessed(local_submitor):
    """If the wrapper is killed with SIGKILL, the job is LOST with a reason."""
    handle = local_submitor.submit_job(argv=["sleep", "30"])
    job_dir = Path(local_submitor.get_job(handle.job_id).metadata["molq.job_dir"])
    deadline = time.time() + 10
    while not (job_dir / "pid").exists() and time.time() < deadline:
        time.sleep(0.02)
    pids = (job_dir / "pid").read_text().split()  # a runner adds its own pid (ADR 0016)
    wrapper = int((job_dir / "wrapper.pid").read_text()) if (job_dir / "wrapper.pid").exists() else int(pids[1])
    child = int(pids[0])
    os.kill(wrapper, signal.SIGKILL)
    os.killpg(child, signal.SIGKILL)
    time.sleep(0.2)
    record = handle.wait(timeout=10)
    assert record.state is JobState.LOST
    assert "exit status unknown" in record.failure_reason


def test_events_fire_in_order(local_submitor):
    """STATUS_CHANGE and state events fire in lifecycle order; ALL_COMPLETED last."""
    seen: list[tuple[str, str | None]] = []
    for kind in EventType:
        local_submitor.on_event(kind, lambda p: seen.append((p.event.value, p.transition.new_state.value if p.transition else None)))
    local_submitor.submit_job(command="sleep 0.3; exit 0").wait(timeout=30)
    kinds = [k for k, _ in seen]
    states = [s for k, s in seen if k == "status_change"]
    assert states[:2] == ["created", "submitted"]
    assert states[-1] == "succeeded"
    assert "running" in states
    assert kinds.index("job_started") < kinds.index("job_completed")
    assert kinds[-1] == "all_completed"


def test_off_event_unsubscribes(local_submitor):
    """A handler removed with off_event is not called."""
    calls: list[object] = []
    local_submitor.on_event(EventType.JOB_COMPLETED, calls.append)
    local_submitor.off_event(EventType.JOB_COMPLETED, calls.append)
    local_submitor.submit_job(argv=["true"]).wait(timeout=30)
    assert calls == []


def test_timed_out_event_fires_both_names(local_submitor):
    """A timeout emits JOB_TIMED_OUT and its alias JOB_TIMEOUT."""
    seen = []
    local_submitor.on_event(EventType.JOB_TIMEOUT, lambda p: seen.append("timeout"))
    local_submitor.on_event(EventType.JOB_TIMED_OUT, lambda p: seen.append("timed_out"))
    local_submitor.submit_job(argv=["sleep", "10"], resources=JobResources(time_limit=1)).wait(timeout=20)
    assert sorted(seen) == ["timed_out", "timeout"]


def test_two_submitors_on_one_store_do_not_see_each_other(store):
    """Records are scoped by cluster name."""
    a = Submitor(Cluster("a", "local"), store=store)
    b = Submitor(Cluster("b", "local"), store=store)
    ha = a.submit_job(argv=["sleep", "1"])
    hb = b.submit_job(argv=["sleep", "1"])
    assert [r.job_id for r in a.list_jobs()] == [ha.job_id]
    assert [r.job_id for r in b.list_jobs()] == [hb.job_id]
    with pytest.raises(JobNotFoundError):
        a.get_job(hb.job_id)
    a.watch_jobs(timeout=30)
    assert b.get_job(hb.job_id).cluster_name == "b"
    b.watch_jobs(timeout=30)


def test_watch_jobs_timeout(local_submitor):
    """watch_jobs raises MolqTimeoutError when jobs outlive the timeout."""
    handle = local_submitor.submit_job(argv=["sleep", "30"])
    with pytest.raises(MolqTimeoutError):
        local_submitor.watch_jobs([handle.job_id], timeout=0.3)
    handle.cancel()


def test_handle_status_refresh_and_list(local_submitor):
    """status() and refresh() reflect the latest attempt; list_jobs hides final jobs by default."""
    handle = local_submitor.submit_job(argv=["sleep", "3"])
    assert handle.status() in (JobState.SUBMITTED, JobState.RUNNING)
    assert handle.refresh().scheduler_job_id == handle.scheduler_job_id
    assert [r.job_id for r in local_submitor.list_jobs()] == [handle.job_id]
    handle.wait(timeout=30)
    assert local_submitor.list_jobs() == []
    assert [r.job_id for r in local_submitor.list_jobs(include_terminal=True)] == [handle.job_id]


def test_jobs_dir_and_job_dir_name(store, tmp_path):
    """jobs_dir and job_dir_name place artifacts; output_file overrides stdout."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    record = sub.submit_job(
        argv=["echo", "x"], job_dir_name="named", execution=JobExecution(output_file="out.txt")
    ).wait(timeout=30)
    assert record.metadata["molq.job_dir"] == str(tmp_path / "jobs" / "named")
    assert record.metadata["molq.stdout_path"] == str(Path.cwd() / "out.txt")
    assert (Path.cwd() / "out.txt").read_text() == "x\n"


def test_cleanup_removes_old_dirs_and_archives_records(local_submitor, monkeypatch):
    """cleanup_jobs honours the retention policy, dry runs change nothing, the log keeps everything."""
    ok = local_submitor.submit_job(argv=["true"]).wait(timeout=30)
    failed = local_submitor.submit_job(command="exit 1").wait(timeout=30)
    policy = RetentionPolicy(keep_job_dirs_for_days=0, keep_terminal_records_for_days=0, keep_failed_job_dirs=True)
    events_before = local_submitor.store.last_seq()
    preview = local_submitor.cleanup_jobs(dry_run=True, retention_policy=policy)
    assert preview["job_dirs"] == [ok.metadata["molq.job_dir"]]
    assert sorted(preview["records"]) == sorted([ok.job_id, failed.job_id])
    assert local_submitor.store.last_seq() == events_before
    assert Path(ok.metadata["molq.job_dir"]).exists()
    result = local_submitor.cleanup_jobs(retention_policy=policy)
    assert result["job_dirs"] == [ok.metadata["molq.job_dir"]]
    assert not Path(ok.metadata["molq.job_dir"]).exists()
    assert Path(failed.metadata["molq.job_dir"]).exists()
    assert local_submitor.list_jobs(include_terminal=True) == []
    assert local_submitor.get_job(ok.job_id).cleaned_at is not None
    assert len(local_submitor.store.read_stream(ok.job_id)) > 3
    assert local_submitor.store.verify_projections() == []


def test_cleanup_keeps_recent_jobs(local_submitor):
    """Default retention keeps fresh jobs."""
    local_submitor.submit_job(argv=["true"]).wait(timeout=30)
    assert local_submitor.cleanup_jobs() == {"job_dirs": [], "records": [], "errors": []}


def test_daemon_once_reconciles(store):
    """run_daemon(once=True) brings a job submitted elsewhere to its final state."""
    submitter = Submitor(Cluster("laptop", "local"), store=store)
    handle = submitter.submit_job(argv=["true"])
    time.sleep(0.3)
    daemon = Submitor(Cluster("laptop", "local"), store=JobStore(store.path))
    daemon.run_daemon(once=True)
    assert store.get_record(handle.job_id).state is JobState.SUCCEEDED
    daemon.close()


def test_dry_run_submits_nothing(local_submitor):
    """dry_run returns the command and script; nothing is recorded or started."""
    dry = local_submitor.submit_job(argv=["echo", "hi there"], dry_run=True)
    assert "molq-launch" in dry.command
    assert "'hi there'" in dry.details["script"]
    assert dry.details["job_dir"].startswith(str(Path.cwd()))
    assert local_submitor.store.last_seq() == 0
    assert not Path(".molq").exists()


def test_events_table_refuses_update_and_delete(local_submitor):
    """The log is append-only at the database level."""
    local_submitor.submit_job(argv=["true"]).wait(timeout=30)
    conn = sqlite3.connect(local_submitor.store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET type = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()


def test_store_and_job_dirs_are_private(local_submitor):
    """The database and job directories are created private to the user."""
    record = local_submitor.submit_job(argv=["true"]).wait(timeout=30)
    assert os.stat(local_submitor.store.path).st_mode & 0o077 == 0
    assert os.stat(record.metadata["molq.job_dir"]).st_mode & 0o077 == 0


def test_default_store_location(isolated_home):
    """Without a store argument the Submitor uses the default store path."""
    sub = Submitor(Cluster("laptop", "local"))
    assert sub.store.path == isolated_home / ".molq" / "jobs.db"
    sub.close()


def test_unknown_job_ids(local_submitor):
    """Queries on unknown ids raise JobNotFoundError."""
    with pytest.raises(JobNotFoundError):
        local_submitor.get_job("nope")
    with pytest.raises(JobNotFoundError):
        local_submitor.cancel_job("nope")
    with pytest.raises(JobNotFoundError):
        local_submitor.watch_jobs(["nope"])


def test_dependency_on_unknown_job_is_rejected_for_batch_dialects(store):
    """On schedulers with dependencies, unknown upstream ids are a DependencyError before anything is written."""
    pytest.importorskip("molq.shell.schedulers._slurm")
    sub = Submitor(Cluster("hpc", "slurm"), store=store)
    with pytest.raises(DependencyError, match="not a job of cluster"):
        sub.submit_job(argv=["true"], after_success=["missing"])
    assert store.last_seq() == 0
