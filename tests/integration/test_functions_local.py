"""Python functions as jobs on the local backend (issue 16): the shared checks, then the edges."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from tests import function_jobs

import molq
from molq import (
    Cluster,
    ConfigError,
    JobFailedError,
    JobState,
    LocalTransport,
    MolqTimeoutError,
    ResultUnavailableError,
    RetentionPolicy,
    RuntimeMismatchError,
    Submitor,
    TransportError,
)
from molq.api._outcomes import recorded_summary
from molq.run_function import PAYLOAD_FILE, RESULT_FILE


@pytest.fixture(params=["runner", "wrapper"])
def sub(request, store, tmp_path, monkeypatch):
    """A local Submitor, with the local runner and with the plain wrapper (ADR 0016)."""
    if request.param == "wrapper":
        monkeypatch.setenv("MOLQ_LOCAL_RUNNER", "0")
    submitor = Submitor(Cluster(f"fn-{request.param}", "local"), store=store, jobs_dir=tmp_path / "jobs")
    yield submitor
    submitor.close()


def test_shared_function_checks(sub):
    """Values, exceptions, retries, map, as_completed, cancel and dry run (as on every backend)."""
    function_jobs.run_all(sub)


def _fake_python(tmp_path: Path, printed: str) -> tuple[str, Path]:
    """An interpreter stand-in that prints ``printed`` and counts its calls."""
    calls = tmp_path / "calls"
    path = tmp_path / "fake-python"
    path.write_text(f"#!/bin/sh\necho x >> {calls}\nprintf '%s\\n' '{printed}'\n")
    path.chmod(0o755)
    return str(path), calls


def test_version_mismatch_is_refused_before_submission(store, tmp_path):
    """An interpreter of another Python/molq version is a RuntimeMismatchError; it is probed once."""
    python, calls = _fake_python(tmp_path, '{"python": "2.7", "molq": "0.0.1", "cloudpickle": "3.1.3"}')
    sub = Submitor(Cluster("mismatch", "local"), store=store, jobs_dir=tmp_path / "jobs")
    for _ in range(2):
        with pytest.raises(RuntimeMismatchError, match=r"python 2\.7 \(here 3\.\d+\), molq 0\.0\.1") as caught:
            sub.submit_function(abs, -1, python=python)
    assert caught.value.found["python"] == "2.7"
    assert caught.value.expected["molq"] == molq.__version__
    assert calls.read_text().count("x") == 1  # probed once per cluster
    assert sub.list_jobs(include_terminal=True) == []
    assert not (tmp_path / "jobs").exists()


def test_missing_molq_on_the_target_is_named(store, tmp_path):
    """An interpreter without molq or cloudpickle is refused, naming what is missing."""
    python, _ = _fake_python(tmp_path, f'{{"python": "{sys.version_info[0]}.{sys.version_info[1]}", "molq": "", "cloudpickle": ""}}')
    sub = Submitor(Cluster("bare", "local"), store=store, jobs_dir=tmp_path / "jobs")
    with pytest.raises(RuntimeMismatchError, match=r"molq missing .*cloudpickle missing"):
        sub.submit_function(abs, -1, python=python)


def test_an_interpreter_that_does_not_run_is_a_transport_error(store, tmp_path):
    """A python= that cannot start is a TransportError naming it."""
    sub = Submitor(Cluster("nopython", "local"), store=store, jobs_dir=tmp_path / "jobs")
    with pytest.raises(TransportError, match="no-such-python"):
        sub.submit_function(abs, -1, python=str(tmp_path / "no-such-python"))


def test_bad_input_is_a_config_error(local_submitor):
    """Not a callable, an unpicklable argument, twice-given keywords, uneven map inputs."""
    sub = local_submitor
    with pytest.raises(ConfigError, match="needs a callable, got int"):
        sub.submit_function(3)
    lock = __import__("threading").Lock()
    with pytest.raises(ConfigError, match=r"cannot pickle the call to builtins\.len"):
        sub.submit_function(len, lock)
    with pytest.raises(ConfigError, match="both directly and in fn_kwargs: x"):
        sub.submit_function(dict, fn_kwargs={"x": 1}, x=2)
    with pytest.raises(ConfigError, match=r"one length, got lengths \[1, 2\]"):
        sub.map_functions(pow, [1], [2, 3])
    with pytest.raises(ConfigError, match="at least one iterable"):
        sub.map_functions(pow)
    with pytest.raises(ConfigError, match=r"molq keywords only .*: scale"):
        sub.map_functions(pow, [1], scale=2)
    with pytest.raises(ConfigError, match="retry must be a RetryPolicy"):
        sub.submit_function(pow, 1, 2, retry=3)
    assert sub.list_jobs(include_terminal=True) == []


def test_a_keyword_named_like_molqs_goes_in_fn_kwargs(local_submitor):
    """fn_kwargs reaches the function's own ``retry`` and ``resources`` parameters."""

    def echo(*, retry, resources):
        return retry, resources

    handle = local_submitor.submit_function(echo, fn_kwargs={"retry": 3, "resources": "many"})
    assert handle.result(timeout=60) == (3, "many")


def test_result_of_a_command_job_is_refused(local_submitor):
    """result() on a job that ran no function says so."""
    handle = local_submitor.submit_job(argv=["true"])
    with pytest.raises(ConfigError, match="did not run a Python function"):
        handle.result(timeout=60)


def test_duration_limit_is_a_typed_failure(local_submitor):
    """A function stopped by max_duration raises JobFailedError TIMED_OUT."""

    def slow():
        import time

        time.sleep(60)

    handle = local_submitor.submit_function(slow, max_duration="1s")
    with pytest.raises(JobFailedError, match="TIMED_OUT") as caught:
        handle.result(timeout=60)
    assert caught.value.state == "TIMED_OUT"
    assert isinstance(handle.exception(), JobFailedError)


def test_unpicklable_return_value_is_reported_as_an_exception(local_submitor):
    """A value cloudpickle cannot send back becomes a TypeError naming why."""

    def lock():
        import threading

        return threading.Lock()

    handle = local_submitor.submit_function(lock)
    with pytest.raises(TypeError, match="return value cannot be pickled"):
        handle.result(timeout=60)


def test_result_timeout(local_submitor):
    """result(timeout) raises MolqTimeoutError (a TimeoutError) while the job runs."""

    def slow():
        import time

        time.sleep(30)

    handle = local_submitor.submit_function(slow)
    with pytest.raises(MolqTimeoutError):
        handle.result(timeout=0.3)
    with pytest.raises(TimeoutError):
        list(molq.as_completed([handle], timeout=0.3))
    handle.cancel()


def test_payload_from_another_version_fails_on_the_node_with_a_clear_error(local_submitor, tmp_path):
    """A payload whose header names other versions raises RuntimeMismatchError in the job."""
    header = {"python": "3.0", "molq": "0", "cloudpickle": "0"}
    payload = tmp_path / PAYLOAD_FILE
    payload.write_bytes(pickle.dumps(header) + pickle.dumps((abs, (-1,), {})))
    env = {**os.environ, "MOLQ_JOB_DIR": str(tmp_path)}
    env.pop("MOLQ_JOB_ID", None)
    done = subprocess.run([sys.executable, "-m", "molq.run_function", str(payload)], env=env, capture_output=True, check=False)
    assert done.returncode == 1
    kind, error, text = pickle.loads((tmp_path / RESULT_FILE).read_bytes())  # noqa: S301 - the job's own file
    assert kind == "exception"
    assert isinstance(error, RuntimeMismatchError)
    assert "pickled under" in str(error)
    assert "RuntimeMismatchError" in text


def test_cleanup_removes_outcomes_small_ones_stay_in_the_log(local_submitor):
    """After cleanup a small value still comes back (inline in the log); a large one is gone."""
    sub = local_submitor
    small = sub.submit_function(str.upper, "abc")
    large = sub.submit_function(bytes, 50_000)
    assert small.result(timeout=60) == "ABC"
    assert large.result(timeout=60) == bytes(50_000)
    assert recorded_summary(sub.store, large.job_id)["inline"] is None
    removed = sub.cleanup_jobs(retention_policy=RetentionPolicy(keep_job_dirs_for_days=0))
    assert len(removed["job_dirs"]) == 2
    assert small.result() == "ABC"
    with pytest.raises(ResultUnavailableError, match="is gone"):
        large.result()


def test_tampered_outcome_is_refused(local_submitor):
    """An outcome file that no longer matches the logged sha256 is not unpickled."""
    handle = local_submitor.submit_function(abs, -4)
    assert handle.result(timeout=60) == 4
    record = local_submitor.get_job(handle.job_id)
    Path(record.metadata["molq.job_dir"], RESULT_FILE).write_bytes(b"not a pickle")
    with pytest.raises(ResultUnavailableError, match="does not match the sha256"):
        handle.result()


def test_replay_shows_the_outcome(local_submitor, store, tmp_path):
    """``molq replay`` lists the result event with its type, size and sha256."""
    handle = local_submitor.submit_function(divmod, 17, 5)
    assert handle.result(timeout=60) == (3, 2)
    assert local_submitor.get_job(handle.job_id).state is JobState.SUCCEEDED
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOLQ_")}
    env.update(MOLQ_STORE=str(store.path), HOME=str(tmp_path), NO_COLOR="1", COLUMNS="300")
    done = subprocess.run(
        [sys.executable, "-m", "molq.cli", "replay", handle.job_id],
        env=env, capture_output=True, text=True, check=False, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if "job.result_saved" in line)
    summary = recorded_summary(local_submitor.store, handle.job_id)
    assert summary["type"] == "builtins.tuple"
    assert summary["sha256"][:16] in line
    assert "builtins.tuple" in line


def test_an_exception_that_cannot_unpickle_is_sent_as_a_type_error(local_submitor):
    """An exception class that pickles but cannot be rebuilt comes back as a TypeError naming it."""

    def raise_odd():
        class OddError(Exception):
            def __init__(self, *, code):
                super().__init__(f"code {code}")

        raise OddError(code=7)

    handle = local_submitor.submit_function(raise_odd)
    with pytest.raises(TypeError, match="exception OddError: code 7 cannot be pickled") as caught:
        handle.result(timeout=60)
    assert "in raise_odd" in caught.value.__cause__.text


def test_as_completed_waits_idle_and_in_end_order(local_submitor):
    """as_completed sleeps while jobs run (little CPU) and yields the first to end first."""
    import resource
    import time

    def nap(seconds):
        import time

        time.sleep(seconds)
        return seconds

    slow, quick = local_submitor.map_functions(nap, [3.0, 1.0])

    def cpu():
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    wall0, cpu0 = time.monotonic(), cpu()
    order = [h.result() for h in molq.as_completed([slow, quick], timeout=60)]
    wall, used = time.monotonic() - wall0, cpu() - cpu0
    assert order == [1.0, 3.0]
    assert wall >= 2.0
    assert used < 0.1 * wall, f"as_completed used {used:.2f} s of CPU over {wall:.2f} s"


def test_as_completed_across_two_submitors(store, tmp_path):
    """Handles of two Submitors (two clusters) are all yielded, each once."""
    first = Submitor(Cluster("fn-a", "local"), store=store, jobs_dir=tmp_path / "a")
    second = Submitor(Cluster("fn-b", "local"), store=store, jobs_dir=tmp_path / "b")
    handles = [first.submit_function(abs, -1), second.submit_function(abs, -2), first.submit_function(abs, -3)]
    seen = list(molq.as_completed(handles, timeout=60))
    assert sorted(h.result() for h in seen) == [1, 2, 3]
    assert len({h.job_id for h in seen}) == 3


def test_cleanup_during_a_retry_back_off_keeps_the_payload(local_submitor):
    """A family waiting for its retry keeps its first directory: the retry reads the call there."""
    import time

    from molq import RetryBackoff, RetryPolicy

    def second_time_lucky():
        if molq.context().attempt == 1:
            raise ValueError("not yet")
        return "ok"

    backoff = RetryBackoff(mode="fixed", initial_seconds=3, maximum_seconds=3)
    handle = local_submitor.submit_function(second_time_lucky, retry=RetryPolicy(max_attempts=2, backoff=backoff))
    deadline = time.monotonic() + 30
    while local_submitor.get_job(handle.job_id).retry_due_at is None:
        assert time.monotonic() < deadline
        local_submitor.refresh_jobs()
        time.sleep(0.1)
    keep_none = RetentionPolicy(keep_job_dirs_for_days=0, keep_failed_job_dirs=False)
    first_dir = local_submitor.get_job(handle.job_id).metadata["molq.job_dir"]
    removed = local_submitor.cleanup_jobs(retention_policy=keep_none)
    assert first_dir not in removed["job_dirs"]
    assert Path(first_dir, PAYLOAD_FILE).exists()
    assert handle.result(timeout=60) == "ok"
    removed = local_submitor.cleanup_jobs(retention_policy=keep_none)
    assert first_dir in removed["job_dirs"]


def test_sys_exit_in_the_function_does_not_end_the_caller(local_submitor):
    """A function that calls sys.exit comes back as a RuntimeError naming SystemExit."""

    def leave():
        import sys

        sys.exit(3)

    handle = local_submitor.submit_function(leave)
    with pytest.raises(RuntimeError, match=r"raised SystemExit\(3\)") as caught:
        handle.result(timeout=60)
    assert "SystemExit" in caught.value.__cause__.text
    assert local_submitor.get_job(handle.job_id).exit_code == 1


def test_map_submits_nothing_when_one_call_cannot_be_pickled(local_submitor):
    """Every call is pickled before the first is submitted."""
    import threading

    with pytest.raises(ConfigError, match="cannot pickle"):
        local_submitor.map_functions(id, [1, threading.Lock(), 3])
    with pytest.raises(ConfigError, match="fn_kwargs must be a dict"):
        local_submitor.map_functions(id, [1], fn_kwargs=[("a", 1)])
    assert local_submitor.list_jobs(include_terminal=True) == []


def test_a_killed_interpreter_is_a_typed_failure(local_submitor):
    """The job's Python killed by a signal leaves no outcome: JobFailedError naming FAILED."""

    def die():
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)

    handle = local_submitor.submit_function(die)
    with pytest.raises(JobFailedError, match="ended FAILED without a Python outcome") as caught:
        handle.result(timeout=60)
    assert caught.value.state == "FAILED"
    assert caught.value.job_id == handle.job_id


def test_a_call_by_reference_runs_without_importing_cloudpickle(tmp_path):
    """A module function's payload names no cloudpickle: the job neither imports nor checks it."""
    from molq.api._function_call import pickle_call

    by_reference = pickle_call(divmod, (9, 4), {}, sys.executable)
    by_value = pickle_call(lambda: 1, (), {}, sys.executable)
    assert b"cloudpickle" not in by_reference.blob
    assert b"cloudpickle" in by_value.blob
    payload = tmp_path / PAYLOAD_FILE
    payload.write_bytes(by_reference.blob)
    code = f"import sys; from molq.run_function import main; code = main([{str(payload)!r}]); print('cloudpickle' in sys.modules, code)"
    env = {**os.environ, "MOLQ_JOB_DIR": str(tmp_path)}
    env.pop("MOLQ_JOB_ID", None)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "0"]
    kind, value, _ = pickle.loads((tmp_path / RESULT_FILE).read_bytes())  # noqa: S301 - the job's own file
    assert (kind, value) == ("value", (2, 1))


def test_a_value_only_cloudpickle_can_send_comes_back(local_submitor):
    """A function sent by reference that returns a lambda: the value falls back to cloudpickle."""
    handle = local_submitor.submit_function(eval, "lambda x: x * 3")
    assert handle.result(timeout=60)(5) == 15


def test_done_follows_retries_without_waiting(local_submitor):
    """done() is False while the job runs or its retry is due, True once the family ended."""
    import time

    from molq import RetryBackoff, RetryPolicy

    def fail_then_nap():
        import time

        if molq.context().attempt == 1:
            raise ValueError("again")
        time.sleep(0.5)
        return "slept"

    backoff = RetryBackoff(mode="fixed", initial_seconds=1, maximum_seconds=1)
    handle = local_submitor.submit_function(fail_then_nap, retry=RetryPolicy(max_attempts=2, backoff=backoff))
    assert handle.done() is False
    deadline = time.monotonic() + 30
    while local_submitor.get_job(handle.job_id).retry_due_at is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
        assert handle.done() is False
    assert handle.done() is False  # the first attempt failed, but its retry is due (1 s back-off)
    assert handle.result(timeout=60) == "slept"
    assert handle.done() is True
    assert handle.status() is JobState.SUCCEEDED


class _FlakyProbeTransport(LocalTransport):
    """This machine, reached as if remotely (the batched context probe), whose first probe fails."""

    name = "flaky"

    def __init__(self):
        super().__init__()
        self.failed = 0

    def run(self, argv, **kwargs):
        if "molq-context" in argv and not self.failed:
            self.failed += 1
            msg = "link dropped"
            raise TransportError(msg)
        return super().run(argv, **kwargs)


def test_a_failed_context_probe_is_read_again_next_pass(store, tmp_path):
    """The outcome summary of a job that ended during a failed probe reaches the log on a later pass."""
    transport = _FlakyProbeTransport()
    sub = Submitor(Cluster("flaky", "local", transport=transport), store=store, jobs_dir=tmp_path / "jobs")
    handle = sub.submit_function(divmod, 9, 4)
    assert handle.result(timeout=60) == (2, 1)
    for _ in range(3):
        if recorded_summary(store, handle.job_id) is not None:
            break
        sub.refresh_jobs()
    assert transport.failed == 1
    summary = recorded_summary(store, handle.job_id)
    assert summary is not None
    assert summary["repr"] == "(2, 1)"
    sub.close()
