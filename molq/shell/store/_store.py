"""JobStore: the append-only SQLite event log and its projections.

Appends and projection updates happen in one ``BEGIN IMMEDIATE`` transaction, so a
reader never sees a projection ahead of or behind the log, and a crash leaves both
as they were before the append.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from molq.core import (
    ConcurrencyConflict,
    CorruptLogError,
    Recorded,
    SchemaVersionError,
    StoreError,
    decode_event,
    event_tag,
)
from molq.core._events import JobCreated, LogEvent
from molq.shell.store._connect import (
    BUSY_TIMEOUT_S as BUSY_TIMEOUT_S,
)
from molq.shell.store._connect import (
    DEFAULT_STORE_PATH as DEFAULT_STORE_PATH,
)
from molq.shell.store._connect import (
    IN_MEMORY,
    _connect,
    _connect_in_memory,
    _file_lock,
)
from molq.shell.store._connect import (
    default_store_path as default_store_path,
)
from molq.shell.store._queries import ProjectionQueries
from molq.shell.store._rows import (
    _decode_page,
    _encode_readable,
    _project,
    _recorded,
    _scalar,
    gc_paused,
)
from molq.shell.store._rows import (
    encode_record as encode_record,
)
from molq.shell.store._schema import (
    KNOWN_MIGRATIONS,
    MIGRATION_SET,
    PROJECTION_TABLES,
    applied_migrations,
    build_migrations,
)
from molq.shell.store._sqlite_errors import store_error
from molq.shell.store._sweep_projection import (
    project_sweeps,
)


if TYPE_CHECKING:
    from sqlite_utils import Database



class JobStore(ProjectionQueries):
    """Persists every job event in SQLite (WAL) and keeps job projections beside it.

    Args:
        path: database file; defaults to ``~/.molq/jobs.db`` (or ``$MOLQ_STORE``).

    Raises:
        StoreError: the file is not a molq database or cannot be opened.
        SchemaVersionError: the database was written by a newer molq.
    """

    def __init__(self, path: str | Path | None = None, *, create: bool = True) -> None:
        self._path = Path(path).expanduser() if path is not None else default_store_path()
        # ":memory:" is SQLite's private database (tests, notebooks); create=False
        # (read-only commands) reads a missing file as an empty store held in memory,
        # so nothing is created on disk.
        self._in_memory = str(path) == IN_MEMORY or (not create and not self._path.exists())
        # One connection per thread (ADR 0021): a transaction belongs to one thread,
        # so threads sharing a store never start one inside another's. An in-memory
        # store is one connection that every thread shares (a second would be a
        # second, empty database).
        self._local = threading.local()
        self._lock = threading.Lock()
        self._closed = False
        main = _connect_in_memory() if self._in_memory else _connect(self._path)
        self._main = main
        self._local.conn = main
        self._threads: dict[threading.Thread, sqlite3.Connection] = {threading.current_thread(): main}
        self._migrate()

    @property
    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on its first use of the store)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open_for_thread()
        return conn

    def _open_for_thread(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                msg = f"the store {self._path} is closed"
                raise StoreError(msg)
            if self._in_memory:
                conn = self._main
            else:
                for thread in [t for t in self._threads if not t.is_alive()]:
                    self._threads.pop(thread).close()  # its thread has ended: nothing can use it
                conn = _connect(self._path)
                self._threads[threading.current_thread()] = conn
        self._local.conn = conn
        return conn

    # -- lifecycle ---------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def in_memory(self) -> bool:
        """Whether the store lives in memory: ``":memory:"``, or ``create=False`` on a missing file."""
        return self._in_memory

    def close(self) -> None:
        """Close every thread's connection (idempotent)."""
        with self._lock:
            self._closed = True
            for conn in self._threads.values():
                conn.close()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JobStore({str(self._path)!r})"

    @property
    def conn(self) -> sqlite3.Connection:
        """The store's SQLite connection, for read-only queries (writes go through ``append``)."""
        return self._conn

    @property
    def db(self) -> Database:
        """The sqlite-utils Database over this store's connection."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            from sqlite_utils import Database

            db = self._local.db = Database(self._conn)
        return db

    def _migrate(self) -> None:
        with nullcontext() if self._in_memory else _file_lock(self._path):
            try:
                applied = applied_migrations(self._conn)
            except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
                self.close()
                msg = f"{self._path} is not a readable molq database ({exc}); the file was left untouched"
                raise StoreError(msg) from exc
            unknown = applied - KNOWN_MIGRATIONS
            if unknown:
                self.close()
                msg = (
                    f"{self._path} was written by a newer molq (schema {', '.join(sorted(unknown))}); "
                    "upgrade molq to open it"
                )
                raise SchemaVersionError(msg)
            if applied != KNOWN_MIGRATIONS:
                try:
                    build_migrations().apply(self.db)
                except sqlite3.DatabaseError as exc:
                    msg = f"cannot initialise the molq schema in {self._path}: {exc}"
                    raise StoreError(msg) from exc

    # -- appending -----------------------------------------------------------------
    def append(
        self,
        stream: str,
        events: Sequence[LogEvent],
        *,
        expected_version: int,
        now: float,
    ) -> list[Recorded]:
        """Append events to ``stream`` if it is still at ``expected_version``.

        Raises:
            ConcurrencyConflict: another writer appended to the stream first.
        """
        return self.append_batch([(stream, events, expected_version)], now=now)

    def append_batch(
        self,
        batch: Sequence[tuple[str, Sequence[LogEvent], int]],
        *,
        now: float,
    ) -> list[Recorded]:
        """Append to several streams in one transaction (all or nothing).

        Raises:
            ConcurrencyConflict: any stream moved past its expected version.
        """
        encoded = [[_encode_readable(stream, event) for event in events] for stream, events, _ in batch]
        with self._write() as conn:
            recorded: list[Recorded] = []
            for (stream, events, expected), data in zip(batch, encoded, strict=True):
                recorded += self._append_stream(conn, stream, events, data, expected, now)
            return recorded

    def _append_stream(
        self,
        conn: sqlite3.Connection,
        stream: str,
        events: Sequence[LogEvent],
        encoded: Sequence[bytes],
        expected: int,
        now: float,
    ) -> list[Recorded]:
        current = _scalar(conn, "SELECT MAX(version) FROM events WHERE stream = ?", (stream,)) or 0
        if current != expected:
            msg = f"stream {stream} is at version {current}, expected {expected}"
            raise ConcurrencyConflict(msg)
        recorded = []
        for offset, (event, data) in enumerate(zip(events, encoded, strict=True), start=1):
            version = expected + offset
            try:
                cur = conn.execute(
                    "INSERT INTO events (stream, version, type, recorded_at, data) VALUES (?, ?, ?, ?, ?)",
                    (stream, version, event_tag(event), now, data),
                )
            except sqlite3.IntegrityError as exc:
                msg = f"stream {stream} already has version {version}"
                raise ConcurrencyConflict(msg) from exc
            seq = cur.lastrowid
            assert seq is not None  # noqa: S101 - INSERT into a rowid table always sets it
            recorded.append(Recorded(seq=seq, stream=stream, version=version, recorded_at=now, event=event))
        _project(conn, recorded)
        return recorded

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            msg = f"cannot write to {self._path}: {exc}"
            raise StoreError(msg) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after SQLITE_FULL / IOERR: a second ROLLBACK
            # would fail and hide what happened.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    # -- reading the log -------------------------------------------------------------
    def stream_version(self, stream: str) -> int:
        """The stream's latest version (0 when it has no events)."""
        return _scalar(self._conn, "SELECT MAX(version) FROM events WHERE stream = ?", (stream,)) or 0

    def read_stream(self, stream: str) -> list[Recorded]:
        """Every event of one stream, oldest first."""
        rows = self._conn.execute(
            "SELECT seq, stream, version, recorded_at, data FROM events WHERE stream = ? ORDER BY version",
            (stream,),
        )
        return [_recorded(row) for row in rows]

    def read_all(self, *, after_seq: int = 0, limit: int | None = None) -> Iterator[Recorded]:
        """Events in log order after ``after_seq``."""
        sql = "SELECT seq, stream, version, recorded_at, data FROM events WHERE seq > ? ORDER BY seq"
        params: tuple[Any, ...] = (after_seq,)
        if limit is not None:
            sql += " LIMIT ?"
            params = (after_seq, limit)
        for row in self._conn.execute(sql, params):
            yield _recorded(row)

    def last_seq(self) -> int:
        """The newest event's sequence number (0 for an empty log)."""
        return _scalar(self._conn, "SELECT MAX(seq) FROM events", ()) or 0

    def job_count(self) -> int:
        """How many jobs the jobs projection holds (every cluster, archived included)."""
        return _scalar(self._conn, "SELECT COUNT(*) FROM jobs", ()) or 0

    def created_event(self, job_id: str) -> JobCreated:
        """The ``job.created`` event of a job (its spec and retry policy).

        Raises:
            CorruptLogError: the job has no creation event.
        """
        row = self._conn.execute(
            "SELECT data FROM events WHERE stream = ? AND version = 1", (job_id,)
        ).fetchone()
        event = decode_event(row[0]) if row else None
        if not isinstance(event, JobCreated):
            msg = f"job {job_id} has no job.created event"
            raise CorruptLogError(msg)
        return event

    # -- maintenance ------------------------------------------------------------------------
    def rebuild_projections(self) -> int:
        """Drop every projection row and replay the whole log; returns events replayed.

        One transaction: a crash part-way leaves the old projections in place.
        """
        with self._write() as conn, gc_paused():
            for table in PROJECTION_TABLES:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608
            count = 0
            # Read in pages by seq so memory stays flat however long the log is.
            last = 0
            while rows := conn.execute(
                "SELECT seq, stream, version, recorded_at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (last, _REBUILD_PAGE),
            ).fetchall():
                jobs, sweeps = _decode_page(rows)
                project_sweeps(conn, sweeps)
                jobs.project(conn)
                count += len(rows)
                last = rows[-1][0]
            return count

    def verify_projections(self) -> list[str]:
        """Rebuild in memory and compare with the stored projections; returns differences."""
        from molq.shell.store._verify import verify_store

        return verify_store(self._conn, None if self._in_memory else self._path)



_REBUILD_PAGE = 20_000


_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


def _as_store_error(method: Any) -> Any:
    """Re-raise SQLite's errors (a damaged page, an I/O error) as StoreError naming the file."""

    def fail(self: JobStore, exc: Exception) -> StoreError:
        if isinstance(exc, sqlite3.DatabaseError):
            return store_error(self.path, exc)
        return CorruptLogError(f"{self.path} holds a record that cannot be decoded ({exc})")

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: JobStore, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.IntegrityError:
                raise
            except (sqlite3.DatabaseError, *_UNDECODABLE) as exc:
                raise fail(self, exc) from exc

        return generator

    @functools.wraps(method)
    def wrapper(self: JobStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.DatabaseError, *_UNDECODABLE) as exc:
            raise fail(self, exc) from exc

    return wrapper


for _class in (ProjectionQueries, JobStore):  # the mixin's reads are JobStore's public methods too
    for _name, _method in list(vars(_class).items()):
        if callable(_method) and not _name.startswith("_") and _name not in ("close", "db"):
            setattr(JobStore, _name, _as_store_error(_method))


__all__ = ["DEFAULT_STORE_PATH", "MIGRATION_SET", "JobStore", "default_store_path", "encode_record"]
