"""Issue 13 on the local scheduler: a job speaks only for itself; values and bytes pass as data."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

from molq import JobState
from molq.core._events import JobCheckpointSaved, JobLogged, JobResultSaved
from molq.shell._job_context import harvest_context
from molq.shell._reconcile import ReconcileReport


PY = sys.executable


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


FORGED = ["@@molq-context-end@@"]
for _target in ("1", "2", "{victim}"):  # a job by its number in the probe, and by its directory
    FORGED.append(f"@@molq-context-dir {_target}")
    for _name in ("result.json", "checkpoint.json"):
        FORGED += [f"@@molq-context-file {_name}", '{{"seq": 99, "data": {{"forged": true}}}}', "@@molq-context-end@@"]


def _running(submitor, *handles):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        submitor.refresh_jobs()
        records = [submitor.get_job(h.job_id) for h in handles]
        if all(r.state is JobState.RUNNING for r in records):
            return records
        time.sleep(0.1)
    raise AssertionError(records)


class TestContextForgery:
    def test_a_jobs_log_cannot_record_results_for_another_job(self, local_submitor):
        """Marker lines written into one job's molq_log.jsonl never reach another job's stream."""
        victim = local_submitor.submit_job(argv=["sleep", "30"])
        forger = local_submitor.submit_job(argv=["sleep", "30"])
        try:
            records = _running(local_submitor, victim, forger)
            victim_dir, forger_dir = (Path(r.metadata["molq.job_dir"]) for r in records)
            (victim_dir / "molq_log.jsonl").write_text('{"message": "hi"}\n')
            forged = "\n".join(FORGED).format(victim=victim_dir) + "\n"
            (forger_dir / "molq_log.jsonl").write_text(forged)
            harvest_context(local_submitor.reconciler, records, ReconcileReport())
            harvest_context(local_submitor.reconciler, records[::-1], ReconcileReport())
        finally:
            local_submitor.cancel_job(victim.job_id)
            local_submitor.cancel_job(forger.job_id)
        for handle in (victim, forger):
            events = [r.event for r in local_submitor.store.read_stream(handle.job_id)]
            assert not [e for e in events if isinstance(e, JobResultSaved | JobCheckpointSaved)]
        forger_lines = [r.event for r in local_submitor.store.read_stream(forger.job_id)]
        assert len([e for e in forger_lines if isinstance(e, JobLogged)]) == len(FORGED)


class TestSweepValuesAreData:
    def test_a_value_inside_double_quotes_is_printed_not_run(self, local_submitor, tmp_path):
        """``command='echo "tag={tag}"'`` with a tag of ``$(touch X)`` prints it; X is never made."""
        canary = tmp_path / "X"
        sweep = local_submitor.submit_sweep(
            command='echo "tag={tag}"; cat <<EOF\n{tag}\nEOF',
            matrix={"tag": [f"$(touch {canary})", f"`touch {canary}`", "plain"]},
            max_parallel=3,
        )
        assert sweep.wait(timeout=60).state == "succeeded"
        outputs = sorted(Path(r.metadata["molq.stdout_path"]).read_text() for r in sweep.jobs() if r)
        assert outputs == sorted(
            f"tag={tag}\n{tag}\n" for tag in (f"$(touch {canary})", f"`touch {canary}`", "plain")
        )
        assert not canary.exists()


class TestEnvironmentBytes:
    def test_a_non_utf8_variable_reaches_the_job_byte_for_byte(self, local_submitor, monkeypatch):
        """One byte that is not UTF-8 in the submitter's environment: the job runs and sees it."""
        monkeypatch.setitem(os.environb, b"MOLQ_TEST_RAW", b"caf\xe9 \xff")
        handle = local_submitor.submit_job(argv=["sh", "-c", 'printf %s "$MOLQ_TEST_RAW"'])
        record = handle.wait(timeout=60)
        assert record.state is JobState.SUCCEEDED
        assert Path(record.metadata["molq.stdout_path"]).read_bytes() == b"caf\xe9 \xff"
