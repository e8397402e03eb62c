"""What ``molq replay`` shows: a job's events folded up to a moment, with its family and edges."""

from __future__ import annotations

import datetime as dt
import json
import shlex
from typing import TYPE_CHECKING, Any

import attrs
import msgspec

from molq import JobCreated, JobDependencyRecorded, JobNotFoundError, event_data, event_tag, fold_job
from molq.dashboard._model import EdgeStatus, edge_status


if TYPE_CHECKING:
    from molq import JobRecord, JobStore, Recorded

_TIME_FIELDS = frozenset({"started_at", "finished_at", "due_at"})
_SKIP_FIELDS = frozenset({"type", "job_id", "at", "spec", "retry", "root_job_id"})


def parse_as_of(text: str) -> float:
    """Epoch seconds from ``1767225600``/``1767225600.5`` or ISO 8601 (naive = local time).

    Raises:
        ValueError: neither form.
    """
    try:
        return float(text)
    except ValueError:
        pass
    moment = dt.datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return moment.timestamp()


def spec_command(event: JobCreated) -> str:
    """How a created job's work reads on a command line."""
    spec = event.spec
    if spec.argv:
        return shlex.join(spec.argv)
    if spec.command is not None:
        return spec.command
    script = spec.script
    return f"script {script.file_path}" if script is not None and script.file_path else "inline script"


def event_details(event: msgspec.Struct) -> str:
    """``key=value`` pairs of an event's non-empty fields (times as local ISO)."""
    data: dict[str, Any] = event_data(event)
    parts = []
    if isinstance(event, JobCreated):
        parts.append(f"command={_quote(spec_command(event))}")
        if event.spec.execution.job_name:
            parts.append(f"name={_quote(event.spec.execution.job_name)}")
        if event.retry.max_attempts > 1:
            parts.append(f"max_attempts={event.retry.max_attempts}")
    for key, value in _flat(data).items():
        if key in _SKIP_FIELDS or value in (None, "", (), [], False) or (key == "attempt" and value == 1):
            continue
        shown = _iso(value) if key in _TIME_FIELDS and isinstance(value, float) else value
        parts.append(f"{key}={_quote(shown)}")
    return " ".join(parts)


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """Nested objects as dotted keys (``usage.cpu_seconds=1.0``), so each figure reads alone."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key not in _SKIP_FIELDS:
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="milliseconds")


def _quote(value: object) -> str:
    text = str(value)
    return json.dumps(text) if not text or any(c.isspace() or c in "\"'" for c in text) else text


def events_until(store: JobStore, job_id: str, as_of: float | None) -> list[Recorded]:
    """A job's recorded events, oldest first, up to ``as_of`` (recording time) inclusive."""
    return [r for r in store.read_stream(job_id) if as_of is None or r.recorded_at <= as_of]


def fold_until(store: JobStore, job_id: str, as_of: float | None) -> JobRecord | None:
    """The job's record as it was known at ``as_of`` (None if it did not exist yet)."""
    return fold_job([r.event for r in events_until(store, job_id, as_of)])


@attrs.frozen
class EdgeAsOf:
    """A dependency edge as known at a moment, with its status then."""

    job_id: str
    dependency_job_id: str
    condition: str
    native: str
    status: EdgeStatus
    recorded_at: float


@attrs.frozen
class Replay:
    """A job's history up to ``as_of``: events, folded record, family and edges."""

    job_id: str
    as_of: float | None
    events: list[Recorded]
    total_events: int
    record: JobRecord
    family: list[JobRecord]
    upstream: list[EdgeAsOf]
    downstream: list[EdgeAsOf]


def _family_until(store: JobStore, root_job_id: str, as_of: float | None) -> list[JobRecord]:
    found = (fold_until(store, member.job_id, as_of) for member in store.family(root_job_id))
    return [record for record in found if record is not None]


def _latest_until(store: JobStore, job_id: str, as_of: float | None) -> JobRecord | None:
    record = store.get_record(job_id)
    family = _family_until(store, record.root_job_id, as_of) if record else []
    return family[-1] if family else None


def _edges(store: JobStore, stream: str, as_of: float | None, upstream_of: str | None) -> list[EdgeAsOf]:
    edges = []
    for item in events_until(store, stream, as_of):
        event = item.event
        if not isinstance(event, JobDependencyRecorded):
            continue
        if upstream_of is not None and event.dependency_job_id != upstream_of:
            continue
        upstream = _latest_until(store, event.dependency_job_id, as_of)
        status = edge_status(event.dependency_type, upstream)
        edges.append(
            EdgeAsOf(
                stream,
                event.dependency_job_id,
                event.dependency_type,
                event.scheduler_dependency,
                status,
                item.recorded_at,
            )
        )
    return edges


def build_replay(store: JobStore, job_id: str, as_of: float | None) -> Replay:
    """Fold ``job_id``'s events recorded at or before ``as_of`` (all events for None).

    Raises:
        JobNotFoundError: the job has no events (yet, at ``as_of``).
    """
    everything = store.read_stream(job_id)
    events = [r for r in everything if as_of is None or r.recorded_at <= as_of]
    record = fold_job([r.event for r in events])
    if record is None:
        when = "" if as_of is None else f" at {_iso(as_of)}"
        first = f" (its first event was recorded {_iso(everything[0].recorded_at)})" if everything else ""
        msg = f"job {job_id} had no recorded events{when}{first}"
        raise JobNotFoundError(job_id, message=msg)
    downstream_ids = sorted({edge.job_id for edge in store.dependents(job_id)})
    downstream = [e for other in downstream_ids for e in _edges(store, other, as_of, upstream_of=job_id)]
    return Replay(
        job_id=job_id,
        as_of=as_of,
        events=events,
        total_events=len(everything),
        record=record,
        family=_family_until(store, record.root_job_id, as_of),
        upstream=_edges(store, job_id, as_of, upstream_of=None),
        downstream=downstream,
    )


def replay_json(replay: Replay) -> dict[str, Any]:
    """The replay as plain JSON-ready data."""
    return {
        "job_id": replay.job_id,
        "as_of": replay.as_of,
        "events_shown": len(replay.events),
        "events_total": replay.total_events,
        "events": [
            {
                "seq": r.seq,
                "version": r.version,
                "recorded_at": r.recorded_at,
                "type": event_tag(r.event),
                "event": event_data(r.event),
            }
            for r in replay.events
        ],
        "record": msgspec.to_builtins(replay.record),
        "family": [{"job_id": r.job_id, "attempt": r.attempt, "state": r.state.value} for r in replay.family],
        "dependencies": [msgspec.to_builtins(attrs.asdict(e)) for e in replay.upstream],
        "dependents": [msgspec.to_builtins(attrs.asdict(e)) for e in replay.downstream],
    }
