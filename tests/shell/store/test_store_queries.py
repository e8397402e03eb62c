"""JobStore queries as `molq list/status/history/inspect` use them: filters, order, limits, lookups."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from molq import SchemaVersionError, StoreError
from molq.core import (
    ConcurrencyConflict,
    CorruptLogError,
    JobSpec,
    JobState,
    Observation,
    Observe,
    RecordSubmission,
    RequestCancel,
    ScheduleRetry,
    StatusTransition,
    decide,
    evolve,
)
from molq.core._cluster_events import SchedulerCommandFailed, cluster_stream
from molq.core._events import JobArchived, JobCreated, JobDependencyRecorded
from molq.shell.store._store import JobStore


def create(store, job_id: str, at: float, *, cluster: str = "c", root: str | None = None, attempt: int = 1,
           previous: str | None = None) -> None:
    event = JobCreated(
        job_id=job_id, at=at, cluster_name=cluster, scheduler="slurm", root_job_id=root or job_id,
        attempt=attempt, previous_attempt_job_id=previous, spec=JobSpec("argv", argv=("true",)),
    )
    store.append(job_id, [event], expected_version=0, now=at)


def apply(store, job_id: str, command, now: float) -> None:
    record = store.get_record(job_id)
    store.append(job_id, decide(record, command, now=now), expected_version=record.version, now=now)


def finish(store, job_id: str, state: JobState, now: float) -> None:
    apply(store, job_id, RecordSubmission(f"s-{job_id}"), now)
    apply(store, job_id, Observe(Observation(state, exit_code=0 if state is JobState.SUCCEEDED else 1)), now + 1)


class TestListRecords:
    def test_newest_first_then_by_id(self, store):
        """Jobs are listed newest first; jobs created at the same time by id."""
        create(store, "b", 1.0)
        create(store, "a", 2.0)
        create(store, "c", 2.0)
        create(store, "d", 3.0)
        assert [r.job_id for r in store.list_records(None)] == ["d", "a", "c", "b"]

    def test_cluster_filter(self, store):
        """A cluster name lists only that cluster's jobs; None lists every cluster."""
        create(store, "a", 1.0, cluster="x")
        create(store, "b", 2.0, cluster="y")
        assert [r.job_id for r in store.list_records("x")] == ["a"]
        assert [r.job_id for r in store.list_records(None)] == ["b", "a"]

    def test_active_only(self, store):
        """include_terminal=False hides finished jobs and keeps every active state."""
        create(store, "done", 1.0)
        finish(store, "done", JobState.SUCCEEDED, 2.0)
        create(store, "new", 3.0)
        create(store, "queued", 4.0)
        apply(store, "queued", RecordSubmission("9"), 5.0)
        apply(store, "queued", Observe(Observation(JobState.QUEUED)), 6.0)
        active = store.list_records("c", include_terminal=False)
        assert [r.job_id for r in active] == ["queued", "new"]
        assert len(store.list_records("c")) == 3

    def test_archived_are_hidden_unless_asked(self, store):
        """Archived jobs are left out unless include_archived is set."""
        create(store, "old", 1.0)
        finish(store, "old", JobState.FAILED, 2.0)
        record = store.get_record("old")
        store.append("old", [JobArchived(job_id="old", at=10.0)], expected_version=record.version, now=10.0)
        create(store, "new", 3.0)
        assert [r.job_id for r in store.list_records("c")] == ["new"]
        assert [r.job_id for r in store.list_records("c", include_archived=True)] == ["new", "old"]
        assert store.job_count() == 2

    def test_limit(self, store):
        """limit keeps the newest N."""
        for i in range(5):
            create(store, f"j{i}", float(i))
        assert [r.job_id for r in store.list_records(None, limit=2)] == ["j4", "j3"]


class TestFamilies:
    def build(self, store):
        create(store, "r", 1.0)
        finish(store, "r", JobState.FAILED, 2.0)
        apply(store, "r", ScheduleRetry("r2", 0.0), 4.0)
        create(store, "r2", 5.0, root="r", attempt=2, previous="r")
        create(store, "other", 6.0)

    def test_family_is_in_attempt_order(self, store):
        """A family lists its attempts first to last and nothing else."""
        self.build(store)
        assert [r.job_id for r in store.family("r")] == ["r", "r2"]
        assert store.latest_attempt("r").job_id == "r2"
        assert store.latest_attempt("missing") is None

    def test_pending_retries_of_a_cluster(self, store):
        """An attempt with a scheduled retry is pending (in its cluster only)."""
        create(store, "r", 1.0)
        finish(store, "r", JobState.FAILED, 2.0)
        apply(store, "r", ScheduleRetry("r2", 30.0), 4.0)
        assert [r.job_id for r in store.pending_retries("c")] == ["r"]
        assert store.pending_retries("elsewhere") == []


class TestFindJobIds:
    def test_prefix_match(self, store):
        """Ids starting with the prefix match; others do not."""
        for job_id in ("abc1", "abc2", "xabc"):
            create(store, job_id, 1.0)
        assert sorted(store.find_job_ids("abc")) == ["abc1", "abc2"]

    def test_like_wildcards_are_literal(self, store):
        """'_' and '%' in a prefix match only themselves, not any character."""
        create(store, "a_b", 1.0)
        create(store, "axb", 1.0)
        create(store, "a%c", 1.0)
        create(store, "a\\d", 1.0)
        assert store.find_job_ids("a_") == ["a_b"]
        assert store.find_job_ids("a%") == ["a%c"]
        assert store.find_job_ids("a\\") == ["a\\d"]

    def test_cluster_filter(self, store):
        """With a cluster, only that cluster's ids are found."""
        create(store, "abc1", 1.0, cluster="x")
        create(store, "abc2", 1.0, cluster="y")
        assert store.find_job_ids("abc", "y") == ["abc2"]

    def test_at_most_fifty(self, store):
        """A very short prefix returns at most 50 ids."""
        for i in range(55):
            create(store, f"j{i:02d}", 1.0)
        assert len(store.find_job_ids("j")) == 50


class TestLogReads:
    def test_versions_and_sequence(self, store):
        """Each stream counts its own versions; the log counts all events."""
        assert store.last_seq() == 0
        assert store.stream_version("a") == 0
        create(store, "a", 1.0)
        create(store, "b", 2.0)
        apply(store, "a", RecordSubmission("1"), 3.0)
        assert store.stream_version("a") == 2
        assert store.stream_version("b") == 1
        assert store.last_seq() == 3
        assert [(r.stream, r.version) for r in store.read_stream("a")] == [("a", 1), ("a", 2)]

    def test_read_all_after_and_limit(self, store):
        """read_all gives events after a sequence number, in order, at most limit."""
        for i in range(4):
            create(store, f"j{i}", float(i))
        assert [r.seq for r in store.read_all()] == [1, 2, 3, 4]
        assert [r.seq for r in store.read_all(after_seq=1, limit=2)] == [2, 3]
        assert [r.stream for r in store.read_all(after_seq=3)] == ["j3"]
        assert [r.recorded_at for r in store.read_all(limit=2)] == [0.0, 1.0]

    def test_created_event(self, store):
        """created_event returns the job's spec; a job without one is a corrupt log."""
        create(store, "a", 1.0)
        assert store.created_event("a").spec.argv == ("true",)
        with pytest.raises(CorruptLogError, match=r"job nope has no job\.created event"):
            store.created_event("nope")

    def test_events_of_type(self, store):
        """events_of_type finds one tag in the given streams, oldest first."""
        create(store, "a", 1.0)
        create(store, "b", 2.0)
        create(store, "c", 3.0)
        apply(store, "a", RecordSubmission("1"), 4.0)
        found = store.events_of_type(["c", "a"], "job.created")
        assert [r.stream for r in found] == ["a", "c"]
        assert [r.stream for r in store.events_of_type(["a"], "job.submitted")] == ["a"]


class TestTransitionsAndEdges:
    def test_transitions_oldest_first_with_reason(self, store):
        """A job's history lists each state change in order, with times and reasons."""
        create(store, "a", 1.0)
        apply(store, "a", RecordSubmission("1"), 2.0)
        apply(store, "a", Observe(Observation(JobState.FAILED, exit_code=2, reason="oom")), 3.0)
        transitions = store.transitions("a")
        assert [(t.old_state, t.new_state) for t in transitions] == [
            (None, JobState.CREATED), (JobState.CREATED, JobState.SUBMITTED), (JobState.SUBMITTED, JobState.FAILED),
        ]
        assert [t.timestamp for t in transitions] == [1.0, 2.0, 3.0]
        assert transitions[-1].reason is not None
        assert "oom" in transitions[-1].reason

    def test_dependencies_and_dependents(self, store):
        """Edges are found from both ends, in the order they were recorded."""
        create(store, "up1", 1.0)
        create(store, "up2", 1.0)
        event = JobCreated(
            job_id="down", at=2.0, cluster_name="c", scheduler="slurm", root_job_id="down",
            spec=JobSpec("argv", argv=("true",)),
        )
        edges = [
            JobDependencyRecorded(job_id="down", at=2.0, dependency_job_id=up, dependency_type="after_success",
                                  scheduler_dependency=f"afterok:{n}")
            for n, up in enumerate(("up2", "up1"))
        ]
        store.append("down", [event, *edges], expected_version=0, now=2.0)
        deps = store.dependencies("down")
        assert [(d.dependency_job_id, d.scheduler_dependency) for d in deps] == [("up2", "afterok:0"), ("up1", "afterok:1")]
        assert [(d.job_id, d.dependency_type) for d in store.dependents("up1")] == [("down", "after_success")]
        assert store.dependencies("up1") == []


class TestSchedulerFailures:
    def test_newest_first_with_limit(self, store):
        """A cluster's failures are listed newest first, at most limit, only that cluster's."""
        stream = cluster_stream("c")
        for i in range(3):
            failure = SchedulerCommandFailed(cluster_name="c", at=float(i), scheduler="slurm",
                                             operation="status", error=f"e{i}")
            store.append(stream, [failure], expected_version=i, now=float(i))
        assert [f.error for f in store.scheduler_failures("c")] == ["e2", "e1", "e0"]
        assert [f.error for f in store.scheduler_failures("c", limit=1)] == ["e2"]
        assert store.scheduler_failures("d") == []


class TestAppendResults:
    def test_append_returns_what_it_recorded(self, store):
        """append returns each event's envelope: its sequence number, stream, version and time."""
        create(store, "a", 1.0)
        record = store.get_record("a")
        events = decide(record, RecordSubmission("7"), now=2.5)
        recorded = store.append("a", events, expected_version=1, now=2.5)
        assert [(r.seq, r.stream, r.version, r.recorded_at) for r in recorded] == [(2, "a", 2, 2.5)]
        assert [r.event for r in recorded] == list(events)
        assert [r.event for r in store.read_stream("a")][1:] == list(events)

    def test_an_impossible_history_is_refused_and_nothing_is_written(self, store):
        """An event that cannot follow the job's history raises CorruptLogError; the log is unchanged."""
        create(store, "a", 1.0)
        again = JobCreated(job_id="b", at=2.0, cluster_name="c", scheduler="slurm", root_job_id="b",
                           spec=JobSpec("argv", argv=("true",)))
        submitted = decide(store.get_record("a"), RecordSubmission("1"), now=2.0)
        orphan = [type(e)(**{**{f: getattr(e, f) for f in e.__struct_fields__}, "job_id": "ghost"}) for e in submitted]
        with pytest.raises(CorruptLogError):
            store.append_batch([("b", [again], 0), ("ghost", orphan, 0)], now=2.0)
        assert store.last_seq() == 1
        assert store.get_record("b") is None


class TestRetryPending:
    def test_pending_until_the_next_attempt_exists(self, store):
        """A scheduled retry is pending until its attempt is created, then no longer."""
        create(store, "r", 1.0)
        finish(store, "r", JobState.FAILED, 2.0)
        apply(store, "r", ScheduleRetry("r2", 0.0), 4.0)
        assert [r.job_id for r in store.pending_retries("c")] == ["r"]
        create(store, "r2", 5.0, root="r", attempt=2, previous="r")
        assert store.pending_retries("c") == []

    def test_a_cancelled_family_has_no_pending_retry(self, store):
        """A job cancelled by the user after its retry was scheduled is not pending."""
        create(store, "r", 1.0)
        finish(store, "r", JobState.FAILED, 2.0)
        apply(store, "r", ScheduleRetry("r2", 60.0), 4.0)
        apply(store, "r", RequestCancel(), 5.0)
        assert store.pending_retries("c") == []


def test_transitions_are_whole(store):
    """Each transition carries the job, both states, the time and the reason."""
    create(store, "a", 1.0)
    apply(store, "a", RecordSubmission("1"), 2.0)
    first, second = store.transitions("a")
    assert first == StatusTransition("a", None, JobState.CREATED, 1.0, first.reason)
    assert second == StatusTransition("a", JobState.CREATED, JobState.SUBMITTED, 2.0, second.reason)


class TestStoreFile:
    def test_default_path_follows_molq_store(self, monkeypatch, tmp_path):
        """MOLQ_STORE names the store; without it, ~/.molq/jobs.db."""
        from molq.shell.store._store import default_store_path

        monkeypatch.setenv("MOLQ_STORE", str(tmp_path / "x.db"))
        assert default_store_path() == tmp_path / "x.db"
        monkeypatch.delenv("MOLQ_STORE")
        monkeypatch.setenv("HOME", str(tmp_path))
        assert default_store_path() == tmp_path / ".molq" / "jobs.db"

    def test_repr_names_the_file(self, store):
        """repr(store) shows its path."""
        assert repr(store) == f"JobStore({str(store.path)!r})"


class TestRebuild:
    def test_rebuild_replays_every_event_and_gives_the_same_answers(self, store):
        """Rebuilding the projections replays all events and changes no answer."""
        for i in range(3):
            create(store, f"j{i}", float(i))
        finish(store, "j0", JobState.FAILED, 5.0)
        apply(store, "j0", ScheduleRetry("j0b", 10.0), 7.0)
        before = ([r.job_id for r in store.list_records(None)], store.transitions("j0"),
                  [r.job_id for r in store.pending_retries("c")])
        assert store.rebuild_projections() == store.last_seq()
        after = ([r.job_id for r in store.list_records(None)], store.transitions("j0"),
                 [r.job_id for r in store.pending_retries("c")])
        assert after == before
        assert store.verify_projections() == []

    def test_many_retries_in_one_batch(self, store):
        """A batch that schedules more retries than one SQL parameter list holds keeps all pending."""
        count = 905
        for i in range(count):
            create(store, f"j{i}", 1.0)
            apply(store, f"j{i}", RecordSubmission(str(i)), 2.0)
        batch = []
        for i in range(count):
            record = store.get_record(f"j{i}")
            failed = decide(record, Observe(Observation(JobState.FAILED, exit_code=1)), now=3.0)
            after = record
            for event in failed:
                after = evolve(after, event)
            retry = decide(after, ScheduleRetry(f"r{i}", 5.0), now=3.0)
            batch.append((f"j{i}", [*failed, *retry], record.version))
        store.append_batch(batch, now=3.0)
        assert len(store.pending_retries("c")) == count


class TestOpening:
    def test_missing_directories_are_created_private(self, tmp_path):
        """A store path in directories that do not exist yet creates them, private to the user."""
        path = tmp_path / "a" / "b" / "jobs.db"
        store = JobStore(path)
        try:
            create(store, "j", 1.0)
            assert (path.parent.stat().st_mode & 0o777) == 0o700
        finally:
            store.close()

    def test_the_store_works_from_another_thread(self, store):
        """A store opened in one thread can be read from another (the dashboard does)."""
        create(store, "j", 1.0)
        found: list[object] = []
        worker = threading.Thread(target=lambda: found.append(store.get_record("j")))
        worker.start()
        worker.join()
        assert [r.job_id for r in found] == ["j"]

    def test_opening_waits_while_another_process_switches_the_journal(self, tmp_path):
        """Opening a new store while another connection holds it locked waits, then succeeds."""
        path = tmp_path / "jobs.db"
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE t (x)")
        threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
        store = JobStore(path)
        try:
            create(store, "j", 1.0)
            assert store.get_record("j") is not None
        finally:
            store.close()
            holder.close()


class TestRefusals:
    def test_a_stale_writer_is_told_the_versions(self, store):
        """A conflict names the stream, where it is and what the writer expected."""
        create(store, "a", 1.0)
        with pytest.raises(ConcurrencyConflict, match="stream a is at version 1, expected 0"):
            create(store, "a", 2.0)

    def test_a_batch_returns_every_streams_events(self, store):
        """append_batch returns the envelopes of all its streams, in order."""
        first = JobCreated(job_id="x", at=1.0, cluster_name="c", scheduler="slurm", root_job_id="x",
                           spec=JobSpec("argv", argv=("true",)))
        second = JobCreated(job_id="y", at=1.0, cluster_name="c", scheduler="slurm", root_job_id="y",
                            spec=JobSpec("argv", argv=("true",)))
        recorded = store.append_batch([("x", [first], 0), ("y", [second], 0)], now=1.0)
        assert [(r.stream, r.seq) for r in recorded] == [("x", 1), ("y", 2)]

    def test_a_cut_database_file_is_refused_untouched(self, tmp_path):
        """A file with SQLite's header but cut short is refused, and left as it was."""
        path = tmp_path / "jobs.db"
        path.write_bytes(b"SQLite format 3\0" + b"\1" * 40)
        with pytest.raises(StoreError):
            JobStore(path)
        assert path.read_bytes() == b"SQLite format 3\0" + b"\1" * 40

    def test_a_newer_schema_says_to_upgrade(self, tmp_path):
        """A store migrated by a newer molq names the unknown migration and says to upgrade."""
        path = tmp_path / "jobs.db"
        JobStore(path).close()
        conn = sqlite3.connect(path)
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('molq', 'm999_future', 'x')"
        )
        conn.commit()
        conn.close()
        with pytest.raises(SchemaVersionError, match=r"schema m999_future\); upgrade molq to open it"):
            JobStore(path)


def test_the_error_names_the_impossible_event_not_a_valid_one_before_it(store):
    """In a batch, valid events for existing jobs are judged on their records; the error names the bad job."""
    create(store, "a", 1.0)
    submitted = decide(store.get_record("a"), RecordSubmission("1"), now=2.0)
    orphan = [type(e)(**{**{f: getattr(e, f) for f in e.__struct_fields__}, "job_id": "ghost"}) for e in submitted]
    with pytest.raises(CorruptLogError, match="ghost"):
        store.append_batch([("a", submitted, 1), ("ghost", orphan, 0)], now=2.0)
    assert store.get_record("a").state is JobState.CREATED
