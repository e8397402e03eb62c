"""Issue 13, wrong states: each attack that once recorded a wrong outcome, replayed.

Every job here is a real local process; each test names the item of issue 13 it replays.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from molq import Cluster, ConfigError, JobState, JobStore, RetryBackoff, RetryPolicy, Submitor
from molq.core._events import JobUnseen
from molq.core._sched._local import PROBE_SCRIPT, parse_probe
from molq.shell._job_context import enforce_durations
from molq.shell._reconcile import ReconcileReport


def test_huge_backoff_factor_retries_to_the_end(store, tmp_path):
    """Item 3: factor=1e200 overflowed at attempt 3; every attempt now runs and ends FAILED."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    backoff = RetryBackoff(initial_seconds=0.01, maximum_seconds=0.05, factor=1e200)
    handle = sub.submit_job(command="exit 3", retry=RetryPolicy(max_attempts=4, backoff=backoff))
    final = handle.wait(timeout=60)
    family = sub.get_retry_family(handle.job_id)
    assert final.state == JobState.FAILED
    assert [r.attempt for r in family] == [1, 2, 3, 4]
    assert all(r.state == JobState.FAILED for r in family)
    sub.run_daemon(once=True)  # a pass over the family raises nothing


def _wait_for(path, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_duration_expiry_after_the_job_ended_keeps_its_exit_0(store, tmp_path):
    """Item 2: a job seen RUNNING, then ending 0 before the limit check, stays SUCCEEDED (no retry)."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    handle = sub.submit_job(command="sleep 0.3", max_duration="1s", retry=RetryPolicy(max_attempts=2))
    job_dir = Path(sub.get_job(handle.job_id).metadata["molq.job_dir"])
    _wait_for(job_dir / "pid")
    sub.reconciler.reconcile([handle.job_id])  # the record now says RUNNING
    assert sub.get_job(handle.job_id).state == JobState.RUNNING
    _wait_for(job_dir / "status")  # the job ends 0; no pass has seen it yet
    real_clock = sub.reconciler.clock
    sub.reconciler.clock = lambda: real_clock() + 60.0  # its limit is long past
    enforce_durations(sub.reconciler, ReconcileReport())
    record = sub.get_job(handle.job_id)
    assert (record.state, record.exit_code) == (JobState.SUCCEEDED, 0)
    assert len(sub.get_retry_family(handle.job_id)) == 1


@pytest.mark.parametrize("runner", ["1", "0"])
def test_jobs_ending_around_their_limit_keep_their_real_outcome(store, tmp_path, monkeypatch, runner):
    """Item 2: 20 jobs sleeping 1.00..1.19 s under a 1 s limit: exit 0 is SUCCEEDED, a kill TIMED_OUT."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", runner)
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    handles = [sub.submit_job(command=f"sleep 1.{i:02d}", max_duration="1s") for i in range(20)]
    sub.watch_jobs([h.job_id for h in handles], timeout=120)
    outcomes = []
    for handle in handles:
        record = sub.get_job(handle.job_id)
        status = (Path(record.metadata["molq.job_dir"]) / "status").read_text().split()[0]
        outcomes.append((record.state, status))
        assert len(sub.get_retry_family(handle.job_id)) == 1
    for state, status in outcomes:
        assert (state == JobState.SUCCEEDED) == (status == "0"), outcomes
        assert state in (JobState.SUCCEEDED, JobState.TIMED_OUT), outcomes


def test_a_taken_job_dir_name_is_refused(store, tmp_path):
    """Item 1: a second job named like a finished one is refused; it never reads the first's facts."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    first = sub.submit_job(command="exit 3", job_dir_name="run")
    assert first.wait(timeout=30).exit_code == 3
    before = len(list(store.read_all()))
    with pytest.raises(ConfigError, match="job_dir_name 'run' was used before"):
        sub.submit_job(command="true", job_dir_name="run")
    assert len(list(store.read_all())) == before  # nothing recorded for the refused job
    _wait_for(tmp_path / "jobs" / "run" / "status")
    assert (tmp_path / "jobs" / "run" / "status").read_text().strip() == "3"


def test_concurrent_submitters_of_one_name_get_one_dir(store, tmp_path):
    """Item 1: eight submitters racing for one job_dir_name: exactly one job is created."""
    path = store.path
    results: list[object] = []

    def submit() -> None:
        with Submitor(Cluster("laptop", "local"), store=JobStore(path), jobs_dir=tmp_path / "jobs") as sub:
            try:
                results.append(sub.submit_job(command="true", job_dir_name="same").wait(timeout=30).state)
            except ConfigError as exc:
                results.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(JobState.SUCCEEDED) == 1, results
    assert sum(isinstance(r, ConfigError) for r in results) == 7, results


def test_a_retry_never_reuses_another_jobs_attempt_dir(store, tmp_path):
    """Item 1: ``x.attempt2`` already holds a job's facts: the retry of ``x`` gets its own dir."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    other = sub.submit_job(command="exit 7", job_dir_name="x.attempt2")
    assert other.wait(timeout=30).exit_code == 7
    fast = RetryPolicy(max_attempts=2, backoff=RetryBackoff(initial_seconds=0.01, maximum_seconds=0.01))
    handle = sub.submit_job(command='[ "$MOLQ_ATTEMPT" = 2 ]', job_dir_name="x", retry=fast)
    final = handle.wait(timeout=30)
    assert (final.state, final.exit_code, final.attempt) == (JobState.SUCCEEDED, 0, 2)
    second_dir = final.metadata["molq.job_dir"]
    assert second_dir.startswith(str(tmp_path / "jobs" / "x.attempt2-"))
    _wait_for(tmp_path / "jobs" / "x.attempt2" / "status")
    assert (tmp_path / "jobs" / "x.attempt2" / "status").read_text().strip() == "7"
    assert sub.get_job(other.job_id).exit_code == 7


@pytest.mark.parametrize("pause", [0.0, 0.3])
def test_logs_of_a_retried_job_come_out_whole_and_in_order(store, tmp_path, pause):
    """Item 5: a job printing L1..L3 that fails once: every line of both attempts, once, in order."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    fast = RetryPolicy(max_attempts=2, backoff=RetryBackoff(initial_seconds=0.0, maximum_seconds=0.0))
    command = f'echo L1; echo L2; sleep {pause}; printf "L3\\vstill L3\\n"; [ "$MOLQ_ATTEMPT" = 2 ]'
    handle = sub.submit_job(command=command, retry=fast)
    lines = list(sub.subscribe_logs(handle.job_id, poll_interval=0.1, timeout=60))
    assert lines == ["L1", "L2", "L3\vstill L3"] * 2
    assert sub.latest_attempt(handle.job_id).state == JobState.SUCCEEDED


CLEANUP = """
import sys
from molq import Cluster, JobStore, RetentionPolicy, Submitor
policy = RetentionPolicy(keep_job_dirs_for_days=0, keep_terminal_records_for_days=0, keep_failed_job_dirs=False)
with Submitor(Cluster("laptop", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2]) as sub:
    result = sub.cleanup_jobs(retention_policy=policy)
    print(len(result["records"]), len(result["errors"]))
"""


def test_concurrent_cleanups_never_crash(store, tmp_path):
    """Item 13: three cleanup_jobs processes over one store all exit 0; every job ends cleaned and archived."""
    jobs = tmp_path / "jobs"
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=jobs)
    handles = [sub.submit_job(argv=["true"]) for _ in range(120)]
    sub.watch_jobs([h.job_id for h in handles], timeout=120)
    procs = [
        subprocess.Popen([sys.executable, "-c", CLEANUP, str(store.path), str(jobs)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    for handle in handles:
        record = store.get_record(handle.job_id)
        assert record.cleaned_at is not None
        assert record.archived_at is not None
    assert store.verify_projections() == []


class RacedStore(JobStore):
    """A store where another writer appends to the same job just before each of ``races`` appends."""

    races = 0
    raced_job: str | None = None

    def append_batch(self, batch, *, now):
        if self.races and any(stream == self.raced_job for stream, _, _ in batch):
            self.races -= 1
            record = self.get_record(self.raced_job)
            unseen = JobUnseen(job_id=self.raced_job, at=now, detail="raced")
            super().append_batch([(self.raced_job, [unseen], record.version)], now=now)
        return super().append_batch(batch, now=now)


def test_cancel_during_a_concurrent_append_is_judged_again(tmp_path):
    """Item 13: a reconcile appending while cancel records its request: the job still ends CANCELLED."""
    store = RacedStore(tmp_path / "raced.db")
    with Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs") as sub:
        handle = sub.submit_job(argv=["sleep", "30"])
        _wait_for(Path(sub.get_job(handle.job_id).metadata["molq.job_dir"]) / "pid")
        sub.refresh_jobs()
        store.raced_job, store.races = handle.job_id, 2
        handle.cancel()
        assert handle.wait(timeout=30).state == JobState.CANCELLED


def test_a_job_changing_under_every_append_does_not_stop_the_pass(tmp_path):
    """Item 13: a job whose record changes under every append is skipped for the pass, not fatal."""
    store = RacedStore(tmp_path / "raced.db")
    with Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs") as sub:
        handle = sub.submit_job(argv=["true"])
        _wait_for(Path(sub.get_job(handle.job_id).metadata["molq.job_dir"]) / "status")
        store.raced_job, store.races = handle.job_id, 10**6
        report = sub.reconciler.reconcile()
        assert any("left to the next pass" in e for e in report.errors), report.errors
        sub.run_daemon(once=True)  # the daemon's pass survives it too
        store.races = 0
        assert handle.wait(timeout=30).state == JobState.SUCCEEDED


@pytest.mark.parametrize("runner", ["1", "0"])
def test_one_submitor_shared_by_threads(store, tmp_path, monkeypatch, runner):
    """Item 12: 8 threads submitting 10 jobs each through one Submitor while one waits: all 80 SUCCEEDED."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", runner)
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    ids: list[str] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def submit() -> None:
        try:
            for _ in range(10):
                ids.append(sub.submit_job(argv=["true"]).job_id)
        except BaseException as exc:
            errors.append(exc)

    def wait() -> None:
        try:
            while not stop.is_set():
                sub.watch_jobs(list(ids), timeout=60)
        except BaseException as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    submitters = [threading.Thread(target=submit) for _ in range(8)]
    waiter.start()
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join()
    stop.set()
    waiter.join()
    assert errors == []
    records = sub.watch_jobs(ids, timeout=60)
    assert len(records) == 80
    assert {r.state for r in records} == {JobState.SUCCEEDED}
    assert store.verify_projections() == []


def test_a_cancel_while_the_scheduler_starts_the_job_stops_it(store, tmp_path, monkeypatch):
    """Item 12: a cancel from another thread lands mid-submission: recorded CANCELLED, and the job is stopped."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    scheduler = sub.target.scheduler_impl
    start = scheduler.submit

    def submit_while_cancelled(spec, job_dir):
        sid = start(spec, job_dir)
        other = threading.Thread(target=sub.cancel_job, args=(spec.execution.env["MOLQ_JOB_ID"],))
        other.start()
        other.join()
        return sid

    monkeypatch.setattr(scheduler, "submit", submit_while_cancelled)
    handle = sub.submit_job(argv=["sleep", "30"])
    record = sub.get_job(handle.job_id)
    assert record.state == JobState.CANCELLED
    job_dir = Path(record.metadata["molq.job_dir"])
    _wait_for(job_dir / "status")  # the started process was stopped, not left running
    assert (job_dir / "status").read_text().split()[0] != "0"


INTERRUPTED_SUBMITTER = """
import os, sys, time
from molq import Cluster, JobStore, Submitor
sub = Submitor(Cluster("laptop", "local"), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2])
def stop(spec, job_dir):
    print("intent", flush=True)
    if sys.argv[3] == "die":
        os._exit(9)
    time.sleep(60)
sub.target.scheduler_impl.submit = stop
sub.submit_job(argv=["true"])
"""


def _interrupted_submission(store, tmp_path, how):
    argv = [sys.executable, "-c", INTERRUPTED_SUBMITTER, str(store.path), str(tmp_path / "jobs"), how]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    proc.stdout.close()
    assert line == "intent"
    (record,) = store.list_records("laptop", include_terminal=True)
    assert record.state == JobState.CREATED
    return proc, record


def test_a_dead_submitters_job_is_settled_without_the_grace(store, tmp_path):
    """Item 6: the submitter died after recording its intent: 3 s later (not 30) the job is LOST."""
    proc, record = _interrupted_submission(store, tmp_path, "die")
    assert proc.wait(timeout=30) == 9
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    sub.reconciler.clock = lambda: record.created_at + 3.0
    sub.refresh_jobs()
    after = sub.get_job(record.job_id)
    assert after.state == JobState.LOST
    assert "submission interrupted" in after.failure_reason


def test_a_live_submitter_keeps_the_grace(store, tmp_path):
    """Item 6: while the submitter lives its job stays CREATED for the grace; once it is killed, LOST."""
    proc, record = _interrupted_submission(store, tmp_path, "hang")
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    try:
        sub.reconciler.clock = lambda: record.created_at + 3.0
        sub.refresh_jobs()
        assert sub.get_job(record.job_id).state == JobState.CREATED
    finally:
        proc.kill()
        proc.wait(timeout=30)
    sub.refresh_jobs()
    assert sub.get_job(record.job_id).state == JobState.LOST


def _kill_recorded(path: Path, line: int = 0) -> None:
    os.kill(int(path.read_text().split("\n")[line]), signal.SIGKILL)


def test_a_killed_wrapper_leaves_its_job_running_and_its_exit_recorded(store, tmp_path, monkeypatch):
    """Item 4: run.sh SIGKILLed while the body runs: RUNNING, then SUCCEEDED with exit 0; no LOST retry."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", "0")
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    policy = RetryPolicy(max_attempts=2, retry_on_states=[JobState.LOST],
                         backoff=RetryBackoff(initial_seconds=0.0, maximum_seconds=0.0))
    handle = sub.submit_job(command="sleep 1.5", retry=policy)
    job_dir = Path(sub.get_job(handle.job_id).metadata["molq.job_dir"])
    _wait_for(job_dir / "pid")
    _kill_recorded(job_dir / "wrapper.pid")
    time.sleep(0.2)
    sub.refresh_jobs()
    assert sub.get_job(handle.job_id).state == JobState.RUNNING
    probe = subprocess.run(["sh", "-c", PROBE_SCRIPT, "molq-probe", str(job_dir)], capture_output=True, text=True,
                           check=True)  # the probe used over SSH agrees
    assert parse_probe(probe.stdout, [str(job_dir)])[str(job_dir)].state == JobState.RUNNING
    final = handle.wait(timeout=60)
    assert (final.state, final.exit_code, final.attempt) == (JobState.SUCCEEDED, 0, 1)
    assert len(sub.get_retry_family(handle.job_id)) == 1


@pytest.mark.parametrize(("runner", "killed"), [("0", "wrapper.pid"), ("1", "pid")])
def test_cancel_after_the_wrapper_or_runner_was_killed_is_cancelled(store, tmp_path, monkeypatch, runner, killed):
    """Item 4: the wrapper (or the local runner) SIGKILLed, then cancel(): the job is stopped and CANCELLED."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", runner)
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    handle = sub.submit_job(argv=["sleep", "60"])
    job_dir = Path(sub.get_job(handle.job_id).metadata["molq.job_dir"])
    _wait_for(job_dir / "pid")
    _kill_recorded(job_dir / killed, line=0 if killed == "wrapper.pid" else 1)
    body = int((job_dir / "pid").read_text().split("\n")[0])
    handle.cancel()
    final = handle.wait(timeout=60)
    assert final.state == JobState.CANCELLED
    with pytest.raises(ProcessLookupError):
        os.kill(body, 0)


def test_logs_with_bytes_that_are_not_utf8_lose_no_line(store, tmp_path):
    """Item 5's class: a line holding a non-UTF-8 byte does not shift where the next read starts."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    handle = sub.submit_job(command=r"printf 'a\377\376b\n'; sleep 0.5; printf 'L2\nL3\n'")
    lines = list(sub.subscribe_logs(handle.job_id, poll_interval=0.1, timeout=60))
    assert lines == ["a\ufffd\ufffdb", "L2", "L3"]


class StalePending(JobStore):
    """A store whose pending retries are the ones read before another process created them."""

    stale: list | None = None

    def pending_retries(self, cluster_name):
        return self.stale if self.stale is not None else super().pending_retries(cluster_name)


def test_a_retry_created_by_another_process_leaves_no_stray_dir(tmp_path):
    """Item 1: two reconcilers create the same named retry: one attempt, and the loser's claimed dir is removed."""
    store = StalePending(tmp_path / "jobs.db")
    jobs = tmp_path / "jobs"
    with Submitor(Cluster("laptop", "local"), store=store, jobs_dir=jobs) as sub:
        policy = RetryPolicy(max_attempts=2, backoff=RetryBackoff(initial_seconds=0.2, maximum_seconds=0.2))
        handle = sub.submit_job(command="exit 1", job_dir_name="x", retry=policy)
        _wait_for(jobs / "x" / "status")
        sub.reconciler.reconcile()  # FAILED, retry scheduled in 0.2 s
        store.stale = store.pending_retries("laptop")
        assert [r.job_id for r in store.stale] == [handle.job_id]
        time.sleep(0.3)
        other = Submitor(Cluster("laptop", "local"), store=JobStore(store.path), jobs_dir=jobs)
        other.reconciler.reconcile()  # the other process creates attempt 2 in x.attempt2
        other.close()
        report = sub.reconciler.reconcile()  # this one still sees the retry pending
        assert report.errors == []
        store.stale = None
        assert sorted(p.name for p in jobs.iterdir()) == ["x", "x.attempt2"]
        assert len(sub.get_retry_family(handle.job_id)) == 2
