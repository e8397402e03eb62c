"""What an SQLite failure means for the user, said plainly (issue 13, item 19).

SQLite reports a full disk, an I/O error, a read-only file and a damaged file all as
``sqlite3.DatabaseError`` subclasses; only the extended error code tells them apart.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final

from molq.core import StoreError


_FULL: Final = 13  # SQLITE_FULL
_IOERR: Final = 10  # SQLITE_IOERR (ENOSPC during a write shows up here too)
_READONLY: Final = 8  # SQLITE_READONLY
_CANTOPEN: Final = 14  # SQLITE_CANTOPEN
_BUSY: Final = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


def store_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    """A StoreError that says what happened to ``path``: full, I/O, read-only, locked or unreadable."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(exc)
    if code == _FULL or "disk is full" in text or "No space left" in text:
        return StoreError(
            f"cannot write to {path}: the disk is full ({exc}); this change was not recorded "
            "(SQLite rolled it back): free some space and try again"
        )
    if code == _IOERR:
        return StoreError(f"input/output error on {path} ({exc}); this change was not recorded")
    if code == _READONLY:
        return StoreError(f"cannot write to {path}: it is read-only ({exc}); this change was not recorded")
    if code == _CANTOPEN:
        return StoreError(f"cannot open {path} ({exc})")
    if code in _BUSY:
        return StoreError(f"{path} stayed locked by another process ({exc}); try again")
    return StoreError(f"{path} cannot be read ({exc}); the file was left untouched")
