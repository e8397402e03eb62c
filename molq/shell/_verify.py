"""Audit: rebuild every projection from the log in memory and diff it with the store."""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec

from molq.core import CorruptLogError, JobRecord, StoreError, decode_event, evolve
from molq.core._cluster_events import SchedulerCommandFailed
from molq.core._events import JobCreated, JobDependencyRecorded

from ._sweep_projection import SWEEP_EVENT_TYPES, rebuild_sweeps, verify_sweeps


def verify_store(conn: sqlite3.Connection) -> list[str]:
    """Return one line per difference between stored and rebuilt projections."""
    rebuilt, transitions, edges, problems = _rebuild(conn)
    sweeps, sweep_problems = rebuild_sweeps(_sweep_rows(conn))
    problems += sweep_problems + verify_sweeps(conn, sweeps)
    rows = conn.execute(
        "SELECT job_id, record, cluster_name, root_job_id, attempt, state, scheduler_job_id, "
        "created_at, archived, retry_pending FROM jobs"
    )
    stored = {row[0]: row for row in rows}
    decoder = msgspec.json.Decoder(JobRecord)
    for job_id in sorted(set(stored) | set(rebuilt)):
        if job_id not in stored:
            problems.append(f"job {job_id}: missing from the jobs projection")
        elif job_id not in rebuilt:
            problems.append(f"job {job_id}: in the jobs projection but has no events")
        else:
            problems.extend(_diff_record(job_id, decoder.decode(stored[job_id][1]), rebuilt[job_id]))
            problems.extend(_diff_columns(job_id, stored[job_id][2:], rebuilt[job_id], rebuilt))
    stored_transitions = [tuple(r) for r in conn.execute(
        "SELECT seq, job_id, old_state, new_state, timestamp, reason FROM transitions ORDER BY seq")]
    if stored_transitions != transitions:
        problems.append(_list_diff("transitions", stored_transitions, transitions))
    stored_edges = [tuple(r) for r in conn.execute(
        "SELECT seq, job_id, dependency_job_id, dependency_type, scheduler_dependency FROM dependencies ORDER BY seq")]
    if stored_edges != edges:
        problems.append(_list_diff("dependencies", stored_edges, edges))
    return problems


def _rebuild(
    conn: sqlite3.Connection,
) -> tuple[dict[str, JobRecord], list[tuple[Any, ...]], list[tuple[Any, ...]], list[str]]:
    records: dict[str, JobRecord] = {}
    transitions: list[tuple[Any, ...]] = []
    edges: list[tuple[Any, ...]] = []
    problems: list[str] = []
    broken: set[str] = set()
    for seq, stream, data in conn.execute("SELECT seq, stream, data FROM events ORDER BY seq"):
        try:
            event = decode_event(data)
            if isinstance(event, SWEEP_EVENT_TYPES):
                continue
            if isinstance(event, SchedulerCommandFailed):
                continue  # cluster facts have no projection
            if event.job_id != stream:
                problems.append(f"event {seq}: belongs to job {event.job_id} but is stored in stream {stream}")
            if stream in broken:
                continue
            before = records.get(stream)
            after = evolve(before, event)
        except (msgspec.DecodeError, msgspec.ValidationError, CorruptLogError, StoreError) as exc:
            problems.append(f"event {seq} of {stream}: {exc}")
            broken.add(stream)
            continue
        if before is None or before.state != after.state:
            reason = getattr(event, "reason", None)
            if reason is None and isinstance(event, JobCreated) and event.attempt > 1:
                reason = f"retry attempt {event.attempt} of {event.root_job_id}"
            transitions.append(
                (seq, stream, before.state.value if before else None, after.state.value, event.at, reason)
            )
        if isinstance(event, JobDependencyRecorded):
            edges.append((seq, stream, event.dependency_job_id, event.dependency_type, event.scheduler_dependency))
        records[stream] = after
    return records, transitions, edges, problems


def _sweep_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    rows = []
    for seq, stream, data in conn.execute("SELECT seq, stream, data FROM events WHERE type LIKE 'sweep.%' ORDER BY seq"):
        rows.append((seq, stream, decode_event(data)))
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
    for field in stored.__attrs_attrs__:
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
