"""The fast audit: do the stored projections equal the log's fold?  Only yes or no.

``verify_store`` asks this first and answers ``[]`` on yes; on no (or any error) it runs the
exact audit in ``_verify``, which names every difference. So this check may say no
spuriously (that only costs time) but must never say yes where the exact audit would
report a problem.

Rules of this module:
  Rule 1 (ranges): see ``_verify_range``: disjoint ranges of stream ids, each checked alone,
         together covering every row; retry_pending is settled by Rule 3 there.
  Rule 2 (one snapshot): ranges may be read by this process and by child processes, each in
         its own read transaction. The caller's connection reads ``PRAGMA data_version`` and
         ``total_changes`` before any reader starts and after every reader has finished;
         unchanged values mean no connection committed in between, so every reader saw the
         same committed state, else the answer is no. A caller inside an open transaction
         (which other connections cannot see) gets no as well. So while a writer keeps
         committing, the answer is no and the exact audit runs, in one read transaction.
  Rule 3 (children): a large log is split between this process and ``workers - 1`` children
         started with ``python -I -c`` (a fresh interpreter, not ``fork``: the caller may
         have threads; and not ``multiprocessing``, whose spawn re-imports the caller's
         ``__main__``). Ranges are handed out one by one (this process takes them from the
         front, children from the back). Children ignore SIGINT; before returning or raising,
         the parent ends every child it started (EOF on its stdin, or a kill on any error)
         and reaps it; a child that fails or dies counts as no.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
from collections import deque
from pathlib import Path
from typing import Any

from molq.shell.store._connect import BUSY_TIMEOUT_S
from molq.shell.store._rows import gc_paused
from molq.shell.store._verify_range import Range, check_range, select_in


PARALLEL_THRESHOLD = 100_000
"""Logs with at least this many events (by ``MAX(seq)``) are checked by several processes."""
RANGE_EVENTS = 16_000
"""About this many events per range: what one reader holds in memory at a time."""


def projections_match(
    conn: sqlite3.Connection, path: Path, *, workers: int = 2, threshold: int = PARALLEL_THRESHOLD
) -> bool:
    """Whether every stored projection equals the fold of the log (see the module rules).

    ``workers`` processes share the ranges once the log holds ``threshold`` events.
    """
    if conn.in_transaction:
        return False
    crew: _Crew | None = None
    with gc_paused():
        try:
            size = _log_size(conn)
            crew = _Crew(path, workers - 1 if size >= threshold else 0)
            stamp = _stamp(conn)
            todo = deque(_ranges(conn, len(crew.children) + 1, size))
            ok = _check_here(conn, todo, crew) and crew.drain()
            crew.reap(gently=ok)
            return ok and _stamp(conn) == stamp
        except (sqlite3.Error, OSError, ValueError):
            return False  # the exact audit raises (or reports) what this was
        finally:
            if crew is not None:
                crew.reap()


def _log_size(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)


def _stamp(conn: sqlite3.Connection) -> tuple[int, int]:
    return int(conn.execute("PRAGMA data_version").fetchone()[0]), conn.total_changes


def _ranges(conn: sqlite3.Connection, readers: int, size: int) -> list[Range]:
    """Cut the id space at quantiles of the streams of evenly spaced events.

    A stream is sampled in proportion to its events, so ranges hold about ``RANGE_EVENTS``
    events each; the cuts only balance the work, any cuts give a correct answer.
    """
    count = max(readers, -(-size // RANGE_EVENTS))
    per_range = 16
    seqs = (
        sorted({1 + (size - 1) * i // (count * per_range) for i in range(count * per_range)}) if size else []
    )
    streams = sorted(row[0] for row in select_in(conn, "SELECT stream FROM events WHERE seq IN ({})", seqs))
    cuts = sorted(set(streams[per_range::per_range]))
    bounds: list[str | None] = [None, *cuts, None]
    return list(itertools.pairwise(bounds))


# -- this process's share ---------------------------------------------------------------------------


def _check_here(conn: sqlite3.Connection, todo: deque[Range], crew: _Crew) -> bool:
    """Check ranges from the front of ``todo`` while the children take theirs from the back."""
    conn.execute("BEGIN")
    try:
        crew.feed(todo)
        while todo:
            if not check_range(conn, todo.popleft()) or not crew.collect(wait=False):
                return False
            crew.feed(todo)
        return True
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


# -- children ---------------------------------------------------------------------------------------
#
# A child reads lines on stdin: the caller's sys.path (so it imports the same molq), the store's
# path, then one range per line, answering each with one byte, ``y`` or ``n``; EOF ends it.
# All its ranges are read in one read transaction, begun at its first range.

_CHILD = (
    "import json, sys; sys.path[:] = json.loads(sys.stdin.readline()); "
    "from molq.shell.store._verify_fast import child_main; child_main()"
)
_IN_FLIGHT = 2  # ranges queued at a child, so it never waits for this process to hand it one
_GRACE_S = 5.0  # how long a child that was told to stop may take to close its connection


class _Crew:
    """The child processes of one check and the ranges each has not answered yet."""

    def __init__(self, path: Path, count: int) -> None:
        self.children: list[subprocess.Popen[bytes]] = []
        self.waiting: dict[int, int] = {}  # stdout fd -> ranges sent, not answered
        try:
            for _ in range(count if sys.executable else 0):
                self.children.append(_spawn(path))
        except OSError:
            self.reap()
            self.children = []  # fewer processes, same answer
        except BaseException:
            self.reap()
            raise
        self.by_fd = {_fd(child): child for child in self.children}
        self.waiting = dict.fromkeys(self.by_fd, 0)

    def feed(self, todo: deque[Range]) -> None:
        for fd, child in self.by_fd.items():
            while todo and self.waiting[fd] < _IN_FLIGHT:
                child.stdin.write(json.dumps(todo.pop()).encode() + b"\n")  # type: ignore[union-attr]
                child.stdin.flush()  # type: ignore[union-attr]
                self.waiting[fd] += 1

    def collect(self, *, wait: bool) -> bool:
        """Read the answers that are in (with ``wait``, at least one); False on any no or a dead child."""
        busy = [fd for fd, n in self.waiting.items() if n]
        if not busy:
            return True
        ready, _, _ = select.select(busy, [], [], None if wait else 0)
        for fd in ready:
            answers = os.read(fd, 64)
            if not answers or answers.strip(b"y"):
                return False
            self.waiting[fd] -= len(answers)
        return True

    def drain(self) -> bool:
        while any(self.waiting.values()):
            if not self.collect(wait=True):
                return False
        return True

    def reap(self, *, gently: bool = False) -> None:
        """End every child: gently, by closing its stdin (it finishes at EOF); else, or if slow, kill it."""
        for child in self.children:
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        for child in self.children:
            if gently:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=_GRACE_S)
            if child.poll() is None:
                child.kill()
            child.wait()


def _fd(child: subprocess.Popen[bytes]) -> int:
    assert child.stdout is not None  # noqa: S101 - started with stdout=PIPE
    return child.stdout.fileno()


def _spawn(path: Path) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(  # this interpreter, running molq's own code
        [sys.executable, "-I", "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        child.stdin.write(f"{json.dumps(sys.path)}\n{json.dumps(str(path))}\n".encode())  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
    except OSError:
        child.kill()
        child.wait()
        raise
    return child


def child_main(stdin: Any = None, stdout: Any = None) -> None:
    """A child's whole life: check each range it is sent, in one read transaction, and answer it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and kills its children
    stdin, stdout = stdin or sys.stdin, stdout or sys.stdout.buffer  # text stdin: line 1 was read through it
    gc.disable()  # as ``gc_paused``: the fold allocates millions of acyclic objects
    path = Path(json.loads(stdin.readline()))
    conn: sqlite3.Connection | None = None
    try:
        for line in stdin:
            if conn is None:
                conn = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    timeout=BUSY_TIMEOUT_S,
                )
                conn.execute("BEGIN")
            ok = check_range(conn, tuple(json.loads(line)))
            stdout.write(b"y" if ok else b"n")
            stdout.flush()
            if not ok:
                return
    except Exception:  # the parent reads a missing answer as no
        stdout.write(b"n")
        stdout.flush()
    finally:
        if conn is not None:
            conn.close()
