"""The store's projections when several facts land in one append: retries, cancels, rebuilds past one page."""

from __future__ import annotations

import pytest

from molq.core import (
    JobSpec,
    JobState,
    Observation,
    Observe,
    RecordSubmission,
    RequestCancel,
    ScheduleRetry,
    decide,
    evolve,
)
from molq.core._events import JobCreated, JobDependencyRecorded
from molq.shell.store import _store
from molq.shell.store._store import JobStore


def created(job_id: str, at: float, *, root: str | None = None, attempt: int = 1, previous: str | None = None,
            cluster: str = "c") -> JobCreated:
    return JobCreated(
        job_id=job_id, at=at, cluster_name=cluster, scheduler="slurm", root_job_id=root or job_id,
        attempt=attempt, previous_attempt_job_id=previous, spec=JobSpec("argv", argv=("true",)),
    )


def failed_with_retry(store: JobStore, job_id: str, *, next_id: str, now: float = 2.0) -> list:  # type: ignore[type-arg]
    """The events that fail ``job_id`` and schedule ``next_id`` (not appended yet)."""
    record = store.get_record(job_id)
    events = list(decide(record, RecordSubmission("9"), now=now))
    for event in events:
        record = evolve(record, event)
    step = decide(record, Observe(Observation(JobState.FAILED, exit_code=1)), now=now + 1)
    for event in step:
        record = evolve(record, event)
    retry = decide(record, ScheduleRetry(next_id, 10.0), now=now + 2)
    return [*events, *step, *retry]


def test_retry_and_its_attempt_in_one_batch_leave_nothing_pending(store: JobStore) -> None:
    store.append("r", [created("r", 1.0)], expected_version=0, now=1.0)
    events = failed_with_retry(store, "r", next_id="r2")
    store.append_batch([("r", events, 1), ("r2", [created("r2", 5.0, root="r", attempt=2, previous="r")], 0)], now=5.0)
    assert store.pending_retries("c") == []
    assert [r.job_id for r in store.family("r")] == ["r", "r2"]
    assert store.transitions("r2")[0].reason == "retry attempt 2 of r"


def test_retry_scheduled_in_a_batch_is_pending_until_its_attempt(store: JobStore) -> None:
    store.append("r", [created("r", 1.0)], expected_version=0, now=1.0)
    store.append("s", [created("s", 1.0)], expected_version=0, now=1.0)
    batch = [("r", failed_with_retry(store, "r", next_id="r2"), 1), ("s", failed_with_retry(store, "s", next_id="s2"), 1)]
    store.append_batch(batch, now=5.0)
    assert sorted(r.job_id for r in store.pending_retries("c")) == ["r", "s"]
    store.append("r2", [created("r2", 6.0, root="r", attempt=2, previous="r")], expected_version=0, now=6.0)
    assert [r.job_id for r in store.pending_retries("c")] == ["s"]
    assert store.pending_retries("other") == []


def test_attempt_created_before_the_retry_is_recorded_is_not_pending(store: JobStore) -> None:
    store.append("r", [created("r", 1.0)], expected_version=0, now=1.0)
    store.append("r2", [created("r2", 2.0, root="r", attempt=2, previous="r")], expected_version=0, now=2.0)
    store.append("r", failed_with_retry(store, "r", next_id="r2"), expected_version=1, now=5.0)
    assert store.pending_retries("c") == []


def test_a_cancel_in_the_same_batch_as_the_retry_is_not_pending(store: JobStore) -> None:
    store.append("r", [created("r", 1.0)], expected_version=0, now=1.0)
    events = failed_with_retry(store, "r", next_id="r2")
    record = store.get_record("r")
    for event in events:
        record = evolve(record, event)
    events += list(decide(record, RequestCancel("stop"), now=6.0))
    store.append("r", events, expected_version=1, now=6.0)
    assert store.pending_retries("c") == []
    assert store.get_record("r").cancel_requested_at == 6.0


def test_create_attempt_and_retry_of_the_next_in_one_batch(store: JobStore) -> None:
    """r fails and retries as r2; r2 is created and itself fails and retries as r3, all in one append."""
    store.append("r", [created("r", 1.0)], expected_version=0, now=1.0)
    first = failed_with_retry(store, "r", next_id="r2")
    store.append("r", first, expected_version=1, now=4.0)
    assert [r.job_id for r in store.pending_retries("c")] == ["r"]
    r2 = created("r2", 5.0, root="r", attempt=2, previous="r")
    store.append("r2", [r2], expected_version=0, now=5.0)
    second = failed_with_retry(store, "r2", next_id="r3", now=6.0)
    store.append("r2", second, expected_version=1, now=9.0)
    assert [r.job_id for r in store.pending_retries("c")] == ["r2"]
    store.append("r3", [created("r3", 10.0, root="r", attempt=3, previous="r2")], expected_version=0, now=10.0)
    assert store.pending_retries("c") == []
    assert store.latest_attempt("r").job_id == "r3"


def test_rebuild_past_one_page_gives_the_same_projections(store: JobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(4):
        store.append(f"j{n}", [created(f"j{n}", 1.0 + n)], expected_version=0, now=1.0 + n)
    store.append("j0", failed_with_retry(store, "j0", next_id="j0b"), expected_version=1, now=9.0)
    store.append(
        "j1",
        [JobDependencyRecorded(job_id="j1", at=9.5, dependency_job_id="j0", dependency_type="after_success",
                               scheduler_dependency="afterok:9")],
        expected_version=1,
        now=9.5,
    )
    before = ([store.get_record(f"j{n}") for n in range(4)], store.transitions("j0"), store.dependencies("j1"),
              [r.job_id for r in store.pending_retries("c")])
    total = store.last_seq()
    monkeypatch.setattr(_store, "_REBUILD_PAGE", 2)
    assert store.rebuild_projections() == total
    after = ([store.get_record(f"j{n}") for n in range(4)], store.transitions("j0"), store.dependencies("j1"),
             [r.job_id for r in store.pending_retries("c")])
    assert after == before
    assert before[3] == ["j0"]
    assert len(before[2]) == 1
    assert store.verify_projections() == []


def test_an_impossible_batch_names_its_earliest_bad_event_and_stores_nothing(store: JobStore) -> None:
    from molq.core import CorruptLogError
    from molq.core._events import JobQueued, JobSubmitted

    store.append("a", [created("a", 1.0)], expected_version=0, now=1.0)
    before = store.last_seq()
    batch = [
        ("b", [JobSubmitted(job_id="b", at=2.0, scheduler_job_id="1")], 0),
        ("a", [JobQueued(job_id="a", at=2.0)], 1),
    ]
    with pytest.raises(CorruptLogError, match=r"^job b: history starts with job\.submitted, not job\.created$"):
        store.append_batch(batch, now=2.0)
    with pytest.raises(CorruptLogError, match=r"^job a: job\.queued cannot follow state created$"):
        store.append_batch(list(reversed(batch)), now=2.0)
    assert store.last_seq() == before
    assert store.get_record("b") is None
    assert store.get_record("a").state is JobState.CREATED


def test_a_batch_of_more_jobs_than_one_sqlite_parameter_list_holds(store: JobStore) -> None:
    ids = [f"j{n:04d}" for n in range(950)]
    store.append_batch([(job_id, [created(job_id, 1.0)], 0) for job_id in ids], now=1.0)
    batch = []
    for job_id in ids:
        record = store.get_record(job_id)
        batch.append((job_id, list(decide(record, RecordSubmission(f"s{job_id}"), now=2.0)), 1))
    store.append_batch(batch, now=2.0)
    records = [store.get_record(job_id) for job_id in ids]
    assert all(r.state is JobState.SUBMITTED for r in records)
    assert records[-1].scheduler_job_id == "sj0949"
    assert store.job_count() == 950


def test_a_closed_store_refuses_new_threads(store: JobStore) -> None:
    import threading

    from molq import StoreError

    store.close()
    errors: list[Exception] = []

    def read() -> None:
        try:
            store.get_record("a")
        except StoreError as exc:
            errors.append(exc)

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert len(errors) == 1
    assert str(errors[0]).endswith("is closed")


def test_good_histories_before_the_bad_one_do_not_hide_it(store: JobStore) -> None:
    from molq.core import CorruptLogError
    from molq.core._events import JobQueued, JobSubmitted

    batch = [
        ("a", [created("a", 1.0), JobSubmitted(job_id="a", at=2.0, scheduler_job_id="1"), JobQueued(job_id="a", at=3.0)], 0),
        ("b", [JobQueued(job_id="b", at=3.0)], 0),
    ]
    with pytest.raises(CorruptLogError, match=r"^job b: history starts with job\.queued, not job\.created$"):
        store.append_batch(batch, now=3.0)
    assert store.get_record("a") is None
