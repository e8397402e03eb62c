"""What an SQLite failure means for the user, said plainly (issue 13, item 19), and the StoreError every store method raises for it.

SQLite reports a full disk, an I/O error, a read-only file and a damaged file all as
``sqlite3.DatabaseError`` subclasses; only the extended error code tells them apart.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from pathlib import Path
from typing import Any, Final

import msgspec

from molq.core import CorruptLogError, StoreError


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


_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


def _failure(path: Path, exc: Exception) -> StoreError:
    """The StoreError for a failed read or write of ``path``: SQLite's error, or an undecodable record."""
    if isinstance(exc, sqlite3.DatabaseError):
        return store_error(path, exc)
    return CorruptLogError(f"{path} holds a record that cannot be decoded ({exc})")


def as_store_error(method: Any) -> Any:
    """Re-raise SQLite's errors (a damaged page, an I/O error) as StoreError naming the file."""
    # _failure is module level, not a closure built here at import time: mutmut switches a
    # mutant on when a function is called, so only a function called later can be judged.

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def generator(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(self, *args, **kwargs)
            except sqlite3.IntegrityError:
                raise
            except (sqlite3.DatabaseError, *_UNDECODABLE) as exc:
                raise _failure(self.path, exc) from exc

        return generator

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.IntegrityError:
            raise
        except (sqlite3.DatabaseError, *_UNDECODABLE) as exc:
            raise _failure(self.path, exc) from exc

    return wrapper
