"""Lean reads for ``molq list``: only the rows shown, found through the store's indexes.

``JobStore.list_records`` sorts whole records; on a store of 100,000 jobs that copies
every record blob into SQLite's sorter. These queries sort row ids only, reach active
jobs through ``jobs_cluster_state`` and decode just the records that are returned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec

from molq.core import CorruptLogError, JobRecord, JobState, decode_event
from molq.core._events import JobCreated
from molq.shell.store._sqlite_errors import store_error


if TYPE_CHECKING:
    from molq.shell.store._store import JobStore


_ACTIVE = tuple(s.value for s in JobState if not s.is_terminal)
_DECODER = msgspec.json.Decoder(JobRecord)
_ORDER = "ORDER BY created_at DESC, job_id"
_CHUNK = 500
# Distinct cluster names by a loose index scan (one index seek per cluster), so the active
# filter below can seek ``jobs_cluster_state (cluster_name, archived, state)`` instead of scanning.
_CLUSTERS = (
    "WITH RECURSIVE clusters(name) AS (SELECT min(cluster_name) FROM jobs UNION ALL "
    "SELECT (SELECT min(cluster_name) FROM jobs WHERE cluster_name > name) FROM clusters "
    "WHERE name IS NOT NULL) "
)


def list_jobs(
    store: JobStore, cluster_name: str | None, *, include_terminal: bool, limit: int | None = None
) -> list[JobRecord]:
    """Unarchived records of a cluster (all clusters for None), newest first.

    The same rows as ``store.list_records(cluster_name, include_terminal=..., limit=...)``.
    """
    with_clause, ids, params = _row_ids_sql(cluster_name, include_terminal=include_terminal)
    if limit is not None:
        ids += f" LIMIT {int(limit)}"
    # Sort row ids only, then fetch and decode just the records shown (sorting those again).
    sql = f"{with_clause}SELECT record FROM jobs WHERE rowid IN ({ids}) {_ORDER}"  # noqa: S608
    with _reading(store):
        return [_DECODER.decode(row[0]) for row in store.conn.execute(sql, params)]


def active_clusters(store: JobStore) -> dict[str, str]:
    """``{cluster_name: scheduler}`` for every cluster with active, unarchived jobs."""
    found: dict[str, str] = {}
    for record in list_jobs(store, None, include_terminal=False):
        found.setdefault(record.cluster_name, record.scheduler)
    return found


def job_names(store: JobStore, records: Sequence[JobRecord]) -> dict[str, str | None]:
    """``{job_id: job_name}``: the ``job_name`` each job was created with, or None.

    Reads ``job.created`` events only for records whose projection has no name
    (one query per 500 jobs); an unreadable event counts as no name.
    """
    names: dict[str, str | None] = {r.job_id: r.job_name for r in records}
    missing = [job_id for job_id, name in names.items() if name is None]
    with _reading(store):
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = store.conn.execute(
                f"SELECT stream, data FROM events WHERE stream IN ({marks}) AND version = 1",  # noqa: S608
                chunk,
            )
            for job_id, data in rows:
                names[job_id] = _created_name(data)
    return names


def _created_name(data: bytes) -> str | None:
    try:
        event = decode_event(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, TypeError):
        return None
    return event.spec.execution.job_name if isinstance(event, JobCreated) else None


def _row_ids_sql(cluster_name: str | None, *, include_terminal: bool) -> tuple[str, str, list[Any]]:
    """A WITH clause (or ""), the ordered ``SELECT rowid`` of the rows listed, and its parameters."""
    where: list[str] = ["archived = 0"]
    params: list[Any] = []
    if not include_terminal:
        where.append(f"state IN ({','.join('?' * len(_ACTIVE))})")
        params += _ACTIVE
    with_clause = ""
    if cluster_name is not None:
        where.insert(0, "cluster_name = ?")
        params.insert(0, cluster_name)
    elif not include_terminal:
        with_clause = _CLUSTERS
        where.insert(0, "cluster_name IN (SELECT name FROM clusters)")
    # For active jobs, ``+created_at`` keeps the planner on jobs_cluster_state (few rows, sorted
    # afterwards) even if an index on created_at exists: that one would walk every archived = 0 row.
    order = _ORDER if include_terminal else _ORDER.replace("created_at", "+created_at")
    return with_clause, f"SELECT rowid FROM jobs WHERE {' AND '.join(where)} {order}", params  # noqa: S608


@contextmanager
def _reading(store: JobStore) -> Iterator[None]:
    """Re-raise SQLite and decoding errors the way ``JobStore`` methods do."""
    try:
        yield
    except sqlite3.IntegrityError:
        raise
    except sqlite3.DatabaseError as exc:
        raise store_error(store.path, exc) from exc
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        msg = f"{store.path} holds a record that cannot be decoded ({exc})"
        raise CorruptLogError(msg) from exc


__all__ = ["active_clusters", "job_names", "list_jobs"]
