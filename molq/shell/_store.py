"""JobStore: the append-only SQLite event log and its projections.

Appends and projection updates happen in one ``BEGIN IMMEDIATE`` transaction, so a
reader never sees a projection ahead of or behind the log, and a crash leaves both
as they were before the append.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import gc
import inspect
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from molq.core import (
    ConcurrencyConflict,
    CorruptLogError,
    JobDependency,
    JobEvent,
    JobRecord,
    JobState,
    Recorded,
    SchemaVersionError,
    StatusTransition,
    StoreError,
    decode_event,
    encode_event,
    event_tag,
    evolve,
)
from molq.core._cluster_events import SchedulerCommandFailed, cluster_stream
from molq.core._events import JobCreated, JobDependencyRecorded, LogEvent
from molq.core._fold import fold_events

from ._schema import KNOWN_MIGRATIONS, MIGRATION_SET, PROJECTION_TABLES, applied_migrations, build_migrations
from ._sqlite_errors import store_error
from ._sweep_projection import is_sweep_event, list_sweeps, load_sweep, project_sweeps, split_events


if TYPE_CHECKING:
    from sqlite_utils import Database

    from molq.core._sweep_state import SweepRecord


DEFAULT_STORE_PATH = "~/.molq/jobs.db"
BUSY_TIMEOUT_S = 60.0
_ACTIVE = tuple(s.value for s in JobState if not s.is_terminal)
_RECORD_ENCODER = msgspec.json.Encoder()
_RECORD_DECODER = msgspec.json.Decoder(JobRecord)


def default_store_path() -> Path:
    """``$MOLQ_STORE`` if set, else ``~/.molq/jobs.db``."""
    return Path(os.environ.get("MOLQ_STORE") or DEFAULT_STORE_PATH).expanduser()


class JobStore:
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

    # -- reading projections -------------------------------------------------------------
    def get_record(self, job_id: str) -> JobRecord | None:
        """The current record of one job, or None."""
        row = self._conn.execute("SELECT record FROM jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _RECORD_DECODER.decode(row[0]) if row else None

    def list_records(
        self,
        cluster_name: str | None,
        *,
        include_terminal: bool = True,
        include_archived: bool = False,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Records of a cluster (all clusters for None), newest first."""
        where, params = ["1 = 1"], []
        if cluster_name is not None:
            where.append("cluster_name = ?")
            params.append(cluster_name)
        if not include_archived:
            where.append("archived = 0")
        if not include_terminal:
            where.append(f"state IN ({','.join('?' * len(_ACTIVE))})")
            params.extend(_ACTIVE)
        sql = f"SELECT record FROM jobs WHERE {' AND '.join(where)} ORDER BY created_at DESC, job_id"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_RECORD_DECODER.decode(row[0]) for row in self._conn.execute(sql, params)]

    def family(self, root_job_id: str) -> list[JobRecord]:
        """Every attempt of a retry family, first attempt first."""
        rows = self._conn.execute(
            "SELECT record FROM jobs WHERE root_job_id = ? ORDER BY attempt", (root_job_id,)
        )
        return [_RECORD_DECODER.decode(row[0]) for row in rows]

    def pending_retries(self, cluster_name: str) -> list[JobRecord]:
        """Terminal attempts whose scheduled retry has not been created yet."""
        rows = self._conn.execute(
            "SELECT record FROM jobs WHERE cluster_name = ? AND retry_pending = 1", (cluster_name,)
        )
        return [_RECORD_DECODER.decode(row[0]) for row in rows]

    def latest_attempt(self, root_job_id: str) -> JobRecord | None:
        """The newest attempt of a retry family."""
        row = self._conn.execute(
            "SELECT record FROM jobs WHERE root_job_id = ? ORDER BY attempt DESC LIMIT 1", (root_job_id,)
        ).fetchone()
        return _RECORD_DECODER.decode(row[0]) if row else None

    def find_job_ids(self, prefix: str, cluster_name: str | None = None) -> list[str]:
        """Job ids starting with ``prefix`` (for unique-prefix lookups)."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        sql = "SELECT job_id FROM jobs WHERE job_id LIKE ? ESCAPE '\\'"
        params: list[str] = [escaped + "%"]
        if cluster_name is not None:
            sql += " AND cluster_name = ?"
            params.append(cluster_name)
        return [row[0] for row in self._conn.execute(sql + " LIMIT 50", params)]

    def transitions(self, job_id: str) -> list[StatusTransition]:
        """Lifecycle transitions of one job, oldest first."""
        rows = self._conn.execute(
            "SELECT job_id, old_state, new_state, timestamp, reason FROM transitions WHERE job_id = ? ORDER BY seq",
            (job_id,),
        )
        return [
            StatusTransition(r[0], JobState(r[1]) if r[1] else None, JobState(r[2]), r[3], r[4])
            for r in rows
        ]

    def dependencies(self, job_id: str) -> list[JobDependency]:
        """Edges from ``job_id`` to its upstream jobs."""
        return self._edges("job_id", job_id)

    def dependents(self, job_id: str) -> list[JobDependency]:
        """Edges from downstream jobs to ``job_id``."""
        return self._edges("dependency_job_id", job_id)

    def _edges(self, column: str, job_id: str) -> list[JobDependency]:
        rows = self._conn.execute(
            "SELECT job_id, dependency_job_id, dependency_type, scheduler_dependency "  # noqa: S608
            f"FROM dependencies WHERE {column} = ? ORDER BY seq",
            (job_id,),
        )
        return [JobDependency(r[0], r[1], r[2], r[3]) for r in rows]

    def scheduler_failures(self, cluster_name: str, *, limit: int = 50) -> list[SchedulerCommandFailed]:
        """The cluster's recorded scheduler/transport failures, newest first."""
        rows = self._conn.execute(
            "SELECT data FROM events WHERE stream = ? ORDER BY version DESC LIMIT ?",
            (cluster_stream(cluster_name), limit),
        )
        events = [decode_event(row[0]) for row in rows]
        return [e for e in events if isinstance(e, SchedulerCommandFailed)]

    # -- sweeps and job context (projections in _sweep_projection) -------------------------------
    def get_sweep(self, sweep_id: str) -> SweepRecord | None:
        """The current record of one sweep, or None."""
        return load_sweep(self._conn, sweep_id)

    def list_sweeps(self, cluster_name: str | None, *, open_only: bool = False) -> list[SweepRecord]:
        """Sweeps of a cluster (all clusters for None), newest first."""
        return list_sweeps(self._conn, cluster_name, open_only=open_only)

    def events_of_type(self, streams: Sequence[str], tag: str) -> list[Recorded]:
        """Events tagged ``tag`` in ``streams``, oldest first (uses the stream index)."""
        marks = ",".join("?" * len(streams))
        rows = self._conn.execute(
            "SELECT seq, stream, version, recorded_at, data FROM events "  # noqa: S608
            f"WHERE stream IN ({marks}) AND type = ? ORDER BY seq",
            (*streams, tag),
        )
        return [_recorded(row) for row in rows]

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
        from ._verify import verify_store

        return verify_store(self._conn, None if self._in_memory else self._path)


# -- helpers ------------------------------------------------------------------------------------


IN_MEMORY = ":memory:"


def _connect_in_memory() -> sqlite3.Connection:
    """A private in-memory store (tests, notebooks); WAL does not apply to it."""
    conn = sqlite3.connect(IN_MEMORY, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _connect(path: Path) -> sqlite3.Connection:
    if path.exists() and path.is_dir():
        msg = f"{path} is a directory, not a molq database"
        raise StoreError(msg)
    _check_header(path)
    # Under the open lock: a process creating the schema commits the migrations table
    # before the migrations, and that half-made store must not look like a foreign one.
    with _file_lock(path) if path.is_file() else nullcontext():
        _refuse_foreign(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        mode = _switch_to_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise store_error(path, exc) from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            msg = f"cannot create the molq store {path}: the disk is full ({exc.strerror})"
        else:
            msg = f"cannot open the molq store {path}: {exc}; the file was left untouched"
        raise StoreError(msg) from exc
    except UnicodeDecodeError as exc:
        msg = f"cannot open the molq store {path}: {exc}; the file was left untouched"
        raise StoreError(msg) from exc
    if not mode or str(mode[0]).lower() != "wal":
        conn.close()
        msg = f"cannot switch {path} to WAL mode"
        raise StoreError(msg)
    return conn


def _switch_to_wal(conn: sqlite3.Connection) -> Any:
    """``PRAGMA journal_mode = WAL``, retried while another process holds the lock.

    SQLite does not call the busy handler for a journal-mode change, so processes opening
    a new store at the same moment would otherwise fail with "database is locked".
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.005
    while True:
        try:
            current = conn.execute("PRAGMA journal_mode").fetchone()
            if current and str(current[0]).lower() == "wal":  # persistent: usually set long ago
                return current
            return conn.execute("PRAGMA journal_mode = WAL").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


_SQLITE_HEADER = b"SQLite format 3\0"


def _check_header(path: Path) -> None:
    """Refuse a non-empty file without a whole SQLite header: SQLite would overwrite it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(100)
    except FileNotFoundError:
        return
    except OSError as exc:
        msg = f"cannot open the molq store {path}: {exc}; the file was left untouched"
        raise StoreError(msg) from exc
    if head and (len(head) < 100 or not head.startswith(_SQLITE_HEADER)):
        msg = f"{path} is not a molq database (no SQLite header); the file was left untouched"
        raise StoreError(msg)


def _refuse_foreign(path: Path) -> None:
    """Refuse another application's SQLite file before anything is written to it.

    Read through a read-only connection: a database with tables but no molq schema is
    not molq's to convert (WAL mode, molq's tables) however its tables are named.
    """
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except (OSError, sqlite3.DatabaseError) as exc:
        msg = f"cannot open the molq store {path}: {exc}; the file was left untouched"
        raise StoreError(msg) from exc
    try:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        molq = bool(applied_migrations(conn))
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        msg = f"{path} is not a readable molq database ({exc}); the file was left untouched"
        raise StoreError(msg) from exc
    finally:
        conn.close()
    own = [name for name in tables if not name.startswith("sqlite_")]
    if own and not molq:
        shown = ", ".join(sorted(own)[:5]) + (", ..." if len(own) > 5 else "")
        msg = (
            f"{path} is another application's SQLite database (tables: {shown}), not a molq "
            "store; molq did not change it"
        )
        raise StoreError(msg)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _encode_readable(stream: str, event: LogEvent) -> bytes:
    """The event's bytes, once they are known to decode again: the log never takes what it cannot read.

    Raises:
        StoreError: the event holds a value its type does not allow (e.g. an unknown enum text).
    """
    data = encode_event(event)
    try:
        decode_event(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        msg = f"refusing to append {event_tag(event)} to {stream}: it would not read back ({exc}); nothing was written"
        raise StoreError(msg) from exc
    return data


def _scalar(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row else None


def _recorded(row: tuple[Any, ...]) -> Recorded:
    seq, stream, version, recorded_at, data = row
    try:
        event = decode_event(data)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, TypeError) as exc:  # TypeError: a damaged cell read as NULL
        msg = f"event {seq} of stream {stream} cannot be decoded: {exc}"
        raise CorruptLogError(msg) from exc
    return Recorded(seq=seq, stream=stream, version=version, recorded_at=recorded_at, event=event)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk fold.

    A rebuild allocates millions of short-lived, acyclic objects (rows, events, records);
    the collector's passes over them cost about as much as decoding the events did.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_REBUILD_PAGE = 20_000


def _decode_page(rows: Sequence[tuple[Any, ...]]) -> tuple[_JobBatch, list[Recorded]]:
    """Decode log rows into a batch of job events and sweep envelopes (cluster events have no projection)."""
    jobs = _JobBatch()
    sweeps: list[Recorded] = []
    for row in rows:
        seq, stream, version, recorded_at, data = row
        try:
            event = decode_event(data)
        except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, TypeError):
            _recorded(row)  # raises the CorruptLogError naming the event
            raise
        if type(event) in _JOB_EVENT_TYPES:
            jobs.add(seq, event)  # type: ignore[arg-type]  # narrowed by the type check
        elif is_sweep_event(event):
            sweeps.append(Recorded(seq=seq, stream=stream, version=version, recorded_at=recorded_at, event=event))
    return jobs, sweeps


_JOB_EVENT_TYPES: frozenset[type] = frozenset(JobEvent.__args__)


def _project(conn: sqlite3.Connection, recorded: Sequence[Recorded]) -> None:
    """Fold new events into the projection tables (same transaction as the append)."""
    if not recorded:
        return
    job_items, sweep_items = split_events(recorded)
    project_sweeps(conn, sweep_items)
    jobs = _JobBatch()
    for item, event in job_items:
        jobs.add(item.seq, event)
    jobs.project(conn)


class _JobBatch:
    """Job events in log order, grouped by job, to fold into jobs, transitions and dependencies.

    Each job's events are folded at once (one record built per job, not per event) and
    every table is written with one ``executemany``; the rows are those an event-by-event
    fold in log order writes.
    """

    def __init__(self) -> None:
        self.events: dict[str, list[JobEvent]] = {}
        self.seqs: dict[str, list[int]] = {}
        self.edges: list[tuple[Any, ...]] = []

    def add(self, seq: int, event: JobEvent) -> None:
        job_id = event.job_id
        if (group := self.events.get(job_id)) is None:
            self.events[job_id] = [event]
            self.seqs[job_id] = [seq]
        else:
            group.append(event)
            self.seqs[job_id].append(seq)
        if type(event) is JobDependencyRecorded:
            self.edges.append((seq, job_id, event.dependency_job_id, event.dependency_type, event.scheduler_dependency))

    def project(self, conn: sqlite3.Connection) -> None:
        if not self.events:
            return
        stored, columns = _load_records(conn, self.events)
        folded: dict[str, tuple[JobRecord, int]] = {}
        transitions: list[tuple[Any, ...]] = []
        try:
            for job_id, group in self.events.items():
                record, changes = fold_events(stored.get(job_id), group)
                seqs = self.seqs[job_id]
                for index, old, new in changes:
                    event = group[index]
                    transitions.append((seqs[index], job_id, _VALUE.get(old), _VALUE[new], event.at, _reason(event)))
                folded[job_id] = (record, seqs[-1])
        except CorruptLogError:
            self._raise_first_corruption(stored)
            raise
        if transitions:
            conn.executemany(
                "INSERT INTO transitions (seq, job_id, old_state, new_state, timestamp, reason) VALUES (?, ?, ?, ?, ?, ?)",
                transitions,
            )
        if self.edges:
            conn.executemany(
                "INSERT INTO dependencies (seq, job_id, dependency_job_id, dependency_type, scheduler_dependency) "
                "VALUES (?, ?, ?, ?, ?)",
                self.edges,
            )
        _save_records(conn, folded, columns)

    def _raise_first_corruption(self, stored: dict[str, JobRecord]) -> None:
        """Re-fold event by event in log order, so the error raised is the one at the earliest event."""
        items = sorted((seq, event) for job_id, group in self.events.items()
                       for seq, event in zip(self.seqs[job_id], group, strict=True))
        records: dict[str, JobRecord | None] = dict(stored)
        for _, event in items:
            records[event.job_id] = evolve(records.get(event.job_id), event)


_VALUE: dict[JobState | None, str] = {state: state.value for state in JobState}  # Enum.value is slow


def indexed_columns(record: JobRecord) -> tuple[Any, ...]:
    """The jobs projection's columns from ``cluster_name`` to ``archived`` for ``record``.

    ``retry_pending`` depends on other jobs and is settled by the caller.
    """
    return (
        record.cluster_name,
        record.root_job_id,
        record.attempt,
        _VALUE[record.state],
        record.scheduler_job_id,
        record.created_at,
        int(record.archived_at is not None),
    )


def _reason(event: JobEvent) -> str | None:
    reason = getattr(event, "reason", None)
    if reason is None and isinstance(event, JobCreated) and event.attempt > 1:
        return f"retry attempt {event.attempt} of {event.root_job_id}"
    return reason


_IN_CHUNK = 900  # below SQLite's oldest default limit of 999 bound parameters


def _select_in(conn: sqlite3.Connection, sql: str, keys: Sequence[str]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (which ends in ``IN ({})``) for ``keys``, in chunks of bound parameters."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), _IN_CHUNK):
        chunk = keys[start : start + _IN_CHUNK]
        rows += conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
    return rows


StoredColumns = dict[str, tuple[int, int]]
"""``job_id -> (archived, retry_pending)`` as the jobs table holds them."""


def _load_records(conn: sqlite3.Connection, job_ids: Iterable[str]) -> tuple[dict[str, JobRecord], StoredColumns]:
    """The stored records of ``job_ids`` (those the jobs table holds) and their flag columns."""
    rows = _select_in(
        conn, "SELECT job_id, archived, retry_pending, record FROM jobs WHERE job_id IN ({})", list(job_ids)
    )
    records = {job_id: _RECORD_DECODER.decode(data) for job_id, _, _, data in rows}
    return records, {job_id: (archived, pending) for job_id, archived, pending, _ in rows}


# An upsert rewrites the entry of every index on a column its SET list names (or that a
# partial index's WHERE reads), changed value or not: naming ``archived`` and ``retry_pending``
# only when one of them changes spares the jobs_listing page (and, before m004, the
# jobs_retry_pending one) on most appends. ``cluster_name``, ``root_job_id``, ``attempt``
# and ``created_at`` never change after ``job.created``, so no upsert names them.
_INSERT_JOB = (
    "INSERT INTO jobs (job_id, cluster_name, root_job_id, attempt, state, scheduler_job_id, created_at, "
    "archived, retry_pending, last_seq, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(job_id) DO UPDATE SET state = excluded.state, scheduler_job_id = excluded.scheduler_job_id, "
)
_UPSERT_FULL = (
    _INSERT_JOB + "archived = excluded.archived, retry_pending = excluded.retry_pending, "
    "last_seq = excluded.last_seq, record = excluded.record"
)
_UPSERT_LEAN = _INSERT_JOB + "last_seq = excluded.last_seq, record = excluded.record"
_ARCHIVED, _PENDING = 7, 8  # positions in a jobs row as _save_records builds it


def _save_records(
    conn: sqlite3.Connection, folded: dict[str, tuple[JobRecord, int]], stored: StoredColumns
) -> None:
    """Write the folded records as saving them one by one, in first-seen order, would.

    ``retry_pending`` is set while the next attempt does not exist yet; creating an attempt
    clears it on the previous one. ``stored`` holds the flag columns of the rows that exist;
    a row whose flags keep their values is written by the lean upsert (the same row).
    """
    wanted = [
        record.next_attempt_job_id
        for record, _ in folded.values()
        if record.next_attempt_job_id is not None and record.cancel_requested_at is None
    ]
    existing = {row[0] for row in _select_in(conn, "SELECT job_id FROM jobs WHERE job_id IN ({})", wanted)}
    rows: dict[str, list[Any]] = {}
    clears: list[tuple[str]] = []
    encode = _RECORD_ENCODER.encode
    for job_id, (record, seq) in folded.items():
        following = record.next_attempt_job_id
        pending = (
            following is not None
            and record.cancel_requested_at is None
            and following not in existing
            and following not in rows
        )
        previous = record.previous_attempt_job_id
        if job_id not in stored and previous is not None:
            # The attempt a retry was waiting for now exists; clear that once, not on every event.
            clears.append((previous,))
            if previous in rows:
                rows[previous][_PENDING] = 0
        rows[job_id] = [record.job_id, *indexed_columns(record), int(pending), seq, encode(record)]
    if clears:
        # Rows already at 0 are left unwritten (the same content, one page fewer).
        conn.executemany("UPDATE jobs SET retry_pending = 0 WHERE job_id = ? AND retry_pending = 1", clears)
    cleared = {previous for (previous,) in clears}
    lean: list[list[Any]] = []  # new rows, in first-seen order (so the same rowids), and unchanged flags
    full: list[list[Any]] = []
    for job_id, row in rows.items():
        columns = stored.get(job_id)
        if columns is not None and job_id in cleared:
            columns = (columns[0], 0)  # as the UPDATE above left the row
        unchanged = columns is None or (row[_ARCHIVED], row[_PENDING]) == columns
        (lean if unchanged else full).append(row)
    if lean:
        conn.executemany(_UPSERT_LEAN, lean)
    if full:
        conn.executemany(_UPSERT_FULL, full)


def encode_record(record: JobRecord) -> bytes:
    """Encode a record the way the jobs projection stores it."""
    return _RECORD_ENCODER.encode(record)


_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


def _failure(path: Path, exc: Exception) -> StoreError:
    """The StoreError for a failed read or write of ``path``: SQLite's error, or an undecodable record."""
    if isinstance(exc, sqlite3.DatabaseError):
        return store_error(path, exc)
    return CorruptLogError(f"{path} holds a record that cannot be decoded ({exc})")


def _as_store_error(method: Any) -> Any:
    """Re-raise SQLite's errors (a damaged page, an I/O error) as StoreError naming the file."""
    # _failure is module level, not a closure built here at import time: mutmut switches a
    # mutant on when a function is called, so only a function called later can be judged.

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: JobStore, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.IntegrityError:
                raise
            except (sqlite3.DatabaseError, *_UNDECODABLE) as exc:
                raise _failure(self.path, exc) from exc

        return generator

    @functools.wraps(method)
    def wrapper(self: JobStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.DatabaseError, *_UNDECODABLE) as exc:
            raise _failure(self.path, exc) from exc

    return wrapper


for _name, _method in list(vars(JobStore).items()):
    if callable(_method) and not _name.startswith("_") and _name not in ("close", "db"):
        setattr(JobStore, _name, _as_store_error(_method))


__all__ = ["DEFAULT_STORE_PATH", "MIGRATION_SET", "JobStore", "default_store_path", "encode_record"]
