"""The store's schema, as sqlite-utils migrations.

The events table is the source of truth and refuses UPDATE and DELETE; every other
table is a projection that can be dropped and rebuilt from it.

sqlite-utils is imported only when a migration has to run: opening an up-to-date
store reads the applied names with one query (every CLI command opens the store,
and importing sqlite-utils costs ~40 ms).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations


MIGRATION_SET = "molq"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' bookkeeping table


def applied_migrations(conn: sqlite3.Connection) -> set[str]:
    """The names of molq's migrations applied to the database (what sqlite-utils records)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)).fetchone()
    if exists is None:
        return set()
    rows = conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", (MIGRATION_SET,))  # noqa: S608
    return {str(name) for (name,) in rows}


def build_migrations() -> Migrations:
    """Molq's migrations, in order, as a sqlite-utils migration set."""
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for step in (m001_event_log, m002_sweeps, m003_jobs_listing, m004_lean_appends):
        migrations()(step)
    return migrations


def m001_event_log(db: Database) -> None:
    """The append-only event log and the projections of jobs."""
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            stream TEXT NOT NULL,
            version INTEGER NOT NULL,
            type TEXT NOT NULL,
            recorded_at REAL NOT NULL,
            data BLOB NOT NULL,
            UNIQUE (stream, version)
        ) STRICT
        """
    )
    db.execute(
        """
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END
        """
    )
    db.execute(
        """
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END
        """
    )
    db.execute(
        """
        CREATE TABLE jobs (
            job_id TEXT PRIMARY KEY,
            cluster_name TEXT NOT NULL,
            root_job_id TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            state TEXT NOT NULL,
            scheduler_job_id TEXT,
            created_at REAL,
            archived INTEGER NOT NULL DEFAULT 0,
            retry_pending INTEGER NOT NULL DEFAULT 0,
            last_seq INTEGER NOT NULL,
            record BLOB NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX jobs_cluster_state ON jobs (cluster_name, archived, state)")
    db.execute("CREATE INDEX jobs_root ON jobs (root_job_id, attempt)")
    db.execute("CREATE INDEX jobs_retry_pending ON jobs (cluster_name, retry_pending)")
    db.execute(
        """
        CREATE TABLE transitions (
            seq INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL,
            old_state TEXT,
            new_state TEXT NOT NULL,
            timestamp REAL NOT NULL,
            reason TEXT
        ) STRICT
        """
    )
    db.execute("CREATE INDEX transitions_job ON transitions (job_id, seq)")
    db.execute(
        """
        CREATE TABLE dependencies (
            seq INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL,
            dependency_job_id TEXT NOT NULL,
            dependency_type TEXT NOT NULL,
            scheduler_dependency TEXT NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX dependencies_job ON dependencies (job_id)")
    db.execute("CREATE INDEX dependencies_upstream ON dependencies (dependency_job_id)")
    db.execute(
        """
        CREATE TABLE projection_checkpoints (
            name TEXT PRIMARY KEY,
            last_seq INTEGER NOT NULL
        ) STRICT
        """
    )


def m002_sweeps(db: Database) -> None:
    """The projection of sweeps (one row per sweep stream)."""
    db.execute(
        """
        CREATE TABLE sweeps (
            sweep_id TEXT PRIMARY KEY,
            cluster_name TEXT NOT NULL,
            created_at REAL NOT NULL,
            is_open INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            record BLOB NOT NULL
        ) STRICT
        """
    )
    db.execute("CREATE INDEX sweeps_cluster_open ON sweeps (cluster_name, is_open)")


def m003_jobs_listing(db: Database) -> None:
    """Newest-first listings (``molq list --all``) read 200 rows, not the whole jobs table."""
    db.execute("CREATE INDEX jobs_listing ON jobs (archived, created_at DESC, job_id)")


def m004_lean_appends(db: Database) -> None:
    """Fewer pages written per append: a partial index for pending retries, no checkpoint table.

    Few jobs wait for a retry at any time, so ``jobs_awaiting_retry`` holds only those rows
    (what ``pending_retries`` reads) and is written only when a job starts or stops waiting.
    ``projection_checkpoints`` was written by every append and read by nothing: projections
    commit in the append's own transaction, so they are never behind the log.
    """
    db.execute("DROP INDEX jobs_retry_pending")
    db.execute("CREATE INDEX jobs_awaiting_retry ON jobs (cluster_name) WHERE retry_pending = 1")
    db.execute("DROP TABLE projection_checkpoints")


KNOWN_MIGRATIONS = frozenset({"m001_event_log", "m002_sweeps", "m003_jobs_listing", "m004_lean_appends"})
PROJECTION_TABLES = ("jobs", "transitions", "dependencies", "sweeps")
