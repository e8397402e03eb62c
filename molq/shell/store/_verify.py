"""Audit: rebuild every projection from the log in memory and diff it with the store.

``verify_store`` first asks the fast yes/no check of ``_verify_fast`` (streaming, by ranges of
streams, split between processes for a large log); only when it does not say yes does the exact
audit below run, so the lines it returns, and their order, are always the exact audit's.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any

import msgspec

from molq.core import (
    CorruptLogError,
    JobEvent,
    JobRecord,
    JobState,
    StoreError,
    decode_event,
    event_tag,
    evolve,
)
from molq.core._events import JobCreated, JobDependencyRecorded
from molq.core._fold import fold_events
from molq.shell.store._rows import _JOB_EVENT_TYPES, gc_paused
from molq.shell.store._sweep_projection import SWEEP_EVENT_TYPES, rebuild_sweeps, verify_sweeps
from molq.shell.store._verify_fast import PARALLEL_THRESHOLD, projections_match


def verify_store(
    conn: sqlite3.Connection,
    path: Path | None = None,
    *,
    workers: int = 2,
    threshold: int = PARALLEL_THRESHOLD,
) -> list[str]:
    """Return one line per difference between stored and rebuilt projections.

    With the store's ``path`` the fast check runs first (in ``workers`` processes once the log
    holds ``threshold`` events); without it, only the exact audit.
    """
    with gc_paused():
        if path is not None and projections_match(conn, path, workers=workers, threshold=threshold):
            return []
        began = not conn.in_transaction
        if began:
            conn.execute("BEGIN")  # one snapshot: a writer committing meanwhile is not half seen
        try:
            return _verify(conn)
        finally:
            if began and conn.in_transaction:
                conn.execute("COMMIT")


def _verify(conn: sqlite3.Connection) -> list[str]:
    rebuilt, transitions, edges, problems = _rebuild(conn)
    sweeps, sweep_problems = rebuild_sweeps(_sweep_rows(conn))
    problems += sweep_problems + verify_sweeps(conn, sweeps)
    rows = conn.execute(
        "SELECT job_id, record, cluster_name, root_job_id, attempt, state, scheduler_job_id, "
        "created_at, archived, retry_pending FROM jobs"
    )
    stored = {row[0]: row for row in rows}
    decoder = msgspec.json.Decoder(JobRecord)
    encode = msgspec.json.Encoder().encode  # the jobs projection's encoding
    for job_id in sorted(stored.keys() | rebuilt.keys()):
        if job_id not in stored:
            problems.append(f"job {job_id}: missing from the jobs projection")
        elif job_id not in rebuilt:
            problems.append(f"job {job_id}: in the jobs projection but has no events")
        else:
            row, record = stored[job_id], rebuilt[job_id]
            if row[1] != encode(record):  # equal bytes decode to an equal record
                problems.extend(_diff_record(job_id, decoder.decode(row[1]), record))
            problems.extend(_diff_columns(job_id, row[2:], record, rebuilt))
    stored_transitions = conn.execute(
        "SELECT seq, job_id, old_state, new_state, timestamp, reason FROM transitions ORDER BY seq").fetchall()
    if stored_transitions != transitions:
        problems.append(_list_diff("transitions", stored_transitions, transitions))
    stored_edges = conn.execute(
        "SELECT seq, job_id, dependency_job_id, dependency_type, scheduler_dependency FROM dependencies ORDER BY seq"
    ).fetchall()
    if stored_edges != edges:
        problems.append(_list_diff("dependencies", stored_edges, edges))
    return problems


_PAGE = 20_000
_VALUE: dict[JobState | None, str] = {state: state.value for state in JobState}
_UNREADABLE = (msgspec.DecodeError, msgspec.ValidationError)


class _Fold:
    """The in-memory rebuild of the job projections, fed the log page by page (seq order)."""

    def __init__(self) -> None:
        self.records: dict[str, JobRecord] = {}
        self.transitions: list[tuple[Any, ...]] = []
        self.edges: list[tuple[Any, ...]] = []
        self.problems: list[tuple[int, int, str]] = []  # (seq, order within the event, text)
        self.broken: set[str] = set()

    def page(self, rows: list[tuple[Any, ...]]) -> None:
        """Fold one page: each stream's events at once, as the event-by-event fold would."""
        start = len(self.transitions)
        events: dict[str, list[JobEvent]] = {}
        seqs: dict[str, list[int]] = {}
        for seq, stream, stored_type, data in rows:
            try:
                event = decode_event(data)
            except _UNREADABLE as exc:
                self.problems.append((seq, 0, f"event {seq} of {stream}: {exc}"))
                if stream in events:  # what came before the unreadable event still folds
                    self.fold(stream, events.pop(stream), seqs.pop(stream))
                self.broken.add(stream)
                continue
            if (tag := event_tag(event)) != stored_type:
                self.problems.append((seq, 0, _type_mismatch(seq, stream, stored_type, tag)))
            if type(event) not in _JOB_EVENT_TYPES:
                continue  # sweep events fold separately; cluster facts have no projection
            if event.job_id != stream:  # type: ignore[union-attr]  # a job event, checked above
                self.problems.append(
                    (seq, 0, f"event {seq}: belongs to job {event.job_id} but is stored in stream {stream}")  # type: ignore[union-attr]
                )
            if stream in self.broken:
                continue
            if (group := events.get(stream)) is None:
                events[stream] = [event]  # type: ignore[list-item]
                seqs[stream] = [seq]
            else:
                group.append(event)  # type: ignore[arg-type]
                seqs[stream].append(seq)
        for stream, group in events.items():
            self.fold(stream, group, seqs[stream])
        self.transitions[start:] = sorted(self.transitions[start:])  # streams interleave within a page

    def fold(self, stream: str, group: list[JobEvent], seqs: list[int]) -> None:
        try:
            record, changes = fold_events(self.records.get(stream), group)
        except CorruptLogError:
            self.fold_slowly(stream, group, seqs)
            return
        for index, old, new in changes:
            event = group[index]
            self.transitions.append((seqs[index], stream, _VALUE.get(old), _VALUE[new], event.at, _reason(event)))
        self.edges += [_edge(seq, stream, event) for seq, event in zip(seqs, group, strict=True)
                       if type(event) is JobDependencyRecorded]
        self.records[stream] = record

    def fold_slowly(self, stream: str, group: list[JobEvent], seqs: list[int]) -> None:
        """Event by event, to keep what folds before the impossible event and report that one."""
        for seq, event in zip(seqs, group, strict=True):
            before = self.records.get(stream)
            try:
                after = evolve(before, event)
            except (CorruptLogError, StoreError) as exc:
                self.problems.append((seq, 1, f"event {seq} of {stream}: {exc}"))
                self.broken.add(stream)
                return
            if before is None or before.state != after.state:
                self.transitions.append(
                    (seq, stream, _VALUE.get(before.state if before else None), _VALUE[after.state], event.at, _reason(event))
                )
            if type(event) is JobDependencyRecorded:
                self.edges.append(_edge(seq, stream, event))
            self.records[stream] = after


def _edge(seq: int, stream: str, event: JobEvent) -> tuple[Any, ...]:
    assert isinstance(event, JobDependencyRecorded)  # noqa: S101 - callers pass dependency events only
    return (seq, stream, event.dependency_job_id, event.dependency_type, event.scheduler_dependency)


def _reason(event: JobEvent) -> str | None:
    reason: str | None = getattr(event, "reason", None)
    if reason is None and isinstance(event, JobCreated) and event.attempt > 1:
        reason = f"retry attempt {event.attempt} of {event.root_job_id}"
    return reason


def _rebuild(
    conn: sqlite3.Connection,
) -> tuple[dict[str, JobRecord], list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
    fold = _Fold()
    cursor = conn.execute("SELECT seq, stream, type, data FROM events ORDER BY seq")
    while rows := cursor.fetchmany(_PAGE):
        fold.page(rows)
    fold.edges.sort()
    problems = [text for _, _, text in sorted(fold.problems)]
    return fold.records, fold.transitions, fold.edges, problems


def _type_mismatch(seq: int, stream: str, stored_type: str, tag: str) -> str:
    return (
        f"event {seq} of {stream}: its type column says {stored_type!r} but its data is a "
        f"{tag!r} event: the log was changed after it was written"
    )


def _sweep_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """The sweep events, by the type column; a row whose data is not one (reported by the fold) is left out."""
    rows = []
    query = "SELECT seq, stream, data FROM events WHERE type LIKE 'sweep.%' ORDER BY seq"
    for seq, stream, data in conn.execute(query):
        try:
            event = decode_event(data)
        except _UNREADABLE:
            continue  # the fold reports it
        if isinstance(event, SWEEP_EVENT_TYPES):
            rows.append((seq, stream, event))
    return rows


_COLUMNS = ("cluster_name", "root_job_id", "attempt", "state", "scheduler_job_id", "created_at", "archived", "retry_pending")


def _diff_columns(
    job_id: str, stored: tuple[Any, ...], record: JobRecord, records: dict[str, JobRecord]
) -> list[str]:
    """The indexed columns must agree with the record the log folds to."""
    pending = (
        record.next_attempt_job_id is not None
        and record.cancel_requested_at is None
        and record.next_attempt_job_id not in records
    )
    # Spelled out, not the projector's indexed_columns(): an audit must not share the code it checks.
    expected = (
        record.cluster_name,
        record.root_job_id,
        record.attempt,
        record.state.value,
        record.scheduler_job_id,
        record.created_at,
        int(record.archived_at is not None),
        int(pending),
    )
    return [
        f"job {job_id}: column {name} is {a!r} in the projection but {b!r} in the log"
        for name, a, b in zip(_COLUMNS, stored, expected, strict=True)
        if a != b
    ]


def _diff_record(job_id: str, stored: JobRecord, rebuilt: JobRecord) -> list[str]:
    if stored == rebuilt:
        return []
    out = []
    for field in dataclasses.fields(stored):
        a, b = getattr(stored, field.name), getattr(rebuilt, field.name)
        if a != b:
            out.append(f"job {job_id}: {field.name} is {a!r} in the projection but {b!r} in the log")
    return out


def _list_diff(name: str, stored: list[tuple[Any, ...]], rebuilt: list[tuple[Any, ...]]) -> str:
    only_stored = [r for r in stored if r not in set(rebuilt)]
    only_rebuilt = [r for r in rebuilt if r not in set(stored)]
    return (
        f"{name}: {len(stored)} stored rows vs {len(rebuilt)} rebuilt; "
        f"only stored: {only_stored[:3]!r}; only rebuilt: {only_rebuilt[:3]!r}"
    )
