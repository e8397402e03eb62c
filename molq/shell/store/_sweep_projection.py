"""The ``sweeps`` projection: one row per sweep, folded from its stream in the append's transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from molq.core import CorruptLogError
from molq.core._cluster_events import SchedulerCommandFailed
from molq.core._events import JobEvent, LogEvent, Recorded
from molq.core._sweep_events import SweepCancelRequested, SweepCellLaunched, SweepCreated, SweepStopped
from molq.core._sweep_state import SweepRecord, evolve_sweep
from molq.core._value import decode_extra, encode_extra


SWEEP_EVENT_TYPES = (SweepCreated, SweepCellLaunched, SweepCancelRequested, SweepStopped)
_ENCODER = msgspec.json.Encoder(enc_hook=encode_extra)
SWEEP_DECODER = msgspec.json.Decoder(SweepRecord, dec_hook=decode_extra)


def split_events(recorded: Iterable[Recorded]) -> tuple[list[tuple[Recorded, JobEvent]], list[Recorded]]:
    """Separate job events (with their narrowed type) from sweep events."""
    jobs: list[tuple[Recorded, JobEvent]] = []
    sweeps: list[Recorded] = []
    for item in recorded:
        if isinstance(item.event, SWEEP_EVENT_TYPES):
            sweeps.append(item)
        elif isinstance(item.event, SchedulerCommandFailed):
            continue  # cluster facts: read from the log directly, no projection
        else:
            jobs.append((item, item.event))
    return jobs, sweeps


def is_sweep_event(event: LogEvent) -> bool:
    """Whether ``event`` belongs to a sweep stream."""
    return isinstance(event, SWEEP_EVENT_TYPES)


def project_sweeps(conn: sqlite3.Connection, recorded: Sequence[Recorded]) -> None:
    """Fold sweep events into the ``sweeps`` table (caller holds the transaction)."""
    if not recorded:
        return
    folded: dict[str, tuple[SweepRecord, int]] = {}
    for item in recorded:
        event = item.event
        if not isinstance(event, SWEEP_EVENT_TYPES):
            continue
        before = folded[event.sweep_id][0] if event.sweep_id in folded else load_sweep(conn, event.sweep_id)
        folded[event.sweep_id] = (evolve_sweep(before, event), item.seq)
    for record, seq in folded.values():
        save_sweep(conn, record, seq)


def load_sweep(conn: sqlite3.Connection, sweep_id: str) -> SweepRecord | None:
    """The stored projection of one sweep, or None."""
    row = conn.execute("SELECT record FROM sweeps WHERE sweep_id = ?", (sweep_id,)).fetchone()
    return SWEEP_DECODER.decode(row[0]) if row else None


def save_sweep(conn: sqlite3.Connection, record: SweepRecord, seq: int) -> None:
    """Insert or replace one sweep row."""
    conn.execute(
        "INSERT INTO sweeps (sweep_id, cluster_name, created_at, is_open, last_seq, record) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(sweep_id) DO UPDATE SET is_open = excluded.is_open, last_seq = excluded.last_seq, "
        "record = excluded.record",
        (
            record.sweep_id,
            record.cluster_name,
            record.created_at,
            int(record.is_open),
            seq,
            _ENCODER.encode(record),
        ),
    )


def list_sweeps(
    conn: sqlite3.Connection, cluster_name: str | None, *, open_only: bool = False
) -> list[SweepRecord]:
    """Sweeps of a cluster (all clusters for None), newest first."""
    where, params = ["1 = 1"], []
    if cluster_name is not None:
        where.append("cluster_name = ?")
        params.append(cluster_name)
    if open_only:
        where.append("is_open = 1")
    sql = f"SELECT record FROM sweeps WHERE {' AND '.join(where)} ORDER BY created_at DESC, sweep_id"  # noqa: S608
    return [SWEEP_DECODER.decode(row[0]) for row in conn.execute(sql, params)]


def rebuild_sweeps(rows: Iterable[tuple[Any, ...]]) -> tuple[dict[str, SweepRecord], list[str]]:
    """Fold decoded ``(seq, stream, event)`` rows of sweep streams in memory (for verify)."""
    records: dict[str, SweepRecord] = {}
    problems: list[str] = []
    for seq, stream, event in rows:
        if event.sweep_id != stream:
            problems.append(
                f"event {seq}: belongs to sweep {event.sweep_id} but is stored in stream {stream}"
            )
        try:
            records[stream] = evolve_sweep(records.get(stream), event)
        except CorruptLogError as exc:
            problems.append(f"event {seq} of sweep {stream}: {exc}")
    return records, problems


def verify_sweeps(conn: sqlite3.Connection, rebuilt: dict[str, SweepRecord]) -> list[str]:
    """Differences between the stored ``sweeps`` rows and the rebuilt ones."""
    stored = {
        row[0]: SWEEP_DECODER.decode(row[1]) for row in conn.execute("SELECT sweep_id, record FROM sweeps")
    }
    problems = []
    for sweep_id in sorted(set(stored) | set(rebuilt)):
        if sweep_id not in stored:
            problems.append(f"sweep {sweep_id}: missing from the sweeps projection")
        elif sweep_id not in rebuilt:
            problems.append(f"sweep {sweep_id}: in the sweeps projection but has no events")
        elif stored[sweep_id] != rebuilt[sweep_id]:
            problems.append(f"sweep {sweep_id}: projection differs from the log")
    return problems
