"""JobStore: the append-only log, projections, and refusing bad databases."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from molq import JobStore, SchemaVersionError, StoreError
from molq.core import ConcurrencyConflict, JobSpec, JobState, Observation, Observe, RecordSubmission, decide
from molq.core._events import JobCreated


def created(job_id: str, at: float = 1.0, cluster: str = "c") -> JobCreated:
    return JobCreated(
        job_id=job_id, at=at, cluster_name=cluster, scheduler="local", root_job_id=job_id,
        spec=JobSpec("argv", argv=("true",)),
    )


def submit(store: JobStore, job_id: str, now: float = 2.0) -> None:
    store.append(job_id, [created(job_id)], expected_version=0, now=1.0)
    record = store.get_record(job_id)
    store.append(job_id, decide(record, RecordSubmission("1"), now=now), expected_version=1, now=now)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_append_and_project(store):
    """Appending folds events into the jobs and transitions projections."""
    submit(store, "j1")
    record = store.get_record("j1")
    assert record.state is JobState.SUBMITTED
    assert record.version == 2
    assert [t.new_state for t in store.transitions("j1")] == [JobState.CREATED, JobState.SUBMITTED]
    assert [r.version for r in store.read_stream("j1")] == [1, 2]


def test_stale_writer_gets_a_conflict(store):
    """A writer with an old expected version is refused; the log is unchanged."""
    submit(store, "j1")
    events = decide(store.get_record("j1"), Observe(Observation(JobState.RUNNING)), now=3.0)
    with pytest.raises(ConcurrencyConflict):
        store.append("j1", events, expected_version=1, now=3.0)
    assert store.stream_version("j1") == 2


def test_batch_is_all_or_nothing(store):
    """A conflict in one stream of a batch rolls back the others."""
    submit(store, "j1")
    with pytest.raises(ConcurrencyConflict):
        store.append_batch([("j2", [created("j2")], 0), ("j1", [created("j1")], 0)], now=5.0)
    assert store.get_record("j2") is None
    assert store.last_seq() == 2


def test_events_cannot_be_updated_or_deleted(store):
    """The triggers refuse UPDATE and DELETE from any connection."""
    submit(store, "j1")
    conn = sqlite3.connect(store.path)
    for sql in ("UPDATE events SET data = x'00'", "DELETE FROM events WHERE seq = 1"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert store.last_seq() == 2


def test_rebuild_is_idempotent_and_verify_finds_tampering(store):
    """Rebuilding reproduces the projections; a tampered projection is named by verify."""
    for i in range(5):
        submit(store, f"j{i}")
    assert store.verify_projections() == []
    assert store.rebuild_projections() == 10
    first = [store.get_record(f"j{i}") for i in range(5)]
    store.rebuild_projections()
    assert [store.get_record(f"j{i}") for i in range(5)] == first
    conn = sqlite3.connect(store.path)
    conn.execute("DELETE FROM transitions WHERE job_id = 'j3'")
    conn.execute("UPDATE jobs SET record = (SELECT record FROM jobs WHERE job_id = 'j1') WHERE job_id = 'j2'")
    conn.commit()
    conn.close()
    problems = store.verify_projections()
    assert any("job j2: job_id" in p for p in problems)
    assert any(p.startswith("transitions:") for p in problems)
    store.rebuild_projections()
    assert store.verify_projections() == []


def test_garbage_file_is_refused_and_left_untouched(tmp_path):
    """A file that is not a database gives StoreError and keeps its bytes."""
    path = tmp_path / "jobs.db"
    path.write_bytes(b"not a database" * 200)
    before = digest(path)
    with pytest.raises(StoreError, match="left untouched"):
        JobStore(path)
    assert digest(path) == before


def test_truncated_database_is_refused_and_left_untouched(tmp_path):
    """A database cut short is a clear error, and the file is not modified."""
    path = tmp_path / "jobs.db"
    s = JobStore(path)
    for i in range(50):
        submit(s, f"j{i}")
    s.close()
    Path(f"{path}-wal").unlink(missing_ok=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    before = digest(path)
    with pytest.raises(StoreError):
        _open_and_verify(path)
    assert digest(path) == before


def _open_and_verify(path: Path) -> None:
    store = JobStore(path)
    try:
        store.verify_projections()
    finally:
        store.close()


def test_newer_schema_is_refused(tmp_path):
    """A database migrated by a newer molq is refused with SchemaVersionError."""
    path = tmp_path / "jobs.db"
    JobStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('molq', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="newer molq"):
        JobStore(path)


def test_directory_instead_of_file(tmp_path):
    """Pointing the store at a directory is a clear StoreError."""
    with pytest.raises(StoreError, match="is a directory"):
        JobStore(tmp_path)


def test_files_are_private_and_wal(tmp_path):
    """The store directory and file are created private; journal mode is WAL."""
    path = tmp_path / "new" / "jobs.db"
    s = JobStore(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()


CHILD = """
import sys
from molq import JobStore
from molq.core import JobSpec
from molq.core._events import JobCreated
s = JobStore(sys.argv[1])
job = sys.argv[2]
s.append(job, [JobCreated(job_id=job, at=1.0, cluster_name="c", scheduler="local", root_job_id=job,
                          spec=JobSpec("argv", argv=("true",)))], expected_version=0, now=1.0)
s.close()
"""


def test_concurrent_first_opens_migrate_once(tmp_path):
    """Several processes creating the same store at once all succeed."""
    path = str(tmp_path / "jobs.db")
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, path, f"p{i}"]) for i in range(8)]
    assert [p.wait(60) for p in procs] == [0] * 8
    s = JobStore(path)
    assert len(s.list_records(None)) == 8
    assert s.verify_projections() == []
    s.close()


def test_list_and_family_and_prefix(store):
    """Listing filters by cluster and activity; prefixes find ids."""
    submit(store, "abc1")
    store.append("abd2", [created("abd2", cluster="other")], expected_version=0, now=1.0)
    assert [r.job_id for r in store.list_records("c")] == ["abc1"]
    assert {r.job_id for r in store.list_records(None)} == {"abc1", "abd2"}
    assert store.find_job_ids("ab") == ["abc1", "abd2"] or sorted(store.find_job_ids("ab")) == ["abc1", "abd2"]
    assert store.find_job_ids("abc") == ["abc1"]
    assert store.find_job_ids("a_") == []
    assert [r.job_id for r in store.family("abc1")] == ["abc1"]


@pytest.mark.parametrize(
    ("sql", "column"),
    [
        ("UPDATE jobs SET state = 'succeeded' WHERE job_id = 'j1'", "state"),
        ("UPDATE jobs SET archived = 1 WHERE job_id = 'j1'", "archived"),
        ("UPDATE jobs SET retry_pending = 1 WHERE job_id = 'j1'", "retry_pending"),
        ("UPDATE jobs SET cluster_name = 'other' WHERE job_id = 'j1'", "cluster_name"),
    ],
)
def test_verify_checks_the_indexed_columns(store, sql, column):
    """Tampering with a listing column (not just the record blob) is named by verify."""
    submit(store, "j1")
    conn = sqlite3.connect(store.path)
    conn.execute(sql)
    conn.commit()
    conn.close()
    assert any(f"column {column}" in p for p in store.verify_projections())


def test_an_event_that_would_not_read_back_is_refused_and_nothing_is_written(store: JobStore) -> None:
    """msgspec encodes without validating; the store decodes first, so the log never holds unreadable bytes."""
    from molq.core._events import JobDependencyRecorded

    store.append("j1", [created("j1")], expected_version=0, now=1.0)
    before = store.last_seq()
    bad = JobDependencyRecorded(
        job_id="j1", at=2.0, dependency_job_id="j0", dependency_type="afterok", scheduler_dependency="afterok:1"  # type: ignore[arg-type]
    )
    with pytest.raises(StoreError, match="would not read back"):
        store.append("j1", [bad], expected_version=1, now=2.0)
    assert store.last_seq() == before
    assert store.verify_projections() == []


def test_lean_upserts_write_the_rows_of_full_upserts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Naming ``archived`` and ``retry_pending`` in the SET list only when one changes writes the same rows."""
    from tests.shell.store.test_schema import dump, fill

    from molq.shell.store import _rows

    statements: list[str] = []
    lean = JobStore(tmp_path / "lean.db")
    lean.conn.set_trace_callback(statements.append)
    fill(lean)
    lean.conn.set_trace_callback(None)
    monkeypatch.setattr(_rows, "_UPSERT_LEAN", _rows._UPSERT_FULL)
    full = JobStore(tmp_path / "full.db")
    fill(full)
    try:
        assert dump(lean.conn) == dump(full.conn)
        upserts = [sql for sql in statements if sql.startswith("INSERT INTO jobs")]
        changed = [sql for sql in upserts if "retry_pending = excluded.retry_pending" in sql]
        assert 0 < len(changed) < len(upserts)  # both variants ran
        assert lean.verify_projections() == []
    finally:
        lean.close()
        full.close()


def test_a_state_change_writes_six_pages(tmp_path: Path) -> None:
    """created -> submitted writes one page each of: events and its (stream, version) index,
    transitions and ``transitions_job``, jobs and ``jobs_cluster_state``, nothing else
    (no checkpoint row, no ``jobs_listing`` or ``jobs_awaiting_retry`` entry).
    """
    store = JobStore(tmp_path / "jobs.db")
    try:
        store.conn.execute("PRAGMA wal_autocheckpoint = 0")  # the WAL only grows: its size counts frames
        store.append("j1", [created("j1")], expected_version=0, now=1.0)
        wal = Path(f"{store.path}-wal")
        before = wal.stat().st_size
        store.append("j1", decide(store.get_record("j1"), RecordSubmission("1"), now=2.0), expected_version=1, now=2.0)
        frame = store.conn.execute("PRAGMA page_size").fetchone()[0] + 24  # WAL frame header
        assert (wal.stat().st_size - before) // frame <= 6
    finally:
        store.close()
