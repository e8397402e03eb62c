"""The store's schema, as sqlite-utils migrations.

The events table is the source of truth and refuses UPDATE and DELETE; every other
table is a projection that can be dropped and rebuilt from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlite_utils import Migrations


if TYPE_CHECKING:
    from sqlite_utils import Database


MIGRATION_SET = "molq"
migrations = Migrations(MIGRATION_SET)


@migrations()
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


@migrations()
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


KNOWN_MIGRATIONS = frozenset({"m001_event_log", "m002_sweeps"})
PROJECTION_TABLES = ("jobs", "transitions", "dependencies", "sweeps", "projection_checkpoints")
