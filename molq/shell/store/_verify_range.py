"""One range of stream ids: fold its streams and compare them with its stored rows, yes or no.

Rules of this module (``_verify_fast`` runs it over every range, in several processes):
  Rule 1 (ranges): streams are split into disjoint ranges of their id, ``lo <= id < hi``
         in SQLite's BINARY order. The same predicate selects a range's events (by
         ``stream``), jobs, transitions and dependencies (by ``job_id``) and sweeps (by
         ``sweep_id``), so the ranges together hold every row once and each is checked alone,
         reading by index and holding one range in memory, never the whole log.
  Rule 2 (fold order): a range's events are read in ``(stream, version)`` index order; a
         stream whose ``seq`` does not rise with ``version`` makes the answer no, so each
         stream folds in log order, as the exact audit folds it. Any problem the exact audit
         would name (an unreadable event, an event in another job's stream, an impossible
         history, a row whose ``type`` column and payload disagree) also makes it no.
  Rule 3 (retry_pending): the exact audit sets it while the next attempt is not among the
         folded jobs. Every range checks that its folded jobs are exactly its stored jobs, so
         when every range says yes the two sets are equal and a range may ask the jobs table.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from molq.core import JobState
from molq.core._events import _DECODER, JobCreated, JobDependencyRecorded, JobEvent
from molq.core._fold import fold_events
from molq.shell.store._rows import _JOB_EVENT_TYPES
from molq.shell.store._sweep_projection import SWEEP_DECODER, SWEEP_EVENT_TYPES, rebuild_sweeps


Range = tuple[str | None, str | None]
"""``(lo, hi)``: ids with ``lo <= id < hi``; None is unbounded."""
_VALUE: dict[JobState | None, str] = {state: state.value for state in JobState}


def check_range(conn: sqlite3.Connection, bounds: Range) -> bool:
    """Whether one range's stored rows equal the fold of its streams (caller holds a read transaction)."""
    try:
        return _RangeCheck(conn, bounds).run()
    except Exception:  # undecodable bytes, impossible histories, I/O: the exact audit names them
        return False


def _where(column: str, bounds: Range) -> tuple[str, list[str]]:
    lo, hi = bounds
    parts, args = [], []
    if lo is not None:
        parts.append(f"{column} >= ?")
        args.append(lo)
    if hi is not None:
        parts.append(f"{column} < ?")
        args.append(hi)
    return " AND ".join(parts) or "1", args


_ENCODE = msgspec.json.Encoder().encode  # the jobs projection's encoding
_DECODE = _DECODER.decode  # ``decode_event`` without the call around it


class _RangeCheck:
    """Fold a range's streams one at a time and compare each job with its stored row as it completes."""

    def __init__(self, conn: sqlite3.Connection, bounds: Range) -> None:
        self.conn = conn
        self.bounds = bounds
        self.transitions: list[tuple[Any, ...]] = []
        self.edges: list[tuple[Any, ...]] = []
        self.sweep_rows: list[tuple[Any, ...]] = []
        self.pending: list[tuple[str, int]] = []  # (next attempt, stored retry_pending)
        where, args = _where("job_id", bounds)
        self.jobs = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT job_id, record, cluster_name, root_job_id, attempt, state, scheduler_job_id, "  # noqa: S608
                f"created_at, archived, retry_pending FROM jobs WHERE {where}",
                args,
            )
        }

    def run(self) -> bool:
        where, args = _where("stream", self.bounds)
        rows = self.conn.execute(
            f"SELECT seq, stream, type, data FROM events WHERE {where} "  # noqa: S608
            "ORDER BY stream, version",
            args,
        )
        decode, job_types, sweep_types = _DECODE, _JOB_EVENT_TYPES, SWEEP_EVENT_TYPES
        current: str | None = None
        events: list[JobEvent] = []
        seqs: list[int] = []
        last = 0
        for seq, stream, stored_type, data in rows:
            if stream != current:
                if events and not self.job(current, events, seqs):  # type: ignore[arg-type]
                    return False
                current, events, seqs, last = stream, [], [], 0
            if seq <= last:
                return False  # versions out of log order: the exact audit folds by seq
            last = seq
            event = decode(data)
            if type(event).__struct_config__.tag != stored_type:
                return False  # a row whose type column and payload disagree: the exact audit names it
            sweep = isinstance(event, sweep_types)
            if type(event) in job_types:
                if event.job_id != stream:  # type: ignore[union-attr]  # a job event, checked above
                    return False
                events.append(event)  # type: ignore[arg-type]
                seqs.append(seq)
            elif sweep:
                self.sweep_rows.append((seq, stream, event))
        if events and not self.job(current, events, seqs):  # type: ignore[arg-type]
            return False
        return not self.jobs and self.stored_rows_agree() and self.sweeps_agree()

    def job(self, stream: str, events: list[JobEvent], seqs: list[int]) -> bool:
        record, changes = fold_events(None, events)  # an impossible history raises: the answer is no
        transitions = self.transitions
        for index, old, new in changes:
            event = events[index]
            reason = getattr(event, "reason", None)
            if reason is None and type(event) is JobCreated and event.attempt > 1:
                reason = f"retry attempt {event.attempt} of {event.root_job_id}"
            transitions.append((seqs[index], stream, _VALUE.get(old), _VALUE[new], event.at, reason))
        for seq, event in zip(seqs, events, strict=True):
            if type(event) is JobDependencyRecorded:
                self.edges.append(
                    (seq, stream, event.dependency_job_id, event.dependency_type, event.scheduler_dependency)
                )
        row = self.jobs.pop(stream, None)
        # Spelled out, not the projector's indexed_columns(): an audit must not share the code it checks.
        if row is None or row[:8] != (
            _ENCODE(record),
            record.cluster_name,
            record.root_job_id,
            record.attempt,
            _VALUE[record.state],
            record.scheduler_job_id,
            record.created_at,
            int(record.archived_at is not None),
        ):
            return False
        following = record.next_attempt_job_id
        if following is not None and record.cancel_requested_at is None:
            self.pending.append((following, row[8]))
            return True
        return bool(row[8] == 0)

    def _stored(self, table: str, columns: str) -> list[Any]:
        """``(seq, job_id, *columns)`` rows of a per-job projection table in this range, by job then seq."""
        where, args = _where("job_id", self.bounds)
        return self.conn.execute(
            f"SELECT seq, job_id, {columns} FROM {table} WHERE {where} ORDER BY job_id, seq",  # noqa: S608
            args,
        ).fetchall()

    def stored_rows_agree(self) -> bool:
        if self._stored("transitions", "old_state, new_state, timestamp, reason") != self.transitions:
            return False
        if self._stored("dependencies", "dependency_job_id, dependency_type, scheduler_dependency") != self.edges:
            return False
        wanted = sorted({following for following, _ in self.pending})
        existing = {
            row[0] for row in select_in(self.conn, "SELECT job_id FROM jobs WHERE job_id IN ({})", wanted)
        }
        return all(stored == int(following not in existing) for following, stored in self.pending)

    def sweeps_agree(self) -> bool:
        rebuilt, problems = rebuild_sweeps(self.sweep_rows)
        if problems:
            return False
        where, args = _where("sweep_id", self.bounds)
        stored = self.conn.execute(f"SELECT sweep_id, record FROM sweeps WHERE {where}", args).fetchall()  # noqa: S608
        return len(stored) == len(rebuilt) and all(
            sweep_id in rebuilt and SWEEP_DECODER.decode(data) == rebuilt[sweep_id]
            for sweep_id, data in stored
        )


def select_in(conn: sqlite3.Connection, sql: str, keys: Sequence[str | int]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (ending in ``IN ({})``) for ``keys``, in chunks of bound parameters."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), 900):
        chunk = keys[start : start + 900]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows
