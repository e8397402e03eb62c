"""Sweeps, job context, live subscriptions and duration limits on the local scheduler."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from molq import Cluster, JobState, RetryBackoff, RetryPolicy, SpecError, Submitor
from molq.core._events import JobCheckpointSaved, JobLogged, JobResultSaved


PY = sys.executable
FAST_RETRY = RetryBackoff(mode="fixed", initial_seconds=0.1, maximum_seconds=0.1)


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


class TestSweeps:
    def test_cells_run_with_their_arguments_and_aggregate(self, local_submitor, tmp_path):
        """Every cell runs once with its values; the sweep ends succeeded with counts."""
        out = tmp_path / "out"
        out.mkdir()
        sweep = local_submitor.submit_sweep(
            command=f"echo {{lr}} {{opt}} > {out}/{{lr}}-{{opt}}.txt",
            matrix={"lr": [0.1, 0.01], "opt": ["adam", "sgd"]},
            max_parallel=2,
        )
        status = sweep.wait(timeout=60, interval=0.1)
        assert status.state == "succeeded"
        assert status.count("succeeded") == 4
        assert sorted(p.name for p in out.iterdir()) == [
            "0.01-adam.txt",
            "0.01-sgd.txt",
            "0.1-adam.txt",
            "0.1-sgd.txt",
        ]
        assert (out / "0.1-sgd.txt").read_text() == "0.1 sgd\n"
        jobs = sweep.jobs()
        assert all(j is not None and j.metadata["molq.sweep_id"] == sweep.sweep_id for j in jobs)

    def test_max_parallel_bounds_active_cells(self, local_submitor, tmp_path):
        """No more than max_parallel cells are ever running at once."""
        log = tmp_path / "log"
        cmd = f"echo start >> {log}; sleep 0.4; echo end >> {log}"
        sweep = local_submitor.submit_sweep(
            command=cmd + " # {i}", matrix={"i": list(range(5))}, max_parallel=2
        )
        seen = 0
        deadline = time.monotonic() + 60
        while not local_submitor.get_sweep(sweep.sweep_id).is_final and time.monotonic() < deadline:
            local_submitor.refresh_jobs()
            active = [j for j in sweep.jobs() if j is not None and not j.state.is_terminal]
            seen = max(seen, len(active))
            time.sleep(0.05)
        assert local_submitor.get_sweep(sweep.sweep_id).state == "succeeded"
        assert 1 <= seen <= 2
        lines = log.read_text().split()
        running = peak = 0
        for word in lines:
            running += 1 if word == "start" else -1
            peak = max(peak, running)
        assert peak <= 2

    def test_fail_fast_stops_launching(self, local_submitor):
        """After the first failed cell no further cell starts; the rest are skipped."""
        sweep = local_submitor.submit_sweep(
            command="exit {code}", matrix={"code": [3, 0, 0, 0]}, max_parallel=1, fail_fast=True
        )
        status = sweep.wait(timeout=60, interval=0.1)
        assert status.state == "failed"
        assert status.count("failed") == 1
        assert status.count("skipped") == 3
        assert status.record.stop_reason == "fail_fast: cell 0 ended failed"

    def test_cancel_drains_pending_cells(self, local_submitor):
        """Cancelling a sweep cancels the running cell and never starts the pending ones."""
        sweep = local_submitor.submit_sweep(command="sleep 30 # {i}", matrix={"i": [1, 2, 3]}, max_parallel=1)
        status = sweep.cancel()
        assert status.count("skipped") == 2
        final = sweep.wait(timeout=60, interval=0.1)
        assert final.state == "cancelled"
        assert final.count("cancelled") == 1

    def test_sweep_resumes_after_the_submitting_process_is_gone(self, local_submitor, store):
        """A new Submitor on the same store (a daemon) finishes a sweep it did not start."""
        sweep = local_submitor.submit_sweep(command="true # {i}", matrix={"i": [1, 2, 3]}, max_parallel=1)
        other = Submitor(Cluster("laptop", "local"), store=type(store)(store.path))
        deadline = time.monotonic() + 60
        while not other.get_sweep(sweep.sweep_id).is_final and time.monotonic() < deadline:
            other.run_daemon(once=True, run_cleanup=False)
            time.sleep(0.05)
        assert other.get_sweep(sweep.sweep_id).state == "succeeded"
        assert store.verify_projections() == []
        store.rebuild_projections()
        assert store.verify_projections() == []

    def test_invalid_templates_write_nothing(self, local_submitor, store):
        """An unknown placeholder or an empty axis is refused before anything is recorded."""
        with pytest.raises(SpecError, match="names no sweep argument"):
            local_submitor.submit_sweep(command="echo {nope}", matrix={"lr": [1]})
        with pytest.raises(SpecError, match="sweep axis 'lr' has no values"):
            local_submitor.submit_sweep(command="echo {lr}", matrix={"lr": []})
        assert store.last_seq() == 0


class TestContext:
    def test_log_checkpoint_result_are_recorded(self, local_submitor, tmp_path):
        """context() exposes the job's identity; its log, checkpoint and result become events."""
        script = _script(
            tmp_path,
            "job.py",
            """
            import molq
            ctx = molq.context()
            ctx.log(f"hello from {ctx.job_id} attempt {ctx.attempt}", "WARNING")
            ctx.save_checkpoint({"step": 1})
            ctx.save_checkpoint({"step": 2})
            ctx.save_result({"loss": 0.5})
            print(ctx.is_cancelled, ctx.checkpoint)
        """,
        )
        handle = local_submitor.submit_job(argv=[PY, script])
        record = handle.wait(timeout=60)
        assert record.state is JobState.SUCCEEDED
        events = [r.event for r in local_submitor.store.read_stream(handle.job_id)]
        logs = [e for e in events if isinstance(e, JobLogged)]
        assert [(e.message, e.level) for e in logs] == [(f"hello from {handle.job_id} attempt 1", "WARNING")]
        checkpoints = [e for e in events if isinstance(e, JobCheckpointSaved)]
        assert checkpoints[-1].seq == 2
        assert checkpoints[-1].data == '{"step":2}'
        assert [e.data for e in events if isinstance(e, JobResultSaved)] == ['{"loss":0.5}']
        assert Path(record.metadata["molq.stdout_path"]).read_text() == "False None\n"

    def test_retry_starts_from_the_last_checkpoint(self, local_submitor, tmp_path):
        """The second attempt sees the first attempt's last checkpoint."""
        script = _script(
            tmp_path,
            "job.py",
            """
            import molq, sys
            ctx = molq.context()
            if ctx.attempt == 1:
                ctx.save_checkpoint({"epoch": 7})
                sys.exit(1)
            print(ctx.attempt, ctx.checkpoint["epoch"])
        """,
        )
        retry = RetryPolicy(max_attempts=2, backoff=FAST_RETRY)
        handle = local_submitor.submit_job(argv=[PY, script], retry=retry)
        record = handle.wait(timeout=60)
        assert record.attempt == 2
        assert record.state is JobState.SUCCEEDED
        assert Path(record.metadata["molq.stdout_path"]).read_text() == "2 7\n"

    def test_cancel_is_visible_to_the_job(self, local_submitor, tmp_path):
        """is_cancelled turns true once a cancel is requested."""
        flag = tmp_path / "saw-cancel"
        ready = tmp_path / "ready"
        script = _script(
            tmp_path,
            "job.py",
            f"""
            import molq, time, signal, sys
            ctx = molq.context()
            def on_term(*_):
                if ctx.is_cancelled:
                    open({str(flag)!r}, "w").write("yes")
                sys.exit(143)
            signal.signal(signal.SIGTERM, on_term)
            open({str(ready)!r}, "w").close()
            time.sleep(30)
        """,
        )
        handle = local_submitor.submit_job(argv=[PY, script])
        deadline = time.monotonic() + 30
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        handle.cancel()
        assert handle.wait(timeout=30).state is JobState.CANCELLED
        assert flag.read_text() == "yes"


class TestDuration:
    def test_job_past_max_duration_ends_timed_out(self, local_submitor):
        """A job running past max_duration is cancelled and ends TIMED_OUT with the reason."""
        handle = local_submitor.submit_job(command="sleep 30", max_duration="1s")
        record = handle.wait(timeout=30)
        assert record.state is JobState.TIMED_OUT
        assert record.failure_reason == "duration limit reached"
        assert Path(record.metadata["molq.job_dir"], "cancel_requested").exists()


class TestSubscriptions:
    def test_events_from_another_process_are_yielded(self, local_submitor, store):
        """A subscription sees events another writer appends, following the job family."""
        other = Submitor(Cluster("laptop", "local"), store=type(store)(store.path))
        received: list[str] = []

        def consume() -> None:
            for item in local_submitor.subscribe_events(from_seq=0, poll_interval=0.05, timeout=20):
                received.append(item.event.__struct_config__.tag)
                if received[-1] == "job.succeeded":
                    return

        thread = threading.Thread(target=consume)
        thread.start()
        time.sleep(0.2)
        other.submit_job(command="true").wait(timeout=30)
        thread.join(timeout=30)
        assert received[0] == "job.created"
        assert "job.submitted" in received
        assert received[-1] == "job.succeeded"

    def test_async_subscription_filters_by_job(self, local_submitor):
        """asubscribe_events yields only the requested job's events."""
        noise = local_submitor.submit_job(command="true")
        wanted = local_submitor.submit_job(command="true")

        async def collect() -> list[str]:
            seen = []
            async for item in local_submitor.asubscribe_events([wanted.job_id], from_seq=0, timeout=5):
                seen.append(item.stream)
                if item.event.__struct_config__.tag == "job.succeeded":
                    break
            return seen

        local_submitor.watch_jobs([noise.job_id, wanted.job_id], timeout=30)
        streams = asyncio.run(collect())
        assert streams
        assert set(streams) == {wanted.job_id}

    def test_logs_follow_until_the_job_ends(self, local_submitor):
        """subscribe_logs yields each stdout line, including a last line without newline."""
        handle = local_submitor.submit_job(
            command="for i in 1 2 3; do echo line $i; sleep 0.2; done; printf tail"
        )
        lines = list(local_submitor.subscribe_logs(handle.job_id, poll_interval=0.05, timeout=30))
        assert lines == ["line 1", "line 2", "line 3", "tail"]
