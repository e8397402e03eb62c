"""Opening a store while another process holds the lock: WAL is switched on after retries, within the busy timeout."""

from __future__ import annotations

import sqlite3

import pytest

from molq.shell.store import _connect, _store


class Cursor:
    def __init__(self, row: tuple[str, ...] | None) -> None:
        self.row = row

    def fetchone(self) -> tuple[str, ...] | None:
        return self.row


class LockedConnection:
    """Answers ``PRAGMA journal_mode`` as a file in ``mode`` whose lock is held for ``locked`` calls."""

    def __init__(self, mode: str, locked: int = 0, error: str = "database is locked") -> None:
        self.mode, self.locked, self.error = mode, locked, error
        self.sql: list[str] = []

    def execute(self, sql: str) -> Cursor:
        self.sql.append(sql)
        if self.locked:
            self.locked -= 1
            raise sqlite3.OperationalError(self.error)
        if sql == "PRAGMA journal_mode = WAL":
            self.mode = "wal"
        return Cursor((self.mode,))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Sleeps recorded (not slept); the monotonic clock advances by each sleep."""
    now = [100.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(_connect.time, "sleep", sleep)
    monkeypatch.setattr(_connect.time, "monotonic", lambda: now[0])
    return pauses


def test_a_wal_store_is_left_as_it_is(clock: list[float]) -> None:
    conn = LockedConnection("WAL")
    assert _connect._switch_to_wal(conn) == ("WAL",)  # type: ignore[arg-type]
    assert conn.sql == ["PRAGMA journal_mode"]
    assert clock == []


def test_a_new_store_is_switched_to_wal(clock: list[float]) -> None:
    conn = LockedConnection("delete")
    assert _connect._switch_to_wal(conn) == ("wal",)  # type: ignore[arg-type]
    assert conn.sql == ["PRAGMA journal_mode", "PRAGMA journal_mode = WAL"]
    assert clock == []


def test_locked_is_retried_with_growing_pauses_up_to_a_tenth_of_a_second(clock: list[float]) -> None:
    conn = LockedConnection("delete", locked=7)
    assert _connect._switch_to_wal(conn) == ("wal",)  # type: ignore[arg-type]
    assert clock == pytest.approx([0.005, 0.01, 0.02, 0.04, 0.08, 0.1, 0.1])


def test_other_errors_are_not_retried(clock: list[float]) -> None:
    conn = LockedConnection("delete", locked=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _connect._switch_to_wal(conn)  # type: ignore[arg-type]
    assert clock == []


def test_a_lock_held_past_the_busy_timeout_is_an_error(clock: list[float]) -> None:
    conn = LockedConnection("delete", locked=10_000)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        _connect._switch_to_wal(conn)  # type: ignore[arg-type]
    waited = sum(clock)
    assert _connect.BUSY_TIMEOUT_S <= waited <= _connect.BUSY_TIMEOUT_S + 0.1


def test_an_in_memory_store_is_one_database_shared_by_threads(tmp_path: object) -> None:
    import threading

    from molq.core import JobSpec
    from molq.core._events import JobCreated

    store = _store.JobStore(":memory:")
    assert store.in_memory
    event = JobCreated(job_id="a", at=1.0, cluster_name="c", scheduler="slurm", root_job_id="a",
                       spec=JobSpec("argv", argv=("true",)))
    store.append("a", [event], expected_version=0, now=1.0)
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(store.get_record("a")))
    worker.start()
    worker.join()
    assert [r.job_id for r in seen] == ["a"]  # type: ignore[attr-defined]
    store.close()
    with pytest.raises(_store.StoreError, match="closed"):
        store.get_record("a")


def test_a_read_only_store_of_a_missing_file_creates_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "none" / "jobs.db"
    store = _store.JobStore(path, create=False)
    assert store.in_memory
    assert store.list_records(None) == []
    store.close()
    assert not path.exists()
