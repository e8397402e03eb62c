"""Events and records as rows: encoding, decoding, and projecting job events into their tables.

The append (one transaction per batch) and the rebuild (pages of the whole log) both project
through ``_JobBatch`` so the two cannot drift apart.
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgspec

from molq.core import (
    CorruptLogError,
    JobEvent,
    JobRecord,
    JobState,
    Recorded,
    StoreError,
    decode_event,
    encode_event,
    event_tag,
    evolve,
)
from molq.core._events import JobCreated, JobDependencyRecorded, LogEvent
from molq.core._fold import fold_events
from molq.shell.store._sweep_projection import (
    is_sweep_event,
    project_sweeps,
    split_events,
)


_ACTIVE = tuple(s.value for s in JobState if not s.is_terminal)
_RECORD_ENCODER = msgspec.json.Encoder()
_RECORD_DECODER = msgspec.json.Decoder(JobRecord)


def _encode_readable(stream: str, event: LogEvent) -> bytes:
    """The event's bytes, once they are known to decode again: the log never takes what it cannot read.

    Raises:
        StoreError: the event holds a value its type does not allow (e.g. an unknown enum text).
    """
    data = encode_event(event)
    try:
        decode_event(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        msg = f"refusing to append {event_tag(event)} to {stream}: it would not read back ({exc}); nothing was written"
        raise StoreError(msg) from exc
    return data


def _scalar(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _recorded(row: tuple[Any, ...]) -> Recorded:
    seq, stream, version, recorded_at, data = row
    try:
        event = decode_event(data)
    except (
        msgspec.DecodeError,
        msgspec.ValidationError,
        UnicodeDecodeError,
        TypeError,
    ) as exc:  # TypeError: a damaged cell read as NULL
        msg = f"event {seq} of stream {stream} cannot be decoded: {exc}"
        raise CorruptLogError(msg) from exc
    return Recorded(seq=seq, stream=stream, version=version, recorded_at=recorded_at, event=event)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk fold.

    A rebuild allocates millions of short-lived, acyclic objects (rows, events, records);
    the collector's passes over them cost about as much as decoding the events did.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decode_page(rows: Sequence[tuple[Any, ...]]) -> tuple[_JobBatch, list[Recorded]]:
    """Decode log rows into a batch of job events and sweep envelopes (cluster events have no projection)."""
    jobs = _JobBatch()
    sweeps: list[Recorded] = []
    for row in rows:
        seq, stream, version, recorded_at, data = row
        try:
            event = decode_event(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, TypeError):
            _recorded(row)  # raises the CorruptLogError naming the event
            raise
        if type(event) in _JOB_EVENT_TYPES:
            jobs.add(seq, event)  # type: ignore[arg-type]  # narrowed by the type check
        elif is_sweep_event(event):
            sweeps.append(
                Recorded(seq=seq, stream=stream, version=version, recorded_at=recorded_at, event=event)
            )
    return jobs, sweeps


_JOB_EVENT_TYPES: frozenset[type] = frozenset(JobEvent.__args__)


def _project(conn: sqlite3.Connection, recorded: Sequence[Recorded]) -> None:
    """Fold new events into the projection tables (same transaction as the append)."""
    if not recorded:
        return
    job_items, sweep_items = split_events(recorded)
    project_sweeps(conn, sweep_items)
    jobs = _JobBatch()
    for item, event in job_items:
        jobs.add(item.seq, event)
    jobs.project(conn)


class _JobBatch:
    """Job events in log order, grouped by job, to fold into jobs, transitions and dependencies.

    Each job's events are folded at once (one record built per job, not per event) and
    every table is written with one ``executemany``; the rows are those an event-by-event
    fold in log order writes.
    """

    def __init__(self) -> None:
        self.events: dict[str, list[JobEvent]] = {}
        self.seqs: dict[str, list[int]] = {}
        self.edges: list[tuple[Any, ...]] = []

    def add(self, seq: int, event: JobEvent) -> None:
        job_id = event.job_id
        if (group := self.events.get(job_id)) is None:
            self.events[job_id] = [event]
            self.seqs[job_id] = [seq]
        else:
            group.append(event)
            self.seqs[job_id].append(seq)
        if type(event) is JobDependencyRecorded:
            self.edges.append(
                (seq, job_id, event.dependency_job_id, event.dependency_type, event.scheduler_dependency)
            )

    def project(self, conn: sqlite3.Connection) -> None:
        if not self.events:
            return
        stored, columns = _load_records(conn, self.events)
        folded: dict[str, tuple[JobRecord, int]] = {}
        transitions: list[tuple[Any, ...]] = []
        try:
            for job_id, group in self.events.items():
                record, changes = fold_events(stored.get(job_id), group)
                seqs = self.seqs[job_id]
                for index, old, new in changes:
                    event = group[index]
                    transitions.append(
                        (seqs[index], job_id, _VALUE.get(old), _VALUE[new], event.at, _reason(event))
                    )
                folded[job_id] = (record, seqs[-1])
        except CorruptLogError:
            self._raise_first_corruption(stored)
            raise
        if transitions:
            conn.executemany(
                "INSERT INTO transitions (seq, job_id, old_state, new_state, timestamp, reason) VALUES (?, ?, ?, ?, ?, ?)",
                transitions,
            )
        if self.edges:
            conn.executemany(
                "INSERT INTO dependencies (seq, job_id, dependency_job_id, dependency_type, scheduler_dependency) "
                "VALUES (?, ?, ?, ?, ?)",
                self.edges,
            )
        _save_records(conn, folded, columns)

    def _raise_first_corruption(self, stored: dict[str, JobRecord]) -> None:
        """Re-fold event by event in log order, so the error raised is the one at the earliest event."""
        items = sorted(
            (seq, event)
            for job_id, group in self.events.items()
            for seq, event in zip(self.seqs[job_id], group, strict=True)
        )
        records: dict[str, JobRecord | None] = dict(stored)
        for _, event in items:
            records[event.job_id] = evolve(records.get(event.job_id), event)


_VALUE: dict[JobState | None, str] = {state: state.value for state in JobState}  # Enum.value is slow


def indexed_columns(record: JobRecord) -> tuple[Any, ...]:
    """The jobs projection's columns from ``cluster_name`` to ``archived`` for ``record``.

    ``retry_pending`` depends on other jobs and is settled by the caller.
    """
    return (
        record.cluster_name,
        record.root_job_id,
        record.attempt,
        _VALUE[record.state],
        record.scheduler_job_id,
        record.created_at,
        int(record.archived_at is not None),
    )


def _reason(event: JobEvent) -> str | None:
    reason = getattr(event, "reason", None)
    if reason is None and isinstance(event, JobCreated) and event.attempt > 1:
        return f"retry attempt {event.attempt} of {event.root_job_id}"
    return reason


_IN_CHUNK = 900  # below SQLite's oldest default limit of 999 bound parameters


def _select_in(conn: sqlite3.Connection, sql: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (which ends in ``IN ({})``) for ``keys``, in chunks of bound parameters."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


StoredColumns = dict[str, tuple[int, int]]
"""``job_id -> (archived, retry_pending)`` as the jobs table holds them."""


def _load_records(
    conn: sqlite3.Connection, job_ids: Iterable[str]
) -> tuple[dict[str, JobRecord], StoredColumns]:
    """The stored records of ``job_ids`` (those the jobs table holds) and their flag columns."""
    rows = _select_in(
        conn, "SELECT job_id, archived, retry_pending, record FROM jobs WHERE job_id IN ({})", list(job_ids)
    )
    records = {job_id: _RECORD_DECODER.decode(data) for job_id, _, _, data in rows}
    return records, {job_id: (archived, pending) for job_id, archived, pending, _ in rows}


# An upsert rewrites the entry of every index on a column its SET list names (or that a
# partial index's WHERE reads), changed value or not: naming ``archived`` and ``retry_pending``
# only when one of them changes spares the jobs_listing page (and, before m004, the
# jobs_retry_pending one) on most appends. ``cluster_name``, ``root_job_id``, ``attempt``
# and ``created_at`` never change after ``job.created``, so no upsert names them.
_INSERT_JOB = (
    "INSERT INTO jobs (job_id, cluster_name, root_job_id, attempt, state, scheduler_job_id, created_at, "
    "archived, retry_pending, last_seq, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(job_id) DO UPDATE SET state = excluded.state, scheduler_job_id = excluded.scheduler_job_id, "
)
_UPSERT_FULL = (
    _INSERT_JOB + "archived = excluded.archived, retry_pending = excluded.retry_pending, "
    "last_seq = excluded.last_seq, record = excluded.record"
)
_UPSERT_LEAN = _INSERT_JOB + "last_seq = excluded.last_seq, record = excluded.record"
_ARCHIVED, _PENDING = 7, 8  # positions in a jobs row as _save_records builds it


def _save_records(
    conn: sqlite3.Connection, folded: dict[str, tuple[JobRecord, int]], stored: StoredColumns
) -> None:
    """Write the folded records as saving them one by one, in first-seen order, would.

    ``retry_pending`` is set while the next attempt does not exist yet; creating an attempt
    clears it on the previous one. ``stored`` holds the flag columns of the rows that exist;
    a row whose flags keep their values is written by the lean upsert (the same row).
    """
    wanted = [
        record.next_attempt_job_id
        for record, _ in folded.values()
        if record.next_attempt_job_id is not None and record.cancel_requested_at is None
    ]
    existing = {row[0] for row in _select_in(conn, "SELECT job_id FROM jobs WHERE job_id IN ({})", wanted)}
    rows: dict[str, list[Any]] = {}
    clears: list[tuple[str]] = []
    encode = _RECORD_ENCODER.encode
    for job_id, (record, seq) in folded.items():
        following = record.next_attempt_job_id
        pending = (
            following is not None
            and record.cancel_requested_at is None
            and following not in existing
            and following not in rows
        )
        previous = record.previous_attempt_job_id
        if job_id not in stored and previous is not None:
            # The attempt a retry was waiting for now exists; clear that once, not on every event.
            clears.append((previous,))
            if previous in rows:
                rows[previous][_PENDING] = 0
        rows[job_id] = [record.job_id, *indexed_columns(record), int(pending), seq, encode(record)]
    if clears:
        # Rows already at 0 are left unwritten (the same content, one page fewer).
        conn.executemany("UPDATE jobs SET retry_pending = 0 WHERE job_id = ? AND retry_pending = 1", clears)
    cleared = {previous for (previous,) in clears}
    lean: list[list[Any]] = []  # new rows, in first-seen order (so the same rowids), and unchanged flags
    full: list[list[Any]] = []
    for job_id, row in rows.items():
        columns = stored.get(job_id)
        if columns is not None and job_id in cleared:
            columns = (columns[0], 0)  # as the UPDATE above left the row
        unchanged = columns is None or (row[_ARCHIVED], row[_PENDING]) == columns
        (lean if unchanged else full).append(row)
    if lean:
        conn.executemany(_UPSERT_LEAN, lean)
    if full:
        conn.executemany(_UPSERT_FULL, full)


def encode_record(record: JobRecord) -> bytes:
    """Encode a record the way the jobs projection stores it."""
    return _RECORD_ENCODER.encode(record)
