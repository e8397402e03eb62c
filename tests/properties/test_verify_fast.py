"""The fast yes/no audit says yes exactly when the exact audit finds nothing.

Logs come from ``linked_logs`` (jobs whose retry links point at each other), sometimes with a
damaged log, then projections are rebuilt and sometimes tampered with. Small range sizes put
nearly every job in its own range, so retry_pending is checked across ranges.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import hypothesis
import hypothesis.strategies as st
import msgspec
import pytest
from hypothesis import given, settings
from tests.properties.test_rebuild_equivalence import POOL, insert_log, linked_logs
from tests.strategies import histories

from molq.core import CorruptLogError, JobEvent, encode_event, event_tag
from molq.core._events import JobRetryScheduled
from molq.shell.store import _verify, _verify_fast
from molq.shell.store._store import JobStore


TAMPERING = {
    "none": [],
    "jobs column": ["UPDATE jobs SET state = 'bogus' WHERE rowid = (SELECT MIN(rowid) FROM jobs)"],
    "jobs record": [
        "UPDATE jobs SET record = (SELECT j.record FROM jobs j WHERE j.job_id != jobs.job_id LIMIT 1) "
        "WHERE rowid = (SELECT MAX(rowid) FROM jobs) AND (SELECT COUNT(*) FROM jobs) > 1"
    ],
    "retry_pending": [
        "UPDATE jobs SET retry_pending = 1 - retry_pending WHERE rowid = (SELECT MIN(rowid) FROM jobs)"
    ],
    "retry_pending of a retried job": [
        "UPDATE jobs SET retry_pending = 1 - retry_pending WHERE json_extract(record, '$.next_attempt_job_id') IS NOT NULL"
    ],
    "missing job": ["DELETE FROM jobs WHERE rowid = (SELECT MAX(rowid) FROM jobs)"],
    "extra job": [
        "INSERT INTO jobs SELECT 'zz', cluster_name, root_job_id, attempt, state, scheduler_job_id, created_at, "
        "archived, retry_pending, last_seq, record FROM jobs LIMIT 1"
    ],
    "missing transition": ["DELETE FROM transitions WHERE seq = (SELECT MAX(seq) FROM transitions)"],
    "changed transition": [
        "UPDATE transitions SET reason = 'x' WHERE seq = (SELECT MIN(seq) FROM transitions)"
    ],
    "transition of no job": ["INSERT INTO transitions VALUES (100000, '0', NULL, 'created', 1.0, NULL)"],
    "extra edge": [
        "INSERT INTO dependencies SELECT 100000, job_id, 'a', 'after_success', 'afterok:1' FROM jobs LIMIT 1"
    ],
    "edge of no job": ["INSERT INTO dependencies VALUES (100001, 'zz', 'a', 'after_success', 'x')"],
    "missing edge": ["DELETE FROM dependencies WHERE seq = (SELECT MIN(seq) FROM dependencies)"],
}


@st.composite
def distinct_logs(draw: st.DrawFn) -> list[JobEvent]:
    """Interleaved valid histories of distinct jobs whose retry links may point at each other."""
    names = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True))
    streams = []
    for name in names:
        history = list(draw(histories(st.just(name))))
        for i, event in enumerate(history):
            if isinstance(event, JobRetryScheduled):
                history[i] = msgspec.structs.replace(event, next_job_id=draw(st.sampled_from(POOL)))
        streams.append(history)
    log: list[JobEvent] = []
    while any(streams):
        stream = draw(st.sampled_from([s for s in streams if s]))
        log.append(stream.pop(0))
    return log


def audit(store: JobStore, range_events: int, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, list[str]]:
    """(the fast answer, the exact audit's lines)."""
    monkeypatch.setattr(_verify_fast, "RANGE_EVENTS", range_events)
    fast = _verify_fast.projections_match(store._conn, store.path, workers=1)
    return fast, _verify._verify(store._conn)


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(distinct_logs(), linked_logs()),
    st.one_of(
        st.just([]),
        st.lists(
            st.tuples(st.integers(0, 200), st.sampled_from(["stream", "bytes", "versions"])), max_size=2
        ),
    ),
    st.one_of(st.just("none"), st.sampled_from(sorted(TAMPERING))),
    st.sampled_from([1, 2, 5, 64_000]),
)
def test_fast_says_yes_iff_the_exact_audit_finds_nothing(log, damage, tampering, range_events):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        store = JobStore(Path(tmp) / "jobs.db")
        try:
            insert_log(store._conn, log, {i % len(log): how for i, how in damage})
            with contextlib.suppress(CorruptLogError):  # projections stay empty: both audits must say so
                store.rebuild_projections()
            for sql in TAMPERING[tampering]:
                store._conn.execute(sql)
            fast, exact = audit(store, range_events, monkeypatch)
            hypothesis.event(f"fast={fast} exact_empty={exact == []}")
            if fast:
                assert exact == []  # never a wrong yes
            elif not any(how == "versions" for _, how in damage):
                assert exact != []  # and no needless no, except for version order (see Rule 2)
            assert store.verify_projections() == exact
        finally:
            store.close()


def test_version_order_against_the_log_falls_back_to_the_exact_audit(tmp_path, monkeypatch):
    """The exact audit folds by seq; the fast one cannot, says no, and verify still answers []."""
    from tests.shell.store.test_verify_parallel import finished_job

    store = JobStore(tmp_path / "jobs.db")
    events = finished_job("a")
    rows = [("a", len(events) - i, event_tag(e), 0.0, encode_event(e)) for i, e in enumerate(events)]
    store._conn.executemany(
        "INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, ?, ?, ?, ?)", rows
    )
    store.rebuild_projections()
    assert audit(store, 64_000, monkeypatch) == (False, [])
    assert store.verify_projections() == []
    store.close()
