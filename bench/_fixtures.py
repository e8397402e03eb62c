"""Stores filled quickly: cloned events appended in batches, or raw log rows plus a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from molq.core import JobSpec, encode_event, event_tag
from molq.core._events import JobCreated, JobStarted, JobSubmitted, JobSucceeded
from molq.shell.store._store import JobStore


T0 = 1_700_000_000.0


def _created(job_id: str, cluster: str, scheduler: str, at: float) -> JobCreated:
    return JobCreated(
        job_id=job_id,
        at=at,
        cluster_name=cluster,
        scheduler=scheduler,
        root_job_id=job_id,
        spec=JobSpec("argv", argv=("true",)),
    )


def job_id(i: int) -> str:
    """A deterministic 32-hex job id."""
    return f"{i:032x}"


def submitted_jobs(store: JobStore, n: int, *, cluster: str, scheduler: str, first_sid: int = 1000) -> list[str]:
    """Append ``n`` created+submitted jobs through the store (projections kept); returns scheduler ids."""
    sids = []
    batch = []
    for i in range(n):
        jid, sid, at = job_id(i), str(first_sid + i), T0 + i * 1e-3
        events = [_created(jid, cluster, scheduler, at), JobSubmitted(job_id=jid, at=at, scheduler_job_id=sid)]
        batch.append((jid, events, 0))
        sids.append(sid)
        if len(batch) == 1000:
            store.append_batch(batch, now=at)
            batch = []
    if batch:
        store.append_batch(batch, now=T0 + n * 1e-3)
    return sids


def _finished_job_rows(i: int, cluster: str) -> Iterator[tuple[str, int, str, float, bytes]]:
    jid, at = job_id(i), T0 + i * 1e-3
    events = (
        _created(jid, cluster, "local", at),
        JobSubmitted(job_id=jid, at=at, scheduler_job_id=str(10_000 + i)),
        JobStarted(job_id=jid, at=at + 1, started_at=at + 1, raw_state="running"),
        JobSucceeded(job_id=jid, at=at + 2, exit_code=0, finished_at=at + 2, raw_state="exited 0"),
    )
    for version, event in enumerate(events, start=1):
        yield jid, version, event_tag(event), at, encode_event(event)


def raw_log(path: Path, n_jobs: int, *, cluster: str = "bench") -> int:
    """A store whose log holds ``4 * n_jobs`` events of finished jobs, projections empty."""
    store = JobStore(path)
    conn = store._conn
    conn.execute("BEGIN IMMEDIATE")
    for start in range(0, n_jobs, 10_000):
        rows = [row for i in range(start, min(n_jobs, start + 10_000)) for row in _finished_job_rows(i, cluster)]
        conn.executemany(
            "INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, ?, ?, ?, ?)", rows
        )
    conn.execute("COMMIT")
    store.close()
    return 4 * n_jobs
