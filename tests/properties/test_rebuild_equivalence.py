"""The batched rebuild writes the rows the event-by-event projector (molq <= 0.x, kept here) wrote.

The oracle below is the projection code as it was before rebuilds folded each job's events
at once: per event, load the record, evolve it, insert its transition; per job, save with
the upsert that sets every mutable column (the store sets ``archived`` and ``retry_pending``
only when one of them changes). The ``projection_checkpoints`` table it also wrote is gone
(migration m004): it was never read.
"""

from __future__ import annotations

import itertools
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import msgspec
import pytest
from hypothesis import given, settings
from tests.strategies import histories

from molq.core import CorruptLogError, JobEvent, JobRecord, decode_event, encode_event, event_tag, evolve
from molq.core._events import JobCreated, JobDependencyRecorded, JobRetryScheduled
from molq.shell.store import _store
from molq.shell.store._store import JobStore


ENCODER = msgspec.json.Encoder()
DECODER = msgspec.json.Decoder(JobRecord)
POOL = ["a", "b", "c", "d", "e", "f"]


def _reason(event: JobEvent) -> str | None:
    reason = getattr(event, "reason", None)
    if reason is None and isinstance(event, JobCreated) and event.attempt > 1:
        return f"retry attempt {event.attempt} of {event.root_job_id}"
    return reason


def _load(conn: sqlite3.Connection, job_id: str) -> JobRecord | None:
    row = conn.execute("SELECT record FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
    return DECODER.decode(row[0]) if row else None


def _save(conn: sqlite3.Connection, record: JobRecord, seq: int, *, new: bool) -> None:
    pending = record.next_attempt_job_id is not None and record.cancel_requested_at is None and not conn.execute(
        "SELECT 1 FROM jobs WHERE job_id = ?", (record.next_attempt_job_id,)
    ).fetchone()
    if new and record.previous_attempt_job_id is not None:
        conn.execute("UPDATE jobs SET retry_pending = 0 WHERE job_id = ?", (record.previous_attempt_job_id,))
    conn.execute(
        "INSERT INTO jobs (job_id, cluster_name, root_job_id, attempt, state, scheduler_job_id, created_at, "
        "archived, retry_pending, last_seq, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(job_id) DO UPDATE SET state = excluded.state, scheduler_job_id = excluded.scheduler_job_id, "
        "archived = excluded.archived, retry_pending = excluded.retry_pending, last_seq = excluded.last_seq, "
        "record = excluded.record",
        (record.job_id, record.cluster_name, record.root_job_id, record.attempt, record.state.value,
         record.scheduler_job_id, record.created_at, int(record.archived_at is not None), int(pending), seq,
         ENCODER.encode(record)),
    )


def oracle_project(conn: sqlite3.Connection, batch: list[tuple[int, JobEvent]]) -> None:
    records: dict[str, tuple[JobRecord | None, int]] = {}
    new_jobs: set[str] = set()
    for seq, event in batch:
        job_id = event.job_id
        if job_id not in records:
            records[job_id] = (_load(conn, job_id), seq)
            if records[job_id][0] is None:
                new_jobs.add(job_id)
        before, _ = records[job_id]
        after = evolve(before, event)
        if before is None or before.state != after.state:
            conn.execute(
                "INSERT INTO transitions (seq, job_id, old_state, new_state, timestamp, reason) VALUES (?, ?, ?, ?, ?, ?)",
                (seq, job_id, before.state.value if before else None, after.state.value, event.at, _reason(event)),
            )
        if isinstance(event, JobDependencyRecorded):
            conn.execute(
                "INSERT INTO dependencies (seq, job_id, dependency_job_id, dependency_type, scheduler_dependency) "
                "VALUES (?, ?, ?, ?, ?)",
                (seq, job_id, event.dependency_job_id, event.dependency_type, event.scheduler_dependency),
            )
        records[job_id] = (after, seq)
    for job_id, (record, seq) in records.items():
        assert record is not None
        _save(conn, record, seq, new=job_id in new_jobs)


def oracle_rebuild(conn: sqlite3.Connection, page: int) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        rows = conn.execute("SELECT seq, data FROM events ORDER BY seq").fetchall()
        for start in range(0, len(rows), page):
            oracle_project(conn, [(seq, decode_event(data)) for seq, data in rows[start : start + page]])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(rows)


TABLES = ("jobs", "transitions", "dependencies", "sweeps")


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row, with its rowid (rows inserted in the same order get the same ones)."""
    order = {"jobs": "job_id", "sweeps": "sweep_id"}
    return {
        table: conn.execute(f"SELECT rowid, * FROM {table} ORDER BY {order.get(table, 'seq')}").fetchall()  # noqa: S608
        for table in TABLES
    }


def insert_log(conn: sqlite3.Connection, log: list[JobEvent], damage: dict[int, str] | None = None) -> None:
    """Insert ``log`` as raw event rows (streams by job, versions in order), projecting nothing.

    ``damage`` maps an event's index to how it is spoiled: ``"stream"`` (moved to stream
    ``z``), ``"bytes"`` (its data cut in half); any ``"versions"`` entry numbers the first
    stream's events against the log order.
    """
    damage = damage or {}
    versions: dict[str, int] = {}
    rows = []
    for i, event in enumerate(log):
        stream, data = event.job_id, encode_event(event)
        if damage.get(i) == "stream":
            stream = "z"
        elif damage.get(i) == "bytes":
            data = data[: len(data) // 2]
        versions[stream] = versions.get(stream, 0) + 1
        rows.append([stream, versions[stream], event_tag(event), 0.0, data])
    if "versions" in damage.values():
        mine = [row for row in rows if row[0] == rows[0][0]]
        for row, version in zip(mine, reversed([row[1] for row in mine]), strict=True):
            row[1] = version
    conn.executemany("INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, ?, ?, ?, ?)", rows)


def outcome(run):
    try:
        return run()
    except CorruptLogError as exc:
        return ("CorruptLogError", str(exc))


@st.composite
def linked_logs(draw: st.DrawFn) -> list[JobEvent]:
    """Interleaved histories of a few jobs whose retry links point at each other (ids may repeat)."""
    ids = st.sampled_from(POOL)
    streams = []
    for _ in range(draw(st.integers(1, 4))):
        history = list(draw(histories(ids)))
        for i, event in enumerate(history):
            if isinstance(event, JobCreated) and draw(st.booleans()):
                history[i] = msgspec.structs.replace(event, previous_attempt_job_id=draw(ids), attempt=2)
            elif isinstance(event, JobRetryScheduled):
                history[i] = msgspec.structs.replace(event, next_job_id=draw(ids))
        streams.append(history)
    log: list[JobEvent] = []
    while any(streams):
        stream = draw(st.sampled_from([s for s in streams if s]))
        log.append(stream.pop(0))
    return log


@settings(max_examples=80, deadline=None)
@given(linked_logs(), st.sampled_from([1, 3, 7, 5000]))
def test_rebuild_writes_the_rows_of_the_event_by_event_projector(log, page):
    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        conn = store._conn
        conn.execute("BEGIN IMMEDIATE")
        insert_log(conn, log)
        conn.execute("COMMIT")
        try:
            expected = outcome(lambda: (oracle_rebuild(conn, page), dump(conn)))
            saved, _store._REBUILD_PAGE = _store._REBUILD_PAGE, page
            try:
                got = outcome(lambda: (store.rebuild_projections(), dump(conn)))
            finally:
                _store._REBUILD_PAGE = saved
            assert got == expected
        finally:
            store.close()


def _pieces(log: list[JobEvent], cuts: list[bool]) -> list[list[JobEvent]]:
    """The log cut into appends of one stream each: where the stream changes, and where ``cuts`` says."""
    pieces: list[list[JobEvent]] = []
    for index, event in enumerate(log):
        if not pieces or pieces[-1][0].job_id != event.job_id or cuts[index % len(cuts)]:
            pieces.append([])
        pieces[-1].append(event)
    return pieces


@settings(max_examples=80, deadline=None)
@given(linked_logs(), st.lists(st.booleans(), min_size=1, max_size=8), st.lists(st.integers(1, 3), min_size=1))
def test_appends_write_the_rows_of_the_event_by_event_projector(log, cuts, sizes):
    """Appends (rows stored already; the lean upsert where the flags keep their values) write the oracle's rows.

    Each ``append_batch`` carries a few pieces; a batch the fold refuses rolls back in both.
    """
    from molq.shell.store._schema import PROJECTION_TABLES

    assert TABLES == PROJECTION_TABLES
    pieces = _pieces(log, cuts)
    with tempfile.TemporaryDirectory() as tmp:
        store, oracle = JobStore(Path(tmp) / "jobs.db"), JobStore(Path(tmp) / "oracle.db")
        versions: dict[str, int] = {}
        try:
            for size in itertools.cycle(sizes):
                batch, pieces = pieces[:size], pieces[size:]
                if not batch:
                    break
                moved = dict(versions)
                streams = []
                for piece in batch:
                    stream = piece[0].job_id
                    streams.append((stream, piece, moved.get(stream, 0)))
                    moved[stream] = moved.get(stream, 0) + len(piece)
                seq = store.last_seq()
                oracle.conn.execute("BEGIN IMMEDIATE")
                try:
                    for piece in batch:
                        oracle_project(oracle.conn, [(seq := seq + 1, event) for event in piece])
                    oracle.conn.execute("COMMIT")
                    expected = None
                except CorruptLogError as exc:
                    oracle.conn.execute("ROLLBACK")
                    expected = str(exc)
                try:
                    store.append_batch(streams, now=0.0)
                    got = None
                    versions = moved
                except CorruptLogError as exc:
                    got = str(exc)
                assert got == expected
                assert dump(store.conn) == dump(oracle.conn)
        finally:
            store.close()
            oracle.close()


@pytest.mark.parametrize("page", [4, 5000])
def test_a_cleared_retry_flag_set_again_in_the_same_page(page, tmp_path):
    """``j`` names ``r`` as its previous attempt while ``r`` waits for ``x``: the oracle clears
    ``r``'s flag, then saves ``r`` with it set again. With page 4, ``r``'s row is stored (flag
    set) when that page starts, so the store must not keep its stored value (lean) there.
    """
    from molq.core import JobSpec, JobState, Observation, Observe, RecordSubmission, ScheduleRetry, decide
    from molq.core._events import JobCheckpointSaved

    spec = JobSpec("argv", argv=("true",))
    first = JobCreated(job_id="r", at=1.0, cluster_name="c", scheduler="local", root_job_id="r", spec=spec)
    log: list[JobEvent] = [first]
    record = evolve(None, first)
    for command in (RecordSubmission("1"), Observe(Observation(JobState.FAILED)), ScheduleRetry("x", 0.0)):
        for event in decide(record, command, now=2.0):
            record = evolve(record, event)
            log.append(event)
    assert len(log) == 4
    assert record.next_attempt_job_id == "x"
    log += [
        JobCreated(job_id="j", at=3.0, cluster_name="c", scheduler="local", root_job_id="r", attempt=2,
                   previous_attempt_job_id="r", spec=spec),
        JobCheckpointSaved(job_id="r", at=4.0, seq=1, data="{}"),
    ]
    store = JobStore(tmp_path / "jobs.db")
    conn = store.conn
    insert_log(conn, log)
    try:
        oracle_rebuild(conn, page)
        expected = dump(conn)
        # One page: r is saved first, then j's creation clears it. Two: the reverse, r waits again.
        assert [(row[1], row[9]) for row in expected["jobs"]] == [("j", 0), ("r", int(page == 4))]
        saved, _store._REBUILD_PAGE = _store._REBUILD_PAGE, page
        try:
            store.rebuild_projections()
        finally:
            _store._REBUILD_PAGE = saved
        assert dump(conn) == expected
    finally:
        store.close()


@pytest.mark.parametrize("page", [2, 5000])
def test_corrupt_history_leaves_projections_untouched(page, tmp_path, monkeypatch):
    """A failing rebuild rolls back: the old projections stay and still verify."""
    from hypothesis import find
    from tests.strategies import created_events

    created = find(created_events(st.just("a")), lambda e: True)
    store = JobStore(tmp_path / "jobs.db")
    store.append("a", [created], expected_version=0, now=1.0)
    before = dump(store._conn)
    store._conn.execute(
        "INSERT INTO events (stream, version, type, recorded_at, data) VALUES ('a', 2, 'job.created', 2.0, ?)",
        (encode_event(created),),
    )
    monkeypatch.setattr(_store, "_REBUILD_PAGE", page)
    with pytest.raises(CorruptLogError, match="created"):
        store.rebuild_projections()
    assert dump(store._conn) == before
    store.close()


def oracle_verify_fold(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """``_verify._rebuild`` as it was: one evolve per event, in log order."""
    from molq.core._cluster_events import SchedulerCommandFailed
    from molq.shell.store._sweep_projection import SWEEP_EVENT_TYPES

    records: dict[str, JobRecord] = {}
    transitions: list[tuple[Any, ...]] = []
    edges: list[tuple[Any, ...]] = []
    problems: list[str] = []
    broken: set[str] = set()
    for seq, stream, data in conn.execute("SELECT seq, stream, data FROM events ORDER BY seq"):
        try:
            event = decode_event(data)
            if isinstance(event, (*SWEEP_EVENT_TYPES, SchedulerCommandFailed)):
                continue
            if event.job_id != stream:
                problems.append(f"event {seq}: belongs to job {event.job_id} but is stored in stream {stream}")
            if stream in broken:
                continue
            before = records.get(stream)
            after = evolve(before, event)
        except (msgspec.DecodeError, msgspec.ValidationError, CorruptLogError) as exc:
            problems.append(f"event {seq} of {stream}: {exc}")
            broken.add(stream)
            continue
        if before is None or before.state != after.state:
            transitions.append(
                (seq, stream, before.state.value if before else None, after.state.value, event.at, _reason(event))
            )
        if isinstance(event, JobDependencyRecorded):
            edges.append((seq, stream, event.dependency_job_id, event.dependency_type, event.scheduler_dependency))
        records[stream] = after
    return records, transitions, edges, problems


@settings(max_examples=80, deadline=None)
@given(linked_logs(), st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["stream", "bytes"])), max_size=3),
       st.sampled_from([1, 4, 5000]))
def test_verify_folds_like_the_event_by_event_audit(log, damage, page):
    from molq.shell.store import _verify

    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        conn = store._conn
        insert_log(conn, log, {i % len(log): how for i, how in damage})
        try:
            monkey, _verify._PAGE = _verify._PAGE, page
            try:
                assert _verify._rebuild(conn) == oracle_verify_fold(conn)
            finally:
                _verify._PAGE = monkey
        finally:
            store.close()
