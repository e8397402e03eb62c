"""Read-only commands never create or change a file; a foreign SQLite file is refused untouched.

Issue 13, item 15: ``molq list --db other-app.db`` switched another application's file
to WAL and added molq's tables; ``replay --verify --db typo/dir/x.db`` created the
directories and an empty store and printed OK.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from molq import Cluster, JobStore, Submitor
from molq.cli import run


FOREIGN_SCHEMAS = {
    "notes": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes VALUES (1, 'keep me');",
    "jobs": "CREATE TABLE jobs (id TEXT PRIMARY KEY, state TEXT); INSERT INTO jobs VALUES ('a', 'done');",
}
READERS = (("list",), ("list", "--all"), ("history",), ("replay", "--verify"), ("inspect", "abc"), ("status", "abc"))
WRITERS = (("submit", "local", "--", "true"), ("daemon", "--once"))


def _snapshot(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def _foreign(tmp_path: Path, schema: str) -> Path:
    directory = tmp_path / "other-app"
    directory.mkdir()
    path = directory / "app.sqlite"  # not *.db: the end-of-suite audit would open it as a store
    with sqlite3.connect(path) as conn:
        conn.executescript(schema)
    conn.close()
    return path


@pytest.mark.parametrize("schema", sorted(FOREIGN_SCHEMAS))
@pytest.mark.parametrize("command", READERS + WRITERS, ids=" ".join)
def test_a_foreign_database_is_refused_and_left_as_it_was(tmp_path, capsys, schema, command):
    """Exit 1 with one error naming the file; the file, its journal mode and its folder are unchanged."""
    path = _foreign(tmp_path, FOREIGN_SCHEMAS[schema])
    before = _snapshot(path.parent)
    assert run([command[0], "--db", str(path), *command[1:]]) == 1
    assert "another application's SQLite database" in capsys.readouterr().err
    assert _snapshot(path.parent) == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_verify_of_a_missing_store_is_an_error_and_creates_nothing(tmp_path, capsys):
    """A typo in --db is reported; no directory or empty store appears."""
    target = tmp_path / "typo" / "dir" / "x.db"
    assert run(["replay", "--verify", "--db", str(target)]) == 1
    assert "no molq store at" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("command", READERS[:3], ids=" ".join)
def test_reading_a_missing_store_shows_nothing_and_creates_nothing(tmp_path, capsys, command):
    """list/history on a store that does not exist answer as for an empty one, on no file."""
    target = tmp_path / "nowhere" / "jobs.db"
    assert run([*command, "--db", str(target)]) == 0
    assert "No " in capsys.readouterr().out
    assert not (tmp_path / "nowhere").exists()


def test_read_commands_leave_a_molq_store_byte_for_byte(tmp_path, capsys):
    """history, inspect, replay and replay --verify change no byte of an existing store."""
    path = tmp_path / "store" / "jobs.db"
    store = JobStore(path)
    job = Submitor(Cluster("laptop", "local"), store=store).submit_job(argv=["true"])
    job.wait(timeout=60)
    store.close()
    before = _snapshot(path.parent)
    for command in (("history",), ("inspect", job.job_id), ("replay", job.job_id), ("replay", "--verify")):
        assert run([*command, "--db", str(path)]) == 0, capsys.readouterr()
    assert _snapshot(path.parent) == before
