"""Schema migrations: a store written before m004 migrates on open and keeps every projection row."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from molq import JobStore
from molq.core import (
    ArchiveJob,
    JobSpec,
    JobState,
    Observation,
    Observe,
    RecordDependency,
    RecordSubmission,
    RequestCancel,
    ScheduleRetry,
    decide,
)
from molq.core._events import JobCreated
from molq.shell.store import _store
from molq.shell.store._schema import (
    KNOWN_MIGRATIONS,
    MIGRATIONS_TABLE,
    PROJECTION_TABLES,
    applied_migrations,
    build_migrations,
)


M003 = frozenset({"m001_event_log", "m002_sweeps", "m003_jobs_listing"})


def created(job_id: str, *, previous: str | None = None, attempt: int = 1) -> JobCreated:
    return JobCreated(
        job_id=job_id, at=1.0, cluster_name="c", scheduler="local", root_job_id=previous or job_id,
        attempt=attempt, previous_attempt_job_id=previous, spec=JobSpec("argv", argv=("true",)),
    )


def run(store: JobStore, job_id: str, *commands: Any, now: float = 2.0) -> None:
    """Decide and append each command in turn (one append per command, as the shell does)."""
    for command in commands:
        record = store.get_record(job_id)
        assert record is not None
        store.append(job_id, decide(record, command, now=now), expected_version=record.version, now=now)


def fill(store: JobStore) -> None:
    """Jobs in every shape the flags take: archived, waiting for a retry, retried, cancelled, with an edge."""
    for job_id in ("done", "waits", "retried", "cancelled", "downstream"):
        store.append(job_id, [created(job_id)], expected_version=0, now=1.0)
    run(store, "done", RecordSubmission("1"), Observe(Observation(JobState.SUCCEEDED)), ArchiveJob())
    run(store, "waits", RecordSubmission("2"), Observe(Observation(JobState.FAILED)), ScheduleRetry("waits-2", 60.0))
    run(store, "retried", RecordSubmission("3"), Observe(Observation(JobState.FAILED)), ScheduleRetry("retried-2", 0.0))
    store.append("retried-2", [created("retried-2", previous="retried", attempt=2)], expected_version=0, now=3.0)
    run(store, "cancelled", RequestCancel("no longer needed", before_submission=True))
    run(store, "downstream", RecordDependency("done", "after_success", "afterok:1"), RecordSubmission("4"))


def dump(conn: sqlite3.Connection, tables: tuple[str, ...] = PROJECTION_TABLES) -> dict[str, list[tuple[Any, ...]]]:
    return {table: conn.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid").fetchall() for table in tables}  # noqa: S608


def indexes(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL")
    return dict(rows.fetchall())


@pytest.fixture
def m003_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A filled store at schema m003, its checkpoint rows written as molq did before m004."""
    from sqlite_utils import Database

    path = tmp_path / "jobs.db"
    db = Database(path)
    build_migrations().apply(db, stop_before="m004_lean_appends")
    db.close()
    with monkeypatch.context() as patch:
        patch.setattr(_store, "KNOWN_MIGRATIONS", M003)  # this molq, with the m003 schema
        store = JobStore(path)
        assert applied_migrations(store.conn) == M003
        fill(store)
        store.conn.execute(
            "INSERT INTO projection_checkpoints (name, last_seq) VALUES ('jobs', ?)", (store.last_seq(),)
        )
        store.close()
    return path


def test_m003_store_migrates_on_open_and_keeps_every_row(m003_store: Path) -> None:
    """Opening migrates: the checkpoint table and the full index go, rows stay, and they equal a rebuild."""
    conn = sqlite3.connect(m003_store)
    before = dump(conn)
    flags = {row[1]: (row[8], row[9]) for row in before["jobs"]}  # (archived, retry_pending)
    assert flags == {"done": (1, 0), "waits": (0, 1), "retried": (0, 0), "cancelled": (0, 0),
                     "downstream": (0, 0), "retried-2": (0, 0)}
    assert conn.execute("SELECT name FROM projection_checkpoints").fetchall() == [("jobs",)]
    assert "jobs_retry_pending" in indexes(conn)
    conn.close()

    store = JobStore(m003_store)
    try:
        assert applied_migrations(store.conn) == KNOWN_MIGRATIONS
        assert dump(store.conn) == before
        tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "projection_checkpoints" not in tables
        assert set(PROJECTION_TABLES) <= tables
        assert "jobs_retry_pending" not in indexes(store.conn)
        assert store.verify_projections() == []
        assert [r.job_id for r in store.pending_retries("c")] == ["waits"]
        store.rebuild_projections()
        assert dump(store.conn) == before
        # Appends after the migration keep the projections equal to the log's fold.
        store.append("waits-2", [created("waits-2", previous="waits", attempt=2)], expected_version=0, now=5.0)
        run(store, "downstream", Observe(Observation(JobState.FAILED)), ArchiveJob(), now=6.0)
        assert store.pending_retries("c") == []
        assert store.verify_projections() == []
    finally:
        store.close()


def test_pending_retries_read_the_partial_index(store: JobStore) -> None:
    """``jobs_awaiting_retry`` holds only waiting jobs, and ``pending_retries`` seeks it."""
    assert indexes(store.conn)["jobs_awaiting_retry"] == (
        "CREATE INDEX jobs_awaiting_retry ON jobs (cluster_name) WHERE retry_pending = 1"
    )
    fill(store)
    plan = [row[3] for row in store.conn.execute(
        "EXPLAIN QUERY PLAN SELECT record FROM jobs WHERE cluster_name = ? AND retry_pending = 1", ("c",)
    )]
    assert plan == ["SEARCH jobs USING INDEX jobs_awaiting_retry (cluster_name=?)"]
    assert [r.job_id for r in store.pending_retries("c")] == ["waits"]
    assert store.pending_retries("elsewhere") == []


def test_a_fresh_store_has_no_checkpoint_table(store: JobStore) -> None:
    """New stores apply every migration; the tables a rebuild empties are the projections."""
    assert applied_migrations(store.conn) == KNOWN_MIGRATIONS
    tables = {row[0] for row in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"events", *PROJECTION_TABLES, MIGRATIONS_TABLE}
