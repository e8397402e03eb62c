"""A store path that holds something else is refused by name, and the file is left byte for byte as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from molq import StoreError
from molq.shell.store._store import JobStore


def other_app(path: Path, tables: list[str]) -> bytes:
    conn = sqlite3.connect(path)
    for name in tables:
        conn.execute(f"CREATE TABLE {name} (x)")
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_another_applications_database_is_named_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    before = other_app(path, ["zeta", "alpha"])
    with pytest.raises(StoreError) as info:
        JobStore(path)
    assert str(info.value) == (
        f"{path} is another application's SQLite database (tables: alpha, zeta), not a molq store; molq did not change it"
    )
    assert path.read_bytes() == before
    assert not (tmp_path / "app.sqlite-wal").exists()


def test_many_tables_are_cut_to_five(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    other_app(path, [f"t{n}" for n in range(7)])
    with pytest.raises(StoreError, match=r"\(tables: t0, t1, t2, t3, t4, \.\.\.\), not a molq store"):
        JobStore(path)
    path2 = tmp_path / "five.sqlite"
    other_app(path2, [f"t{n}" for n in range(5)])
    with pytest.raises(StoreError, match=r"\(tables: t0, t1, t2, t3, t4\), not a molq store"):
        JobStore(path2)


def test_an_empty_sqlite_file_and_an_empty_file_become_stores(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    JobStore(empty).close()
    blank = tmp_path / "blank.db"
    sqlite3.connect(blank).close()
    JobStore(blank).close()
    JobStore(blank).close()  # and reopen


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("hello")
    with pytest.raises(StoreError) as info:
        JobStore(path)
    assert str(info.value) == f"{path} is not a molq database (no SQLite header); the file was left untouched"
    assert path.read_text() == "hello"
    long = tmp_path / "long.sqlite"
    long.write_bytes(b"x" * 200)
    with pytest.raises(StoreError, match="no SQLite header"):
        JobStore(long)
    assert long.read_bytes() == b"x" * 200


def test_a_damaged_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "bad.sqlite"
    data = b"SQLite format 3\0" + b"\xff" * 4080
    path.write_bytes(data)
    with pytest.raises(StoreError, match=r"the file was left untouched|not a readable molq database"):
        JobStore(path)
    assert path.read_bytes() == data


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as info:
        JobStore(tmp_path)
    assert str(info.value) == f"{tmp_path} is a directory, not a molq database"


def test_a_new_store_is_private(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "jobs.db"
    JobStore(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def _one_job(path: Path) -> None:
    from molq.core import JobSpec
    from molq.core._events import JobCreated

    store = JobStore(path)
    event = JobCreated(job_id="a", at=1.0, cluster_name="c", scheduler="slurm", root_job_id="a",
                       spec=JobSpec("argv", argv=("true",)))
    store.append("a", [event], expected_version=0, now=1.0)
    store.close()


def test_an_undecodable_record_is_a_corrupt_log_error_naming_the_file(tmp_path: Path) -> None:
    from molq.core import CorruptLogError

    path = tmp_path / "jobs.sqlite"
    _one_job(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE jobs SET record = ? WHERE job_id = 'a'", (b"\x00not msgpack",))
    conn.commit()
    conn.close()
    store = JobStore(path)
    with pytest.raises(CorruptLogError, match=f"^{path} holds a record that cannot be decoded"):
        store.get_record("a")
    store.close()


def test_a_sqlite_failure_is_a_store_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite"
    _one_job(path)
    store = JobStore(path)
    store._conn.execute("ALTER TABLE jobs RENAME TO jobs_gone")
    with pytest.raises(StoreError, match=str(path)):
        store.get_record("a")
    with pytest.raises(StoreError, match=str(path)):
        store.list_records(None)
    store._conn.execute("ALTER TABLE events RENAME TO events_gone")
    with pytest.raises(StoreError, match=str(path)):
        list(store.read_all())
    store.close()


def test_a_store_from_a_newer_molq_names_every_unknown_migration(tmp_path: Path) -> None:
    from molq import SchemaVersionError
    from molq.shell.store._schema import MIGRATION_SET, MIGRATIONS_TABLE

    path = tmp_path / "newer.sqlite"  # not *.db: the suite's closing replay --verify would report it
    JobStore(path).close()
    conn = sqlite3.connect(path)
    for name in ("m902_b", "m901_a"):
        conn.execute(f"INSERT INTO {MIGRATIONS_TABLE} (migration_set, name, applied_at) VALUES (?, ?, 'x')",  # noqa: S608
                     (MIGRATION_SET, name))
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError) as info:
        JobStore(path)
    assert str(info.value) == f"{path} was written by a newer molq (schema m901_a, m902_b); upgrade molq to open it"
