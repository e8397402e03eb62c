"""JobStore edges a user meets: damaged files and records, paths it cannot use, threads, batches.

Each failure must be a StoreError (or CorruptLogError) naming the file and what went
wrong; each batch must leave the projections a one-by-one fold would.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import threading
from pathlib import Path

import pytest

from molq.core import (
    CorruptLogError,
    JobSpec,
    JobState,
    Observation,
    Observe,
    RecordSubmission,
    ScheduleRetry,
    StoreError,
    decide,
    evolve,
)
from molq.core._cluster_events import SchedulerCommandFailed, cluster_stream
from molq.core._events import JobArchived, JobCreated, JobQueued, JobStarted, JobSubmitted
from molq.core._sweep_events import SweepCell, SweepCreated, SweepStopped
from molq.shell.store import _connect, _store
from molq.shell.store._connect import default_store_path
from molq.shell.store._rows import encode_record
from molq.shell.store._store import JobStore


def created(job_id: str, at: float = 1.0, **kw) -> JobCreated:
    fields = {
        "cluster_name": "c",
        "scheduler": "slurm",
        "root_job_id": job_id,
        "spec": JobSpec("argv", argv=("true",)),
    }
    return JobCreated(job_id=job_id, at=at, **{**fields, **kw})


def failed_with_retry(store: JobStore, job_id: str, *, next_id: str) -> list:  # type: ignore[type-arg]
    """The events that fail ``job_id`` and schedule ``next_id`` (not appended yet)."""
    record, events = store.get_record(job_id), []
    for command, now in [
        (RecordSubmission("9"), 2.0),
        (Observe(Observation(JobState.FAILED, exit_code=1)), 3.0),
        (ScheduleRetry(next_id, 10.0), 4.0),
    ]:
        for event in decide(record, command, now=now):
            record = evolve(record, event)
            events.append(event)
    return events


def named(path: Path) -> str:
    return re.escape(str(path))


class TestDamagedFiles:
    def test_a_damaged_table_is_a_store_error_naming_the_file(self, tmp_path):
        """A page SQLite cannot read surfaces as StoreError naming the file, not sqlite3.DatabaseError."""
        path = tmp_path / "jobs.db"
        with JobStore(path) as store:
            store.append("j1", [created("j1")], expected_version=0, now=1.0)
        conn = sqlite3.connect(path)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'jobs'").fetchone()[0]
        conn.close()
        with path.open("r+b") as handle:
            handle.seek((root - 1) * page_size)
            handle.write(b"\xff" * page_size)
        with (
            JobStore(path) as store,
            pytest.raises(StoreError, match=rf"^{named(path)} cannot be read \(.*malformed"),
        ):
            store.list_records(None)

    def test_an_undecodable_record_is_a_corrupt_log_error_naming_the_file(self, tmp_path):
        """A jobs row whose record is not JSON is reported with the file, so the user knows what to rebuild."""
        path = tmp_path / "jobs.db"
        with JobStore(path) as store:
            store.append("j1", [created("j1")], expected_version=0, now=1.0)
            store.conn.execute("UPDATE jobs SET record = ? WHERE job_id = 'j1'", (b"not json",))
            with pytest.raises(
                CorruptLogError, match=rf"^{named(path)} holds a record that cannot be decoded \("
            ):
                store.get_record("j1")

    def test_an_undecodable_event_is_named_by_seq_and_stream(self, store):
        """Reading or rebuilding a log with a damaged event names that event."""
        store.append("j1", [created("j1")], expected_version=0, now=1.0)
        store.conn.execute(
            "INSERT INTO events (stream, version, type, recorded_at, data) VALUES ('j1', 2, 'job.queued', 2.0, ?)",
            (b"\x00garbage",),
        )
        with pytest.raises(CorruptLogError, match=r"^event 2 of stream j1 cannot be decoded: "):
            store.read_stream("j1")
        with pytest.raises(CorruptLogError, match=r"^event 2 of stream j1 cannot be decoded: "):
            store.rebuild_projections()


class TestPathsItCannotUse:
    def test_a_path_under_a_regular_file_is_refused_by_name(self, tmp_path):
        """A parent that is a file is reported (not a traceback) and nothing is created."""
        (tmp_path / "afile").write_text("x")
        path = tmp_path / "afile" / "jobs.db"
        with pytest.raises(
            StoreError, match=rf"^cannot open the molq store {named(path)}: .*left untouched$"
        ):
            JobStore(path)

    def test_a_directory_that_cannot_be_created_is_not_called_a_full_disk(self):
        """Only ENOSPC is reported as a full disk; other failures say the store cannot be opened."""
        path = Path("/proc/molq-no-such-dir/jobs.db")  # /proc accepts no new directories
        with pytest.raises(StoreError, match=rf"^cannot open the molq store {named(path)}: ") as info:
            JobStore(path)
        assert "disk is full" not in str(info.value)

    def test_a_store_another_process_keeps_locked_is_named_with_the_reason(self, tmp_path, monkeypatch):
        """Still locked when the busy timeout ends: a StoreError naming the file and telling to try again."""
        path = tmp_path / "jobs.db"
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA user_version = 1")  # an SQLite file without tables, rollback journal
        holder.execute("BEGIN IMMEDIATE")  # another process is writing: no switch to WAL until it ends
        monkeypatch.setattr(_connect, "BUSY_TIMEOUT_S", 0.3)
        try:
            with pytest.raises(
                StoreError, match=rf"^{named(path)} stayed locked by another process \(database is locked\)"
            ):
                JobStore(path)
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    def test_no_path_means_the_default_store(self):
        """``JobStore()`` opens ``$MOLQ_STORE`` (the test's private HOME sets it)."""
        assert "MOLQ_STORE" in os.environ
        with JobStore() as store:
            assert store.path == default_store_path()
        assert default_store_path().exists()


class TestForeignDatabases:
    def test_a_database_holding_only_sqlites_own_tables_becomes_a_store(self, tmp_path):
        """``sqlite_sequence`` (left by a dropped AUTOINCREMENT table) is SQLite's, not another application's."""
        path = tmp_path / "jobs.db"
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)")
        conn.execute("INSERT INTO t DEFAULT VALUES")
        conn.execute("DROP TABLE t")
        conn.commit()
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == [
            "sqlite_sequence"
        ]
        conn.close()
        with JobStore(path) as store:
            store.append("j1", [created("j1")], expected_version=0, now=1.0)
            assert store.get_record("j1") is not None

    @pytest.mark.parametrize(
        ("count", "shown"), [(5, "a, b, c, d, e"), (6, "a, b, c, d, e, ..."), (7, "a, b, c, d, e, ...")]
    )
    def test_another_applications_tables_are_listed_five_at_most(self, tmp_path, count, shown):
        """The refusal names up to five of the foreign tables, then "..."."""
        path = tmp_path / "other.sqlite"  # not *.db: the suite-end audit opens those as stores
        conn = sqlite3.connect(path)
        for name in "abcdefg"[:count]:
            conn.execute(f"CREATE TABLE {name} (x)")
        conn.commit()
        conn.close()
        with pytest.raises(
            StoreError, match=rf"another application's SQLite database \(tables: {re.escape(shown)}\), "
        ):
            JobStore(path)


class TestInMemory:
    def test_an_in_memory_store_takes_several_appends(self):
        """``:memory:`` is a working store: each append is its own transaction."""
        with JobStore(":memory:") as store:
            store.append("j1", [created("j1")], expected_version=0, now=1.0)
            store.append(
                "j1", [JobSubmitted(job_id="j1", at=2.0, scheduler_job_id="7")], expected_version=1, now=2.0
            )
            store.append("j2", [created("j2", 3.0)], expected_version=0, now=3.0)
            assert store.get_record("j1").state is JobState.SUBMITTED
            assert [r.job_id for r in store.list_records("c")] == ["j2", "j1"]
            assert store.verify_projections() == []


class TestThreads:
    def test_a_store_is_usable_from_threads_that_come_and_go(self, store):
        """A thread that ended leaves its connection behind; the next thread still opens one."""
        store.append("j1", [created("j1")], expected_version=0, now=1.0)
        seen: list[object] = []

        def read() -> None:
            seen.append(store.get_record("j1").job_id)

        for _ in range(3):
            worker = threading.Thread(target=read)
            worker.start()
            worker.join()
        assert seen == ["j1", "j1", "j1"]

    def test_a_new_thread_does_not_close_a_live_threads_connection(self, store):
        """Two threads that use the store at the same time each keep working."""
        store.append("j1", [created("j1")], expected_version=0, now=1.0)
        first_read, second_done = threading.Event(), threading.Event()
        results: list[object] = []

        def first() -> None:
            results.append(store.get_record("j1").job_id)
            first_read.set()
            second_done.wait(10)
            try:
                results.append(store.get_record("j1").job_id)
            except Exception as exc:  # a closed connection: shown by the assertion below
                results.append(exc)

        def second() -> None:
            first_read.wait(10)
            results.append(store.job_count())
            second_done.set()

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert results == ["j1", 1, "j1"]

    def test_opening_waits_for_another_opener_of_the_same_file(self, tmp_path):
        """Creating the schema is serialised with other processes through ``<store>.lock``."""
        path = tmp_path / "jobs.db"
        opened = threading.Event()
        fd = os.open(path.with_name("jobs.db.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)

        def open_store() -> None:
            JobStore(path).close()
            opened.set()

        worker = threading.Thread(target=open_store)
        worker.start()
        try:
            assert not opened.wait(1.0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        worker.join(30)
        assert opened.is_set()

    def test_a_store_another_process_is_creating_is_waited_for_not_refused(self, tmp_path):
        """Between the migrations table and the migrations, a store being created is not "foreign".

        sqlite-utils commits its migrations table before the first migration; a second
        process opening the file in between used to refuse it as another application's
        database (seen as a flaky ``test_concurrent_first_opens_migrate_once``).
        """
        from sqlite_utils import Database

        from molq.shell.store._schema import build_migrations

        path = tmp_path / "jobs.db"
        fd = os.open(path.with_name("jobs.db.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)  # the creating process holds the open lock throughout
        db = Database(str(path))
        build_migrations().ensure_migrations_table(db)
        outcome: list[object] = []

        def open_store() -> None:
            try:
                JobStore(path).close()
                outcome.append("opened")
            except StoreError as exc:
                outcome.append(exc)

        worker = threading.Thread(target=open_store)
        worker.start()
        try:
            worker.join(1.0)
            assert outcome == []
            build_migrations().apply(db)
            db.close()
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        worker.join(30)
        assert outcome == ["opened"]


class TestBatches:
    def test_archiving_an_attempt_in_the_batch_that_creates_its_retry(self, store):
        """An attempt archived in the append that creates its retry is hidden, and no longer pending."""
        store.append("r", [created("r")], expected_version=0, now=1.0)
        store.append("r", failed_with_retry(store, "r", next_id="r2"), expected_version=1, now=5.0)
        assert [r.job_id for r in store.pending_retries("c")] == ["r"]
        version = store.stream_version("r")
        batch = [
            ("r", [JobArchived(job_id="r", at=6.0)], version),
            ("r2", [created("r2", 6.0, root_job_id="r", attempt=2, previous_attempt_job_id="r")], 0),
        ]
        store.append_batch(batch, now=6.0)
        assert [r.job_id for r in store.list_records("c")] == ["r2"]
        assert store.pending_retries("c") == []
        assert store.verify_projections() == []

    def test_a_rebuild_page_that_archives_an_attempt_and_creates_its_retry(self, store, monkeypatch):
        """Rebuilt in pages, a page holding both leaves the archived attempt hidden and nothing pending."""
        store.append("r", [created("r")], expected_version=0, now=1.0)
        store.append("r", failed_with_retry(store, "r", next_id="r2"), expected_version=1, now=5.0)
        first_page = store.last_seq()
        batch = [
            ("r", [JobArchived(job_id="r", at=6.0)], store.stream_version("r")),
            ("r2", [created("r2", 6.0, root_job_id="r", attempt=2, previous_attempt_job_id="r")], 0),
        ]
        store.append_batch(batch, now=6.0)
        monkeypatch.setattr(_store, "_REBUILD_PAGE", first_page)
        store.rebuild_projections()
        assert [r.job_id for r in store.list_records("c")] == ["r2"]
        assert [r.job_id for r in store.list_records("c", include_archived=True)] == ["r2", "r"]
        assert store.pending_retries("c") == []
        assert store.verify_projections() == []

    def test_a_rebuild_page_with_later_events_of_more_than_900_jobs(self, store, monkeypatch):
        """A page whose jobs' records came from the page before reads them all back (SQLite's parameter limit)."""
        ids = [f"j{n:04d}" for n in range(950)]
        store.append_batch([(job_id, [created(job_id)], 0) for job_id in ids], now=1.0)
        submitted = [
            (job_id, [JobSubmitted(job_id=job_id, at=2.0, scheduler_job_id=f"s{job_id}")], 1)
            for job_id in ids
        ]
        store.append_batch(submitted, now=2.0)
        monkeypatch.setattr(_store, "_REBUILD_PAGE", len(ids))
        assert store.rebuild_projections() == 2 * len(ids)
        records = [store.get_record(job_id) for job_id in ids]
        assert all(r.state is JobState.SUBMITTED for r in records)
        assert [r.scheduler_job_id for r in records[:2]] == ["sj0000", "sj0001"]

    def test_a_refused_event_names_its_stream(self, store):
        """An event that would not read back is refused naming the stream it was meant for."""
        from molq.core._events import JobDependencyRecorded

        store.append("j1", [created("j1")], expected_version=0, now=1.0)
        bad = JobDependencyRecorded(
            job_id="j1",
            at=2.0,
            dependency_job_id="j0",
            dependency_type="afterok",
            scheduler_dependency="x",  # type: ignore[arg-type]
        )
        with pytest.raises(StoreError, match=r"^refusing to append job\.\S+ to j1: it would not read back"):
            store.append_batch([("j1", [bad], 1)], now=2.0)

    def test_an_impossible_event_after_valid_ones_is_the_one_named(self, store):
        """When a batch breaks a job's history, the error names the first event that breaks it."""
        store.append("a", [created("a")], expected_version=0, now=1.0)
        events = [
            JobSubmitted(job_id="a", at=2.0, scheduler_job_id="1"),
            JobQueued(job_id="a", at=3.0),
            JobStarted(job_id="a", at=4.0),
            JobSubmitted(job_id="a", at=5.0, scheduler_job_id="2"),
        ]
        with pytest.raises(CorruptLogError, match=r"^job a: job\.submitted cannot follow state running$"):
            store.append_batch([("a", events, 1)], now=5.0)
        assert store.get_record("a").state is JobState.CREATED

    def test_encode_record_is_what_the_jobs_table_holds(self, store):
        """``encode_record`` gives the bytes the projection stores for a record."""
        store.append("j1", [created("j1")], expected_version=0, now=1.0)
        stored = store.conn.execute("SELECT record FROM jobs WHERE job_id = 'j1'").fetchone()[0]
        assert encode_record(store.get_record("j1")) == stored


class TestQueries:
    def test_scheduler_failures_are_the_newest_fifty_by_default(self, store):
        """A cluster's failure list is capped at 50, newest first."""
        failures = [
            SchedulerCommandFailed(
                cluster_name="c", at=float(n), scheduler="slurm", operation="poll", error=f"e{n}"
            )
            for n in range(55)
        ]
        store.append(cluster_stream("c"), failures, expected_version=0, now=60.0)
        listed = store.scheduler_failures("c")
        assert [f.error for f in listed] == [f"e{n}" for n in range(54, 4, -1)]

    def test_sweeps_are_listed_per_cluster_open_or_not(self, store):
        """``list_sweeps(cluster)`` lists that cluster's sweeps, stopped ones included unless asked."""

        def sweep(sweep_id: str, cluster: str, at: float) -> SweepCreated:
            cells = (SweepCell(index=0, job_id=f"{sweep_id}-0", args=(("x", 0),)),)
            return SweepCreated(
                sweep_id=sweep_id,
                at=at,
                cluster_name=cluster,
                scheduler="local",
                spec=JobSpec("argv", argv=("echo", "{x}")),
                job_dir=f"/j/{sweep_id}",
                cells=cells,
                max_parallel=1,
            )

        store.append(
            "s1",
            [sweep("s1", "k", 1.0), SweepStopped(sweep_id="s1", at=2.0, reason="fail_fast")],
            expected_version=0,
            now=2.0,
        )
        store.append("s2", [sweep("s2", "k", 3.0)], expected_version=0, now=3.0)
        store.append("s3", [sweep("s3", "other", 4.0)], expected_version=0, now=4.0)
        assert [s.sweep_id for s in store.list_sweeps("k")] == ["s2", "s1"]
        assert [s.sweep_id for s in store.list_sweeps("k", open_only=True)] == ["s2"]
        assert [s.sweep_id for s in store.list_sweeps(None)] == ["s3", "s2", "s1"]
