"""Live subscriptions: new log events (from any process writing the store) and job output.

Events are found by polling ``events`` by ``seq`` (the primary key), so a
subscription costs one indexed query per interval and sees every writer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import attrs

from molq.core import JobRecord, Recorded, StoreError, Transport
from molq.core._events import JobCreated
from molq.core._sweep_events import SweepCreated


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts
    from molq.shell.store._store import JobStore


@attrs.define
class EventFilter:
    """Which events a subscription yields: one cluster, optionally some jobs or sweeps (and their retries/cells)."""

    store: JobStore
    cluster_name: str
    wanted: set[str] | None
    tags: Collection[str] | None = None
    _cluster_of: dict[str, bool] = attrs.Factory(dict)

    def accepts(self, item: Recorded) -> bool:
        """Whether ``item`` belongs to the subscription (following retries and sweep cells)."""
        event = item.event
        if isinstance(event, JobCreated | SweepCreated):
            self._cluster_of[item.stream] = event.cluster_name == self.cluster_name
            self._follow(event)
        if not self._in_cluster(item.stream):
            return False
        if self.wanted is not None and item.stream not in self.wanted:
            return False
        return self.tags is None or _tag(item) in self.tags

    def _follow(self, event: JobCreated | SweepCreated) -> None:
        if self.wanted is None or not isinstance(event, JobCreated):
            return
        links = {event.root_job_id, event.previous_attempt_job_id, event.spec.metadata.get("molq.sweep_id")}
        if links & self.wanted:
            self.wanted.add(event.job_id)

    def _in_cluster(self, stream: str) -> bool:
        if stream not in self._cluster_of:
            record = self.store.get_record(stream)
            sweep = self.store.get_sweep(stream) if record is None else None
            owner = record.cluster_name if record is not None else (sweep.cluster_name if sweep else None)
            self._cluster_of[stream] = owner == self.cluster_name
        return self._cluster_of[stream]


def _tag(item: Recorded) -> str:
    from molq.core import event_tag

    return event_tag(item.event)


@attrs.define
class EventCursor:
    """A position in the log plus a filter; ``poll`` returns what was appended since."""

    store: JobStore
    filter: EventFilter
    after_seq: int

    def poll(self, limit: int = 1000) -> list[Recorded]:
        """Events appended after the cursor that pass the filter; advances the cursor."""
        batch = list(self.store.read_all(after_seq=self.after_seq, limit=limit))
        if batch:
            self.after_seq = batch[-1].seq
        return [item for item in batch if self.filter.accepts(item)]


def open_cursor(
    store_path: Path,
    cluster_name: str,
    job_ids: Collection[str] | None,
    *,
    from_seq: int | None,
    tags: Collection[str] | None,
) -> EventCursor:
    """A cursor on its own store connection (safe to use from another thread)."""
    from molq.shell.store._store import JobStore  # here: the store loads with its first use (ADR 0032)

    store = JobStore(store_path)
    wanted = None if job_ids is None else set(job_ids)
    start = store.last_seq() if from_seq is None else from_seq
    return EventCursor(store, EventFilter(store, cluster_name, wanted, tags), start)


def subscribe_events(
    cursor: EventCursor,
    *,
    poll_interval: float,
    timeout: float | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Recorded]:
    """Yield events as they are appended until ``timeout`` (forever for None) or the consumer stops."""
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while deadline is None or time.monotonic() < deadline:
            yield from cursor.poll()
            sleep(poll_interval)
        yield from cursor.poll()
    finally:
        cursor.store.close()


async def asubscribe_events(
    cursor: EventCursor, *, poll_interval: float, timeout: float | None
) -> AsyncIterator[Recorded]:
    """The async form of ``subscribe_events`` (the store is queried in a worker thread)."""
    import asyncio  # here: asyncio alone is a sixth of a bare import (ADR 0032)

    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            for item in await asyncio.to_thread(cursor.poll):
                yield item
            if deadline is not None and time.monotonic() >= deadline:
                return
            await asyncio.sleep(poll_interval)
    finally:
        cursor.store.close()


def read_new_lines(
    transport: Transport, path: str, offset: int, *, final: bool = False
) -> tuple[list[str], int]:
    """Complete lines written to ``path`` after byte ``offset`` (and a last partial one when ``final``).

    Lines end at a newline only: a job's output may hold other characters that
    ``str.splitlines`` would take for line breaks. The offset counts the file's
    bytes: when the text came back with replacement characters (bytes that are not
    UTF-8), the new bytes are read as bytes, so the next read starts where this one
    stopped.
    """
    done = transport.run(["tail", "-c", f"+{offset + 1}", path], timeout=60)
    if not done.ok or not done.stdout:
        return [], offset
    not_utf8 = "\ufffd" in done.stdout
    data = transport.read_bytes(path)[offset:] if not_utf8 else done.stdout.encode()
    if not final:
        data = data[: data.rfind(b"\n") + 1]
        if not data:
            return [], offset
    lines = data.decode("utf-8", "replace").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines, offset + len(data)


def subscribe_logs(
    submitor: SubmitorParts,
    job_id: str,
    stream: str = "stdout",
    *,
    poll_interval: float = 0.5,
    timeout: float | None = None,
) -> Iterator[str]:
    """Yield new lines of the job's stdout or stderr, attempt after attempt, until its family is final.

    Every line of every attempt comes out once, in order: an attempt's file is read
    to its end before the next attempt's is started.

    Raises:
        ConfigError: ``stream`` is neither ``stdout`` nor ``stderr``.
        JobNotFoundError: no such job in this cluster.
    """
    key = _stream_key(stream)
    first = submitor.get_job(job_id)
    deadline = None if timeout is None else time.monotonic() + timeout
    reader = _AttemptLogs(submitor.target.transport, key, first.attempt)
    while True:
        latest, finished = submitor._monitor.final_record(job_id)
        family = [latest] if latest.job_id == first.job_id else submitor.store.family(first.root_job_id)
        yield from reader.read(family, finished=finished)
        if finished or (deadline is not None and time.monotonic() >= deadline):
            return
        time.sleep(poll_interval)
        submitor.reconciler.reconcile([latest.job_id])


class _AttemptLogs:
    """Where reading a family's logs has got to: which attempt, which file, which byte."""

    def __init__(self, transport: Transport, key: str, attempt: int) -> None:
        self.transport, self.key, self.attempt = transport, key, attempt
        self.path: str | None = None
        self.offset = 0

    def read(self, family: list[JobRecord], *, finished: bool) -> Iterator[str]:
        """New lines of the current attempt, then of each later one, in attempt order."""
        attempts = [r for r in family if r.attempt >= self.attempt]
        for index, record in enumerate(attempts):
            path = record.metadata.get(self.key)
            if path != self.path:  # an attempt with its own file (a shared file reads on)
                self.path, self.offset = path, 0
            self.attempt = record.attempt
            is_last = index == len(attempts) - 1
            done = record.state.is_terminal and (finished or not is_last)
            if self.path:
                lines, self.offset = read_new_lines(self.transport, self.path, self.offset, final=done)
                yield from lines


def _stream_key(stream: str) -> str:
    from molq.core import ConfigError

    if stream not in ("stdout", "stderr"):
        msg = f"stream must be 'stdout' or 'stderr', got {stream!r}"
        raise ConfigError(msg)
    return f"molq.{stream}_path"


def _file_store_path(store: JobStore) -> Path:
    if store.in_memory:
        msg = "subscriptions read the store from a second connection: use a file store, not JobStore(':memory:')"
        raise StoreError(msg)
    return store.path


class LiveSubscriptions:
    """Submitor's subscription verbs (a mixin: the logic is in the functions above)."""

    def subscribe_events(
        self,
        job_ids: Sequence[str] | None = None,
        *,
        from_seq: int | None = None,
        tags: Collection[str] | None = None,
        poll_interval: float = 0.25,
        timeout: float | None = None,
    ) -> Iterator[Recorded]:
        """Yield this cluster's events as any process appends them.

        ``job_ids`` limits them to those jobs or sweeps, following retries and sweep
        cells; ``tags`` to those event tags. Starts at the log's end unless
        ``from_seq`` is given; runs until ``timeout`` or until the caller stops.
        """
        parts = cast("SubmitorParts", self)  # the mixin is only ever a base of Submitor
        cursor = open_cursor(_file_store_path(parts.store), parts.cluster_name, job_ids, from_seq=from_seq, tags=tags)
        return subscribe_events(cursor, poll_interval=poll_interval, timeout=timeout)

    def asubscribe_events(
        self,
        job_ids: Sequence[str] | None = None,
        *,
        from_seq: int | None = None,
        tags: Collection[str] | None = None,
        poll_interval: float = 0.25,
        timeout: float | None = None,
    ) -> AsyncIterator[Recorded]:
        """The async form of ``subscribe_events`` (``async for recorded in ...``)."""
        parts = cast("SubmitorParts", self)  # the mixin is only ever a base of Submitor
        cursor = open_cursor(_file_store_path(parts.store), parts.cluster_name, job_ids, from_seq=from_seq, tags=tags)
        return asubscribe_events(cursor, poll_interval=poll_interval, timeout=timeout)

    def subscribe_logs(
        self, job_id: str, stream: str = "stdout", *, poll_interval: float = 0.5, timeout: float | None = None
    ) -> Iterator[str]:
        """Yield new lines of the job's stdout/stderr (following retries) until the job is final."""
        return subscribe_logs(cast("SubmitorParts", self), job_id, stream, poll_interval=poll_interval, timeout=timeout)


__all__ = ["EventCursor", "asubscribe_events", "open_cursor", "subscribe_events", "subscribe_logs"]
