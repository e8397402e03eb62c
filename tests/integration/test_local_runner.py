"""The local runner (ADR 0016): what it must guarantee beyond the per-job wrapper's tests.

The lifecycle itself is covered by ``test_local_backend.py`` (run in both modes) and
the conformance suite; these tests are about the runner process: sharing, dying,
hanging, idling, who may talk to it, and what environment the jobs get.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from molq import Cluster, JobState, SchedulerError, Submitor
from molq.shell.schedulers import _runner_client
from molq.shell.schedulers._runner_client import runner_address


def _runner_pids(address: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if address.encode() in cmdline and stat[stat.rfind(")") + 2] != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.fixture
def jobs(tmp_path: Path) -> Path:
    root = tmp_path / "jobs"
    root.mkdir()
    return root


@pytest.fixture
def submitor(store, jobs: Path):
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=jobs)
    yield sub
    sub.close()


def _job_dir(sub: Submitor, job_id: str) -> Path:
    return Path(sub.get_job(job_id).metadata["molq.job_dir"])


def _pids(job_dir: Path) -> tuple[int, int]:
    """The job's pid and its runner's, from the job dir's ``pid`` file."""
    job, runner = (job_dir / "pid").read_text().split("\n")[:2]
    return int(job), int(runner)


def test_a_job_is_started_by_the_runner_and_its_id_is_the_job_pid(submitor, jobs):
    """``pid`` names the job (the scheduler id: its process group), then its runner."""
    record = submitor.submit_job(argv=["true"]).wait(timeout=30)
    job_dir = _job_dir(submitor, record.job_id)
    assert record.state is JobState.SUCCEEDED
    assert not (job_dir / "runner.pid").exists()
    assert not (job_dir / "wrapper.pid").exists()
    job, runner = _pids(job_dir)
    assert record.scheduler_job_id == str(job)
    assert runner in _runner_pids(runner_address(str(jobs)))


def test_processes_submitting_to_one_jobs_root_share_one_runner(submitor, jobs, tmp_path):
    """Four processes racing to start the runner end up with exactly one."""
    code = (
        "import sys; from molq import Cluster, JobStore, Submitor;"
        "s = Submitor(Cluster('laptop', 'local'), store=JobStore(sys.argv[1]), jobs_dir=sys.argv[2]);"
        "print(s.submit_job(argv=['true']).wait(timeout=30).state.value); s.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / f"s{i}.db"), str(jobs)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert outs == ["succeeded"] * 4
    runners = {_pids(p.parent)[1] for p in jobs.glob("*/pid")}
    assert len(runners) == 1, runners


def test_jobs_outlive_a_killed_runner_and_their_exit_codes_are_kept(submitor, jobs):
    """SIGKILL of the runner: running jobs go on, and end with the code their body records."""
    ok = submitor.submit_job(command="sleep 1")
    bad = submitor.submit_job(command="sleep 1; (exit 3)")
    runner = _pids(_job_dir(submitor, ok.job_id))[1]
    os.kill(runner, signal.SIGKILL)
    assert submitor.get_job(ok.job_id).state in (JobState.SUBMITTED, JobState.RUNNING)
    assert ok.wait(timeout=30).state is JobState.SUCCEEDED
    failed = bad.wait(timeout=30)
    assert (failed.state, failed.exit_code) == (JobState.FAILED, 3)
    after = submitor.submit_job(argv=["true"]).wait(timeout=30)  # a new runner takes over
    assert after.state is JobState.SUCCEEDED
    assert _pids(_job_dir(submitor, after.job_id))[1] != runner


def test_a_hung_runner_makes_submission_fail_and_never_starts_the_job_later(submitor, jobs, monkeypatch):
    """A stopped runner: the submit fails with a typed error; once resumed, the job is not run."""
    submitor.submit_job(argv=["true"]).wait(timeout=30)
    [runner] = _runner_pids(runner_address(str(jobs)))
    monkeypatch.setattr(_runner_client, "REPLY_TIMEOUT_S", 0.5)
    os.kill(runner, signal.SIGSTOP)
    try:
        with pytest.raises(SchedulerError, match="did not answer"):
            submitor.submit_job(command="touch started")
    finally:
        os.kill(runner, signal.SIGCONT)
    [record] = [r for r in submitor.list_jobs(include_terminal=True) if r.state is JobState.FAILED]
    assert "did not answer" in record.failure_reason
    job_dir = _job_dir(submitor, record.job_id)
    time.sleep(0.5)
    assert (job_dir / "status").read_text() == "143\n"  # refused at the start: cancel marker
    assert not (job_dir / "pid").exists()
    assert not (Path.cwd() / "started").exists()


def test_the_runner_leaves_when_idle(submitor, jobs, monkeypatch):
    """No jobs for MOLQ_LOCAL_RUNNER_IDLE seconds: the runner exits; the next job starts a new one."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER_IDLE", "0.3")
    submitor.submit_job(argv=["true"]).wait(timeout=30)
    address = runner_address(str(jobs))
    deadline = time.monotonic() + 10
    while _runner_pids(address) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _runner_pids(address) == []
    assert submitor.submit_job(argv=["true"]).wait(timeout=30).state is JobState.SUCCEEDED


def test_each_job_gets_the_environment_of_its_submission(submitor, monkeypatch):
    """The runner was started earlier, but a job sees the submitter's environment of now."""
    submitor.submit_job(argv=["true"]).wait(timeout=30)
    monkeypatch.setenv("MOLQ_TEST_LATE", "late value")
    record = submitor.submit_job(command='printf %s "$MOLQ_TEST_LATE"').wait(timeout=30)
    assert Path(record.metadata["molq.stdout_path"]).read_text() == "late value"


@pytest.mark.parametrize("runner", ["1", "0"])
def test_jobs_get_default_signal_dispositions(submitor, monkeypatch, runner):
    """Python ignores SIGPIPE; jobs must not inherit that (``yes | head`` ends quietly), either way."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", runner)
    record = submitor.submit_job(command="yes | head -n 1").wait(timeout=30)
    assert record.state is JobState.SUCCEEDED
    assert Path(record.metadata["molq.stderr_path"]).read_text() == ""


def test_garbage_on_the_socket_is_refused_and_the_runner_keeps_serving(submitor, jobs):
    """A malformed request gets a 'refused' reply; other clients are unaffected."""
    submitor.submit_job(argv=["true"]).wait(timeout=30)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(f"\0{runner_address(str(jobs))}")
        missing = b'{"type": "run", "job_dir": "/nonexistent/x", "stdout": "/dev/null", "stderr": "/dev/null", "env": {}}'
        sock.sendall(b'{"type": "run", "job_dir": 5}\nnot json at all\n' + missing + b"\n")
        replies = b""
        while replies.count(b"\n") < 3:
            replies += sock.recv(4096)
    assert replies.count(b'"refused"') == 3, replies
    assert submitor.submit_job(argv=["true"]).wait(timeout=30).state is JobState.SUCCEEDED


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_use_the_runner(submitor, jobs):
    """Abstract sockets have no file permissions: the runner checks the peer's uid."""
    submitor.submit_job(argv=["true"]).wait(timeout=30)
    address = runner_address(str(jobs))
    code = (
        "import os, socket, sys; os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(5)\n"
        "s.connect(chr(0) + sys.argv[1])\n"
        "try:\n"
        "    s.sendall(b'{}' + bytes([10])); print('served' if s.recv(100) else 'closed')\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print('closed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, address], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.stdout.strip() == "closed", done


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_a_runner_socket_held_by_another_user_is_never_sent_a_job(submitor, jobs, caplog):
    """Anyone can bind an abstract name first: the client checks the listener's uid too.

    Otherwise a squatter would receive every job request, with the submitter's whole
    environment; the job must still run (through the sh wrapper) and nothing be sent.
    """
    address = runner_address(str(jobs))
    code = (
        "import os, socket, sys; os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(chr(0) + sys.argv[1]); s.listen(8)\n"
        "print('listening', flush=True)\n"
        "s.settimeout(20); got = 0\n"
        "try:\n"
        "    while True:\n"
        "        c, _ = s.accept(); c.settimeout(2)\n"
        "        try:\n"
        "            got += len(c.recv(1 << 20))\n"
        "        except OSError:\n"
        "            pass\n"
        "        print('received', got, flush=True)\n"
        "except OSError:\n"
        "    pass\n"
    )
    squatter = subprocess.Popen(
        [sys.executable, "-c", code, address], stdout=subprocess.PIPE, text=True
    )
    try:
        assert squatter.stdout is not None
        assert squatter.stdout.readline().strip() == "listening"
        with caplog.at_level("WARNING"):
            record = submitor.submit_job(argv=["true"]).wait(timeout=30)
        assert record.state is JobState.SUCCEEDED
        assert (_job_dir(submitor, record.job_id) / "wrapper.pid").exists()
        assert "held by uid 65534" in caplog.text
    finally:
        squatter.kill()
        out, _ = squatter.communicate(timeout=10)
    assert all(line.split()[-1] == "0" for line in out.splitlines() if line.startswith("received")), out


def _status_written(job_dir: Path) -> Path:
    """The job's ``status`` file, once the runner has written it (just after its notice)."""
    status = job_dir / "status"
    deadline = time.monotonic() + 10
    while not status.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return status


def test_an_end_notice_is_the_observation_without_reading_status(submitor, jobs):
    """The runner tells the waiting submitter before it writes ``status`` (ADR 0016).

    The notice carries the status facts, so an observation made from it (no status file
    yet) is the one the file gives afterwards, end time included.
    """
    from molq.shell.schedulers._local_probe import noticed_end, probe_dir
    from molq.shell.schedulers._runner import Ended

    record = submitor.submit_job(argv=["sh", "-c", "exit 3"]).wait(timeout=30)
    job_dir = _job_dir(submitor, record.job_id)
    status = _status_written(job_dir)
    at = status.stat().st_mtime
    from_file = probe_dir(str(job_dir), lambda pid: False)
    from_notice = noticed_end(str(job_dir), Ended(job_dir=str(job_dir), rc=int(status.read_text()), at=at))
    assert from_notice == from_file
    assert (record.state, record.exit_code) == (JobState.FAILED, 3)
    assert record.finished_at is not None
    assert abs(record.finished_at - at) < 1.0


def test_a_noticed_end_is_recorded_though_status_is_not_written_yet(submitor, jobs, tmp_path):
    """An observation uses a taken notice, not the files, and uses it once."""
    from molq.shell.schedulers._runner import Ended

    record = submitor.submit_job(argv=["true"]).wait(timeout=30)
    job_dir = _job_dir(submitor, record.job_id)
    _status_written(job_dir).unlink()  # as if the runner had not written it yet
    scheduler = submitor.reconciler.scheduler
    scheduler._notices[str(job_dir)] = Ended(job_dir=str(job_dir), rc=7, at=123.0)
    sid = record.scheduler_job_id
    first = scheduler.observe_many([sid], job_dirs={sid: str(job_dir)})[sid]
    assert (first.state, first.exit_code, first.finished_at) == (JobState.FAILED, 7, 123.0)
    again = scheduler.observe_many([sid], job_dirs={sid: str(job_dir)})[sid]
    assert again.state is JobState.RUNNING  # the files again: its runner lives and wrote no status


def test_job_dirs_of_older_runners_with_a_runner_pid_file_are_still_read(tmp_path):
    """Runners before 2026-11-23 wrote their pid to ``runner.pid``, the job's alone to ``pid``."""
    from molq.shell.schedulers._local_probe import probe_dir

    job_dir = tmp_path / "job"
    job_dir.mkdir()
    body = subprocess.Popen(["sleep", "30"])
    try:
        (job_dir / "pid").write_text(f"{body.pid}\n")
        assert probe_dir(str(job_dir), lambda pid: False).raw_state == "not started"
        (job_dir / "runner.pid").write_text(f"{os.getpid()}\n")
        alive = {os.getpid()}
        assert probe_dir(str(job_dir), alive.__contains__).state is JobState.RUNNING
        (job_dir / "exit_code").write_text("4\n")
        ended = probe_dir(str(job_dir), lambda pid: False)  # runner and body gone
        assert (ended.state, ended.exit_code) == (JobState.FAILED, 4)
    finally:
        body.kill()
        body.wait()


def test_with_the_runner_disabled_the_wrapper_runs_jobs(submitor, monkeypatch):
    """MOLQ_LOCAL_RUNNER=0 keeps the per-job sh wrapper (ADR 0006)."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", "0")
    record = submitor.submit_job(argv=["true"]).wait(timeout=30)
    job_dir = _job_dir(submitor, record.job_id)
    assert record.state is JobState.SUCCEEDED
    assert (job_dir / "wrapper.pid").exists()
    assert not (job_dir / "runner.pid").exists()
