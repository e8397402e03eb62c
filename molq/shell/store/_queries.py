"""Reading the projections: records, families, transitions, dependency edges, sweeps.

A mixin of JobStore: the log and its write path live in ``_store``, the questions asked of
the projections here. Each method reads ``self._conn``, this thread's connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING

from molq.core import (
    JobDependency,
    JobRecord,
    JobState,
    Recorded,
    StatusTransition,
    decode_event,
)
from molq.core._cluster_events import SchedulerCommandFailed, cluster_stream
from molq.shell.store._rows import _ACTIVE, _RECORD_DECODER, _recorded
from molq.shell.store._sweep_projection import (
    list_sweeps,
    load_sweep,
)


if TYPE_CHECKING:
    from molq.core._sweep_state import SweepRecord


class ProjectionQueries:
    """The read side of JobStore over its projection tables."""

    @property
    def _conn(self) -> sqlite3.Connection:
        """This thread's connection: JobStore provides it."""
        raise NotImplementedError

    # -- reading projections -------------------------------------------------------------
    def get_record(self, job_id: str) -> JobRecord | None:
        """The current record of one job, or None."""
        row = self._conn.execute("SELECT record FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _RECORD_DECODER.decode(row[0]) if row else None

    def list_records(
        self,
        cluster_name: str | None,
        *,
        include_terminal: bool = True,
        include_archived: bool = False,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Records of a cluster (all clusters for None), newest first."""
        where, params = ["1 = 1"], []
        if cluster_name is not None:
            where.append("cluster_name = ?")
            params.append(cluster_name)
        if not include_archived:
            where.append("archived = 0")
        if not include_terminal:
            where.append(f"state IN ({','.join('?' * len(_ACTIVE))})")
            params.extend(_ACTIVE)
        sql = f"SELECT record FROM jobs WHERE {' AND '.join(where)} ORDER BY created_at DESC, job_id"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_RECORD_DECODER.decode(row[0]) for row in self._conn.execute(sql, params)]

    def family(self, root_job_id: str) -> list[JobRecord]:
        """Every attempt of a retry family, first attempt first."""
        rows = self._conn.execute(
            "SELECT record FROM jobs WHERE root_job_id = ? ORDER BY attempt", (root_job_id,)
        )
        return [_RECORD_DECODER.decode(row[0]) for row in rows]

    def pending_retries(self, cluster_name: str) -> list[JobRecord]:
        """Terminal attempts whose scheduled retry has not been created yet."""
        rows = self._conn.execute(
            "SELECT record FROM jobs WHERE cluster_name = ? AND retry_pending = 1", (cluster_name,)
        )
        return [_RECORD_DECODER.decode(row[0]) for row in rows]

    def latest_attempt(self, root_job_id: str) -> JobRecord | None:
        """The newest attempt of a retry family."""
        row = self._conn.execute(
            "SELECT record FROM jobs WHERE root_job_id = ? ORDER BY attempt DESC LIMIT 1", (root_job_id,)
        ).fetchone()
        return _RECORD_DECODER.decode(row[0]) if row else None

    def find_job_ids(self, prefix: str, cluster_name: str | None = None) -> list[str]:
        """Job ids starting with ``prefix`` (for unique-prefix lookups)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = "SELECT job_id FROM jobs WHERE job_id LIKE ? ESCAPE '\\'"
        params: list[str] = [escaped + "%"]
        if cluster_name is not None:
            sql += " AND cluster_name = ?"
            params.append(cluster_name)
        return [row[0] for row in self._conn.execute(sql + " LIMIT 50", params)]

    def transitions(self, job_id: str) -> list[StatusTransition]:
        """Lifecycle transitions of one job, oldest first."""
        rows = self._conn.execute(
            "SELECT job_id, old_state, new_state, timestamp, reason FROM transitions WHERE job_id = ? ORDER BY seq",
            (job_id,),
        )
        return [
            StatusTransition(r[0], JobState(r[1]) if r[1] else None, JobState(r[2]), r[3], r[4]) for r in rows
        ]

    def dependencies(self, job_id: str) -> list[JobDependency]:
        """Edges from ``job_id`` to its upstream jobs."""
        return self._edges("job_id", job_id)

    def dependents(self, job_id: str) -> list[JobDependency]:
        """Edges from downstream jobs to ``job_id``."""
        return self._edges("dependency_job_id", job_id)

    def _edges(self, column: str, job_id: str) -> list[JobDependency]:
        rows = self._conn.execute(
            "SELECT job_id, dependency_job_id, dependency_type, scheduler_dependency "  # noqa: S608
            f"FROM dependencies WHERE {column} = ? ORDER BY seq",
            (job_id,),
        )
        return [JobDependency(r[0], r[1], r[2], r[3]) for r in rows]

    def scheduler_failures(self, cluster_name: str, *, limit: int = 50) -> list[SchedulerCommandFailed]:
        """The cluster's recorded scheduler/transport failures, newest first."""
        rows = self._conn.execute(
            "SELECT data FROM events WHERE stream = ? ORDER BY version DESC LIMIT ?",
            (cluster_stream(cluster_name), limit),
        )
        events = [decode_event(row[0]) for row in rows]
        return [e for e in events if isinstance(e, SchedulerCommandFailed)]

    # -- sweeps and job context (projections in _sweep_projection) -------------------------------
    def get_sweep(self, sweep_id: str) -> SweepRecord | None:
        """The current record of one sweep, or None."""
        return load_sweep(self._conn, sweep_id)

    def list_sweeps(self, cluster_name: str | None, *, open_only: bool = False) -> list[SweepRecord]:
        """Sweeps of a cluster (all clusters for None), newest first."""
        return list_sweeps(self._conn, cluster_name, open_only=open_only)

    def events_of_type(self, streams: Sequence[str], tag: str) -> list[Recorded]:
        """Events tagged ``tag`` in ``streams``, oldest first (uses the stream index)."""
        marks = ",".join("?" * len(streams))
        rows = self._conn.execute(
            "SELECT seq, stream, version, recorded_at, data FROM events "  # noqa: S608
            f"WHERE stream IN ({marks}) AND type = ? ORDER BY seq",
            (*streams, tag),
        )
        return [_recorded(row) for row in rows]
