"""The lean ``molq list`` reads return exactly what ``JobStore.list_records`` returns."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from molq import JobStore
from molq.core import JobSpec
from molq.core._events import (
    JobArchived,
    JobCreated,
    JobFailed,
    JobQueued,
    JobStarted,
    JobSubmitted,
    JobSucceeded,
    LogEvent,
)
from molq.core._spec import JobExecution
from molq.shell.store._job_listing import _row_ids_sql, active_clusters, job_names, list_jobs


def _created(job_id: str, at: float, cluster: str, name: str | None = None) -> JobCreated:
    spec = JobSpec("argv", argv=("echo", job_id), execution=JobExecution(job_name=name))
    return JobCreated(
        job_id=job_id, at=at, cluster_name=cluster, scheduler="local", root_job_id=job_id, spec=spec
    )


def _job(
    store: JobStore, job_id: str, at: float, cluster: str, *later: LogEvent, name: str | None = None
) -> None:
    store.append(job_id, [_created(job_id, at, cluster, name), *later], expected_version=0, now=at)


@pytest.fixture
def filled(store: JobStore) -> JobStore:
    """Jobs in three clusters, every kind of state, archived ones and created_at ties."""
    sub = JobSubmitted(job_id="", at=0, scheduler_job_id="1")
    for i, cluster in enumerate(["c", "other", "c", "zeta", "c", "other"]):
        jid = f"a{i}"
        _job(store, jid, 10.0 + i, cluster, _for(sub, jid))
    _job(store, "q1", 5.0, "c", _for(sub, "q1"), JobQueued(job_id="q1", at=6))
    _job(store, "r1", 5.0, "other", _for(sub, "r1"), JobStarted(job_id="r1", at=6, started_at=6))
    _job(store, "r0", 5.0, "other", _for(sub, "r0"), JobStarted(job_id="r0", at=6, started_at=6))
    _job(store, "new", 20.0, "c", name="named")
    for i in range(4):
        jid = f"d{i}"
        done = JobSucceeded if i % 2 else JobFailed
        _job(
            store, jid, 1.0 + i, "c" if i < 3 else "zeta", _for(sub, jid), done(job_id=jid, at=9, exit_code=i)
        )
    _job(store, "gone", 30.0, "c", _for(sub, "gone"), JobFailed(job_id="gone", at=31, exit_code=1))
    store.append("gone", [JobArchived(job_id="gone", at=32)], expected_version=3, now=32)
    _job(store, "hidden", 31.0, "gone-cluster", _for(sub, "hidden"), JobArchived(job_id="hidden", at=32))
    return store


def _for(event: JobSubmitted, job_id: str) -> JobSubmitted:
    """``event`` for another job."""
    return msgspec.structs.replace(event, job_id=job_id)


@pytest.mark.parametrize("cluster", [None, "c", "other", "zeta", "gone-cluster", "missing"])
@pytest.mark.parametrize("include_terminal", [True, False])
@pytest.mark.parametrize("limit", [None, 1, 3, 200])
def test_list_jobs_matches_list_records(
    filled: JobStore, cluster: str | None, include_terminal: bool, limit: int | None
) -> None:
    """Same records in the same order for every filter and limit."""
    expected = filled.list_records(cluster, include_terminal=include_terminal, limit=limit)
    assert list_jobs(filled, cluster, include_terminal=include_terminal, limit=limit) == expected


def test_active_clusters_takes_the_newest_active_job_per_cluster(filled: JobStore) -> None:
    """``{cluster: scheduler}`` of active, unarchived jobs, as the full listing gives it."""
    expected: dict[str, str] = {}
    for record in filled.list_records(None, include_terminal=False):
        expected.setdefault(record.cluster_name, record.scheduler)
    assert active_clusters(filled) == expected
    assert set(expected) == {"c", "other", "zeta"}


def test_active_clusters_of_an_empty_store(store: JobStore) -> None:
    """No jobs, no clusters (the recursive cluster scan stops at NULL)."""
    assert active_clusters(store) == {}
    assert list_jobs(store, None, include_terminal=True) == []


def test_job_names_come_from_the_record_or_the_created_event(filled: JobStore) -> None:
    """A projection without the name (written before the field existed) falls back to the log."""
    named = filled.get_record("new")
    plain = filled.get_record("a0")
    assert named is not None
    assert plain is not None
    unnamed_projection = dataclasses.replace(named, job_name=None)
    assert job_names(filled, [named, plain]) == {"new": "named", "a0": None}
    assert job_names(filled, [unnamed_projection]) == {"new": "named"}
    assert job_names(filled, []) == {}


def _plan(store: JobStore, cluster: str | None, *, include_terminal: bool) -> list[str]:
    with_clause, ids, params = _row_ids_sql(cluster, include_terminal=include_terminal)
    return [row[3] for row in store.conn.execute(f"EXPLAIN QUERY PLAN {with_clause}{ids}", params)]


@pytest.mark.parametrize("cluster", [None, "c"])
def test_active_listing_seeks_the_cluster_state_index(filled: JobStore, cluster: str | None) -> None:
    """Active jobs are found through ``jobs_cluster_state``, never by scanning the jobs table."""
    plan = _plan(filled, cluster, include_terminal=False)
    seek = "USING INDEX jobs_cluster_state (cluster_name=? AND archived=? AND state=?)"
    assert any(seek in step for step in plan), plan
    assert "SCAN jobs" not in plan


def test_listings_sort_row_ids_only(filled: JobStore) -> None:
    """Only row ids enter SQLite's sorter, never record blobs."""
    for cluster in (None, "c"):
        for include_terminal in (True, False):
            _, ids, _ = _row_ids_sql(cluster, include_terminal=include_terminal)
            assert ids.startswith("SELECT rowid FROM jobs WHERE")
            assert _plan(filled, cluster, include_terminal=include_terminal)
    assert [r.job_id for r in list_jobs(filled, None, include_terminal=True, limit=2)] == ["new", "a5"]


def test_the_listing_index_serves_all_and_does_not_hijack_active(filled: JobStore) -> None:
    """``--all`` seeks ``jobs_listing`` (migration m003); active listings keep ``jobs_cluster_state``."""
    assert any("jobs_listing" in step for step in _plan(filled, None, include_terminal=True))
    for cluster in (None, "c"):
        assert not any("jobs_listing" in step for step in _plan(filled, cluster, include_terminal=False))
        for include_terminal in (True, False):
            expected = filled.list_records(cluster, include_terminal=include_terminal, limit=3)
            assert list_jobs(filled, cluster, include_terminal=include_terminal, limit=3) == expected
