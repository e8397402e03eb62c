"""The fast audit split between processes: same answers, one snapshot, no processes left behind."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from molq.core import JobSpec
from molq.core._events import (
    JobCreated,
    JobDependencyRecorded,
    JobEvent,
    JobFailed,
    JobRetryScheduled,
    JobStarted,
    JobSubmitted,
    JobSucceeded,
)
from molq.core._sweep_events import SweepCell, SweepCellLaunched, SweepCreated
from molq.shell.store import _verify, _verify_fast
from molq.shell.store._store import JobStore


def finished_job(job_id: str, at: float = 1.0) -> list[JobEvent]:
    return [
        JobCreated(
            job_id=job_id,
            at=at,
            cluster_name="k",
            scheduler="local",
            root_job_id=job_id,
            spec=JobSpec("argv", argv=("true",)),
        ),
        JobSubmitted(job_id=job_id, at=at, scheduler_job_id=f"s{job_id}"),
        JobStarted(job_id=job_id, at=at + 1, started_at=at + 1, raw_state="running"),
        JobSucceeded(job_id=job_id, at=at + 2, exit_code=0, finished_at=at + 2, raw_state="exited 0"),
    ]


def _fill(store: JobStore, n: int) -> None:
    store.append_batch([(f"j{i:04d}", finished_job(f"j{i:04d}", float(i)), 0) for i in range(n)], now=1.0)
    dependent = [
        finished_job("j9999")[0],
        JobDependencyRecorded(
            job_id="j9999",
            at=2.0,
            dependency_job_id="j0001",
            dependency_type="after_success",
            scheduler_dependency="afterok:sj0001",
        ),
    ]
    store.append("j9999", dependent, expected_version=0, now=2.0)
    # a retry whose next attempt is never created (retry_pending = 1), and one whose attempt exists
    for job_id, following in (("r1", "r1-next"), ("r2", "j0002")):
        events = [
            *finished_job(job_id)[:3],
            JobFailed(job_id=job_id, at=4.0, exit_code=1, finished_at=4.0, raw_state="exited 1"),
            JobRetryScheduled(job_id=job_id, at=5.0, next_job_id=following, due_at=6.0),
        ]
        store.append(job_id, events, expected_version=0, now=5.0)
    cells = (SweepCell(index=0, job_id="j0000", args=(("x", 0),)),)
    store.append(
        "sw",
        [
            SweepCreated(
                sweep_id="sw",
                at=1.0,
                cluster_name="k",
                scheduler="local",
                spec=JobSpec("argv", argv=("echo", "{x}")),
                job_dir="/j/sw",
                cells=cells,
                max_parallel=1,
            )
        ],
        expected_version=0,
        now=1.0,
    )
    store.append(
        "sw", [SweepCellLaunched(sweep_id="sw", at=2.0, index=0, job_id="j0000")], expected_version=1, now=2.0
    )


@pytest.fixture
def big(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A store of ~200 jobs, checked in ranges of about 40 events."""
    monkeypatch.setattr(_verify_fast, "RANGE_EVENTS", 40)
    store = JobStore(tmp_path / "jobs.db")
    _fill(store, 200)
    yield store
    store.close()


def _fast(store: JobStore, workers: int = 2) -> bool:
    return _verify_fast.projections_match(store._conn, store.path, workers=workers, threshold=0)


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_a_sound_store_passes_in_any_number_of_processes(big, workers):
    assert big._conn.execute(
        "SELECT retry_pending FROM jobs WHERE job_id IN ('r1', 'r2') ORDER BY job_id"
    ).fetchall() == [(1,), (0,)]
    assert _fast(big, workers)
    assert _verify.verify_store(big._conn, big.path, threshold=0) == []


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE jobs SET state = 'bogus' WHERE job_id = 'j0150'",
        "UPDATE jobs SET retry_pending = 0 WHERE job_id = 'r1'",
        "UPDATE jobs SET retry_pending = 1 WHERE job_id = 'r2'",
        "DELETE FROM transitions WHERE job_id = 'j0199' AND new_state = 'running'",
        "INSERT INTO dependencies VALUES (99999, 'j0100', 'j0001', 'after_success', 'afterok:1')",
        "DELETE FROM jobs WHERE job_id = 'j0000'",
        "UPDATE sweeps SET record = CAST(replace(CAST(record AS TEXT), '\"max_parallel\":1', '\"max_parallel\":2') AS BLOB)",
    ],
)
def test_tampering_is_found_and_named_as_the_exact_audit_names_it(big, sql):
    big._conn.execute(sql)
    assert big._conn.total_changes
    assert not _fast(big)
    problems = _verify.verify_store(big._conn, big.path, threshold=0)
    assert problems
    assert problems == _verify._verify(big._conn)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_commit_during_the_check_makes_it_say_no(big, monkeypatch, workers):
    """A range already found sound is tampered with by another connection: no, then the exact audit.

    This process checks ranges from the first one on (children from the last), so ``j0000``
    is never looked at again: only the unchanged ``data_version`` rule can catch it.
    """
    other = JobStore(big.path)
    check = _verify_fast.check_range
    calls = []

    def check_then_tamper(conn, bounds):
        ok = check(conn, bounds)
        if not calls:
            assert bounds[0] is None
            other._conn.execute("UPDATE jobs SET state = 'bogus' WHERE job_id = 'j0000'")
        calls.append(bounds)
        return ok

    monkeypatch.setattr(_verify_fast, "check_range", check_then_tamper)
    try:
        assert not _fast(big, workers)
        problems = _verify.verify_store(big._conn, big.path, threshold=0)
    finally:
        other.close()
    assert len(calls) > 2
    assert problems == ["job j0000: column state is 'bogus' in the projection but 'succeeded' in the log"]


def test_a_concurrent_writer_never_makes_it_wrong(big):
    """Another store appends jobs meanwhile; each audit answers for some consistent state."""
    stop = threading.Event()

    def write() -> None:
        with JobStore(big.path) as other:
            i = 0
            while not stop.is_set():
                other.append(f"w{i:05d}", finished_job(f"w{i:05d}"), expected_version=0, now=1.0)
                i += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        results = [_verify.verify_store(big._conn, big.path, threshold=0) for _ in range(3)]
    finally:
        stop.set()
        writer.join()
    assert results == [[], [], []]
    assert _fast(big)


def test_in_a_transaction_it_leaves_the_answer_to_the_exact_audit(big):
    big._conn.execute("BEGIN")
    try:
        assert not _fast(big)
    finally:
        big._conn.execute("ROLLBACK")


def _crews(monkeypatch: pytest.MonkeyPatch) -> list[_verify_fast._Crew]:
    made: list[_verify_fast._Crew] = []

    class Recorded(_verify_fast._Crew):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(_verify_fast, "_Crew", Recorded)
    return made


def test_a_child_that_dies_means_no_and_the_exact_audit_answers(big, monkeypatch):
    crews = _crews(monkeypatch)
    monkeypatch.setattr(_verify_fast, "_CHILD", "import os; os._exit(3)")
    assert not _fast(big)
    assert _verify.verify_store(big._conn, big.path, threshold=0) == []
    assert crews
    assert all(child.returncode == 3 for crew in crews for child in crew.children)


def test_interrupted_it_leaves_no_process_behind(big, monkeypatch):
    crews = _crews(monkeypatch)

    def interrupt(conn, bounds):
        raise KeyboardInterrupt

    monkeypatch.setattr(_verify_fast, "check_range", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _fast(big, workers=3)
    assert [len(crew.children) for crew in crews] == [2]
    assert all(child.returncode is not None for child in crews[0].children)
    assert not big._conn.in_transaction


def test_small_logs_stay_in_this_process(big, monkeypatch):
    crews = _crews(monkeypatch)
    assert _verify_fast.projections_match(big._conn, big.path, workers=2, threshold=10**9)
    assert [len(crew.children) for crew in crews] == [0]
