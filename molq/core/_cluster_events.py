"""Cluster events: facts about a cluster's scheduler rather than about one job.

Rules of this module:
  Rule 1: the same evolution rules as job events (stable dotted tags, defaults on
          new fields, no array_like, no forbid_unknown_fields).
  Rule 2: the stream is ``cluster/<cluster name>``; no job projection reads these.
"""

from __future__ import annotations

import msgspec


CLUSTER_STREAM_PREFIX = "cluster/"


class SchedulerCommandFailed(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="cluster.command_failed"):
    """A scheduler or transport command failed; no job's state was changed because of it."""

    cluster_name: str
    at: float
    scheduler: str
    operation: str
    error: str
    argv: tuple[str, ...] = ()
    returncode: int | None = None
    stderr: str = ""


ClusterEvent = SchedulerCommandFailed


def cluster_stream(cluster_name: str) -> str:
    """The stream that holds a cluster's events."""
    return f"{CLUSTER_STREAM_PREFIX}{cluster_name}"


def should_record_failure(previous: SchedulerCommandFailed | None, error: str, now: float, *, quiet_s: float = 60.0) -> bool:
    """Record a failure unless the same error was recorded less than ``quiet_s`` ago.

    A scheduler that is down for an hour must not add an event per poll.
    """
    if previous is None or previous.error != error:
        return True
    return now - previous.at >= quiet_s
