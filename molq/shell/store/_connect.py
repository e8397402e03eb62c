"""Opening the store's file: refuse what is not a molq database, lock migrations, switch to WAL."""

from __future__ import annotations

import errno
import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from molq.core import StoreError
from molq.shell.store._schema import applied_migrations
from molq.shell.store._sqlite_errors import store_error


DEFAULT_STORE_PATH = "~/.molq/jobs.db"
BUSY_TIMEOUT_S = 60.0


def default_store_path() -> Path:
    """``$MOLQ_STORE`` if set, else ``~/.molq/jobs.db``."""
    return Path(os.environ.get("MOLQ_STORE") or DEFAULT_STORE_PATH).expanduser()


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
    try:
        _refuse_foreign(path)
    except StoreError:
        # A process creating the schema commits the migrations table before the migrations,
        # under the open lock: such a half-made store is judged again once the lock is free.
        # No lock file: no molq ever opened it, and a read-only command creates no file.
        if not _lock_path(path).exists():
            raise
        with _file_lock(path):
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


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    fd = os.open(_lock_path(path), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
