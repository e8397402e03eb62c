"""A full disk is reported as a full disk, and nothing half-written stays (issue 13, item 19).

SQLite's ``max_page_count`` makes the next write fail with SQLITE_FULL, the error a full
disk gives (checked by hand on a 1 MiB tmpfs: the same "database or disk is full").
"""

from __future__ import annotations

import sqlite3

import pytest

from molq import Cluster, JobStore, StoreError, Submitor
from molq.shell.store._sqlite_errors import store_error
from molq.shell.store._verify import verify_store


def _fill(submitor):
    for _ in range(50):  # free pages inside the file may take a few submissions
        submitor.submit_job(argv=["true"], metadata={"pad": "x" * 4000})


def test_a_submit_on_a_full_disk_says_so_and_records_nothing(tmp_path):
    """The error names the full disk (not an unreadable file); the log is as it was."""
    store = JobStore(tmp_path / "jobs.db")
    submitor = Submitor(Cluster("laptop", "local"), store=store)
    first = submitor.submit_job(argv=["true"]).wait(timeout=60)
    before = store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreError, match="the disk is full") as info:
        _fill(submitor)
    assert "cannot be read" not in str(info.value)
    assert "left untouched" not in str(info.value)
    assert submitor.get_job(first.job_id).state is first.state  # reading needs no space
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    assert store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] >= before
    assert verify_store(store.conn, store.path) == []
    store.close()


@pytest.mark.parametrize(
    ("code", "fragment"),
    [(13, "the disk is full"), (10 | (13 << 8), "input/output error"), (8, "read-only"), (5, "locked"), (11, "cannot be read")],
)
def test_each_sqlite_failure_gets_its_own_words(tmp_path, code, fragment):
    """SQLite's primary error code decides the message: full, I/O, read-only, locked, damaged."""
    exc = sqlite3.OperationalError("boom")
    exc.sqlite_errorcode = code
    assert fragment in str(store_error(tmp_path / "jobs.db", exc))
