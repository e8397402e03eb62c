"""Collecting usage: one batched accounting call, one event per ended job, sacct's fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core import Completed, JobExecution, JobResources, JobSpec, JobState, SchedulerError
from molq.core._events import JobCreated, JobStarted, JobSubmitted, JobSucceeded
from molq.core._sched._slurm_usage import SCONTROL_NOTE
from molq.core._usage import JobUsage
from molq.shell._usage import NOT_IN_ACCOUNTING, record_usage, wants_usage
from molq.shell.schedulers._slurm import SlurmScheduler
from molq.shell.transport._local import LocalTransport


FIXTURES = Path(__file__).parent.parent / "fixtures" / "usage"
MIB = 1024**2


def captured(name: str) -> str:
    return (FIXTURES / name).read_text().split("# ---\n", 1)[1]


class Slurm(LocalTransport):
    """Answers sacct (or fails it) and scontrol from captured outputs; records every call."""

    def __init__(self, *, sacct_ok: bool = True, scontrol_ok: bool = True) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.sacct_ok, self.scontrol_ok = sacct_ok, scontrol_ok

    def run(self, argv, *, stdin=None, cwd=None, env=None, timeout=None):  # type: ignore[override]
        argv = tuple(argv)
        self.calls.append(argv)
        if argv[0] == "sacct":
            if not self.sacct_ok:
                return Completed(
                    argv, 1, "", "sacct: error: Problem talking to the database: Connection refused\n"
                )
            return Completed(argv, 0, captured("slurm_sacct_usage.txt"), "")
        if argv[:2] == ("scontrol", "show") and self.scontrol_ok:
            return Completed(argv, 0, captured("slurm_scontrol_show_job.txt"), "")
        return Completed(argv, 1, "", "slurm_load_jobs error: Unable to contact slurm controller\n")


class TestSlurmAdapter:
    def test_one_sacct_call_for_many_jobs(self):
        """Many ended jobs cost one sacct call, not one each."""
        transport = Slurm()
        found = SlurmScheduler(transport).usage_many(["1", "2", "37", "38"])
        assert set(found) == {"1", "2", "37", "38"}
        assert [call[0] for call in transport.calls] == ["sacct"]
        assert transport.calls[0][2] == "1,2,37,38"

    def test_scontrol_when_sacct_fails(self):
        """Without accounting storage, one ``scontrol show job`` gives run time, CPUs and request."""
        transport = Slurm(sacct_ok=False)
        found = SlurmScheduler(transport).usage_many(["269", "270"])
        assert [call[:3] for call in transport.calls] == [transport.calls[0][:3], ("scontrol", "show", "job")]
        usage = found["269"]
        assert (usage.source, usage.elapsed_seconds, usage.cpus) == ("scontrol", 2.0, 1)
        assert usage.requested_memory_bytes == 100 * MIB
        assert (usage.cpu_seconds, usage.max_rss_bytes, usage.note) == (None, None, SCONTROL_NOTE)
        assert "270" not in found

    def test_both_fail(self):
        """sacct and scontrol both failing is a SchedulerError (a handled failure, no event)."""
        with pytest.raises(SchedulerError, match="neither sacct nor scontrol"):
            SlurmScheduler(Slurm(sacct_ok=False, scontrol_ok=False)).usage_many(["1"])


class Accounting:
    """A scheduler whose accounting knows some jobs; counts the calls."""

    name = "slurm"

    def __init__(self, known: dict[str, JobUsage]) -> None:
        self.known = known
        self.calls: list[list[str]] = []

    def usage_many(self, scheduler_job_ids, *, job_dirs=None):
        self.calls.append(list(scheduler_job_ids))
        return {i: self.known[i] for i in scheduler_job_ids if i in self.known}


def _ended(store, job_id: str, sid: str, *, memory: str | None = "300M") -> None:
    spec = JobSpec("command", command="true", resources=JobResources(memory=memory), execution=JobExecution())
    events = [
        JobCreated(
            job_id=job_id, at=10.0, cluster_name="hpc", scheduler="slurm", root_job_id=job_id, spec=spec
        ),
        JobSubmitted(job_id=job_id, at=11.0, scheduler_job_id=sid),
        JobStarted(job_id=job_id, at=12.0, started_at=12.0),
        JobSucceeded(job_id=job_id, at=20.0, exit_code=0, finished_at=19.5),
    ]
    store.append(job_id, events, expected_version=0, now=20.0)


class TestRecordUsage:
    def test_one_event_per_job_batched(self, store):
        """One call for every ended job; each gets exactly one usage event, ever."""
        _ended(store, "a", "1")
        _ended(store, "b", "2")
        sched = Accounting({"1": JobUsage(source="sacct", elapsed_seconds=5.0, cpu_seconds=1.0, cpus=1)})
        records = [store.get_record("a"), store.get_record("b")]
        assert record_usage(store, sched, records, now=30.0) == 2  # type: ignore[arg-type]
        assert sched.calls == [["1", "2"]]
        a, b = store.get_record("a"), store.get_record("b")
        assert a.usage == JobUsage(
            source="sacct", elapsed_seconds=5.0, cpu_seconds=1.0, cpus=1, requested_memory_bytes=300 * MIB
        )
        assert b.usage is not None
        assert (b.usage.note, b.usage.elapsed_seconds) == (NOT_IN_ACCOUNTING, 7.5)  # molq's own start→finish
        assert not wants_usage(a)
        assert record_usage(store, sched, [a, b], now=40.0) == 0  # type: ignore[arg-type]
        assert sched.calls == [["1", "2"]]  # no second query
        tags = [type(r.event).__struct_config__.tag for r in store.read_stream("a")]
        assert tags.count("job.usage_recorded") == 1

    def test_active_jobs_are_not_asked_about(self, store):
        """A job that has not ended wants no usage and costs no call."""
        spec = JobSpec("command", command="true")
        created = JobCreated(
            job_id="r", at=1.0, cluster_name="hpc", scheduler="slurm", root_job_id="r", spec=spec
        )
        store.append(
            "r",
            [created, JobSubmitted(job_id="r", at=2.0, scheduler_job_id="9")],
            expected_version=0,
            now=2.0,
        )
        record = store.get_record("r")
        assert record.state is JobState.SUBMITTED
        sched = Accounting({})
        assert record_usage(store, sched, [record], now=3.0) == 0  # type: ignore[arg-type]
        assert sched.calls == []

    def test_rebuild_keeps_usage(self, store):
        """The projection carries the usage, and a rebuild from the log gives it back."""
        _ended(store, "a", "1", memory=None)
        sched = Accounting({"1": JobUsage(source="sacct", max_rss_bytes=MIB, requested_memory_bytes=4 * MIB)})
        record_usage(store, sched, [store.get_record("a")], now=30.0)  # type: ignore[arg-type]
        before = store.get_record("a")
        store.rebuild_projections()
        assert store.get_record("a") == before
        assert before.usage is not None
        assert before.usage.memory_efficiency == 0.25
        assert store.verify_projections() == []


def test_a_conflict_falls_back_to_one_job_at_a_time(store):
    """A stale record (another writer appended meanwhile) still gets its one usage event."""
    from molq.core._events import JobArchived

    _ended(store, "a", "1")
    stale = store.get_record("a")
    store.append("a", [JobArchived(job_id="a", at=25.0)], expected_version=stale.version, now=25.0)
    sched = Accounting({"1": JobUsage(source="sacct", cpu_seconds=2.0)})
    assert record_usage(store, sched, [stale], now=30.0) == 1  # type: ignore[arg-type]
    fresh = store.get_record("a")
    assert fresh.usage is not None
    assert fresh.usage.cpu_seconds == 2.0
    assert fresh.archived_at == 25.0
    assert record_usage(store, sched, [stale], now=31.0) == 0  # type: ignore[arg-type]  # stale, but usage came


def test_a_failed_query_is_a_cluster_event_not_a_crash(store, tmp_path):
    """The reconciler's pass survives a failing accounting command and logs it once."""
    from molq.shell._reconcile import JobReconciler

    class Broken(Accounting):
        def usage_many(self, scheduler_job_ids, *, job_dirs=None):
            raise SchedulerError("sacct failed", argv=("sacct",), returncode=1, stderr="down")

        def observe_many(self, ids, *, job_dirs=None):
            from molq.core import Observation

            return {i: Observation(state=JobState.SUCCEEDED, exit_code=0, finished_at=40.0) for i in ids}

    spec = JobSpec("command", command="true")
    created = JobCreated(
        job_id="q", at=1.0, cluster_name="hpc", scheduler="slurm", root_job_id="q", spec=spec
    )
    store.append(
        "q", [created, JobSubmitted(job_id="q", at=2.0, scheduler_job_id="5")], expected_version=0, now=2.0
    )
    reconciler = JobReconciler(store, Broken({}), "hpc", transport=LocalTransport(), clock=lambda: 50.0)  # type: ignore[arg-type]
    report = reconciler.reconcile()
    assert store.get_record("q").state is JobState.SUCCEEDED
    assert store.get_record("q").usage is None
    assert any("usage query failed" in e for e in report.errors)
    [failure] = store.scheduler_failures("hpc")
    assert failure.operation == "usage"


def test_lsf_asks_bhist_only_for_what_bjobs_forgot():
    """bjobs knows 102; 103 left it (CLEAN_PERIOD): one bhist for 103 only."""
    from molq.shell.schedulers._lsf import LSFScheduler, LSFSchedulerOptions

    class OpenLava(LocalTransport):
        def __init__(self) -> None:
            self.calls: list[tuple[str, ...]] = []

        def run(self, argv, *, stdin=None, cwd=None, env=None, timeout=None):  # type: ignore[override]
            argv = tuple(argv)
            self.calls.append(argv)
            if argv[0] == "bjobs":
                text = captured("openlava_bjobs_l_usage.txt")
                return Completed(
                    argv, 255, text.split("-" * 78 + "\n\nJob <103>")[0], "Job <103> is not found\n"
                )
            return Completed(argv, 0, captured("openlava_bhist_l_usage.txt"), "")

    transport = OpenLava()
    found = LSFScheduler(transport, LSFSchedulerOptions(dialect="openlava")).usage_many(["102", "103"])
    assert [c[0] for c in transport.calls] == ["bjobs", "bhist"]
    assert transport.calls[1] == ("bhist", "-l", "103")
    assert (found["102"].cpu_seconds, found["103"].cpu_seconds, found["103"].elapsed_seconds) == (
        1.0,
        1.8,
        38.0,
    )
