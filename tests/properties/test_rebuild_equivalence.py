"""The batched rebuild writes the rows the event-by-event projector (molq <= 0.x, kept here) wrote.

The oracle below is the projection code as it was before rebuilds folded each job's events
at once: per event, load the record, evolve it, insert its transition; per job, save.
"""

from __future__ import annotations

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
from molq.shell import _store
from molq.shell._store import JobStore


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
    conn.execute(
        "INSERT INTO projection_checkpoints (name, last_seq) VALUES ('jobs', ?) "
        "ON CONFLICT(name) DO UPDATE SET last_seq = MAX(last_seq, excluded.last_seq)",
        (batch[-1][0],),
    )


def oracle_rebuild(conn: sqlite3.Connection, page: int) -> int:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in ("jobs", "transitions", "dependencies", "sweeps", "projection_checkpoints"):
            conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
        rows = conn.execute("SELECT seq, data FROM events ORDER BY seq").fetchall()
        for start in range(0, len(rows), page):
            oracle_project(conn, [(seq, decode_event(data)) for seq, data in rows[start : start + page]])
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(rows)


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    order = {"jobs": "job_id", "projection_checkpoints": "name", "sweeps": "sweep_id"}
    return {
        table: conn.execute(f"SELECT * FROM {table} ORDER BY {order.get(table, 'seq')}").fetchall()  # noqa: S608
        for table in ("jobs", "transitions", "dependencies", "sweeps", "projection_checkpoints")
    }


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
        versions: dict[str, int] = {}
        for event in log:
            versions[event.job_id] = versions.get(event.job_id, 0) + 1
            conn.execute(
                "INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, ?, ?, ?, ?)",
                (event.job_id, versions[event.job_id], event_tag(event), 0.0, encode_event(event)),
            )
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
    from molq.shell._sweep_projection import SWEEP_EVENT_TYPES

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
    from molq.shell import _verify

    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Path(tmp) / "jobs.db")
        conn = store._conn
        versions: dict[str, int] = {}
        hurt = {i % len(log): how for i, how in damage}
        for i, event in enumerate(log):
            stream, data = event.job_id, encode_event(event)
            if hurt.get(i) == "stream":
                stream = "z"
            elif hurt.get(i) == "bytes":
                data = data[: len(data) // 2]
            versions[stream] = versions.get(stream, 0) + 1
            conn.execute(
                "INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, ?, ?, ?, ?)",
                (stream, versions[stream], event_tag(event), 0.0, data),
            )
        try:
            monkey, _verify._PAGE = _verify._PAGE, page
            try:
                assert _verify._rebuild(conn) == oracle_verify_fold(conn)
            finally:
                _verify._PAGE = monkey
        finally:
            store.close()
