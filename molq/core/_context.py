"""Job context: the files a running job writes, read back into events; duration limits.

Rules of this module:
  Rule 1: the job writes files in its job dir (any scheduler, any transport); the
          shell reads them and this module turns what is new into events.
  Rule 2: a half-written file or line is not an error: it is read again next pass.
  Rule 3: nothing here reads the clock: ``now`` is a parameter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final

import attrs
import msgspec

from ._events import JobCheckpointSaved, JobCreated, JobEvent, JobLogged, JobResultSaved
from ._records import JobRecord
from ._state import JobState


LOG_FILE: Final = "molq_log.jsonl"
CHECKPOINT_FILE: Final = "checkpoint.json"
RESULT_FILE: Final = "result.json"
RESUME_CHECKPOINT_FILE: Final = "resume_checkpoint.json"
CANCEL_MARKER: Final = "cancel_requested"
CONTEXT_FILES: Final = (LOG_FILE, CHECKPOINT_FILE, RESULT_FILE)
DURATION_REASON: Final = "duration limit reached"


class LogLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of ``molq_log.jsonl``."""

    message: str
    level: str = "INFO"
    at: float | None = None


class SavedFile(msgspec.Struct, frozen=True, kw_only=True):
    """The content of ``checkpoint.json`` / ``result.json``: a sequence number and data."""

    seq: int
    data: msgspec.Raw
    at: float | None = None


_LOG_DECODER: Final = msgspec.json.Decoder(LogLine)
_SAVED_DECODER: Final = msgspec.json.Decoder(SavedFile)


def log_events(record: JobRecord, new_lines: str, *, now: float) -> tuple[JobEvent, ...]:
    """``job.log`` events for complete lines after the ``record.log_lines`` already recorded."""
    events: list[JobEvent] = []
    lines = new_lines.split("\n")[:-1]  # the last piece is a partial line (or empty)
    for number, text in enumerate(lines, start=record.log_lines + 1):
        try:
            line = _LOG_DECODER.decode(text)
        except (msgspec.DecodeError, msgspec.ValidationError):
            line = LogLine(message=text, level="RAW")
        events.append(
            JobLogged(
                job_id=record.job_id,
                at=now,
                message=line.message,
                level=line.level,
                logged_at=line.at,
                line=number,
            )
        )
    return tuple(events)


def saved_events(record: JobRecord, name: str, text: str, *, now: float) -> tuple[JobEvent, ...]:
    """A ``job.checkpoint_saved`` / ``job.result_saved`` event if the file holds a newer save."""
    try:
        saved = _SAVED_DECODER.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return ()
    data = bytes(saved.data).decode()
    if name == CHECKPOINT_FILE and saved.seq > record.checkpoint_seq:
        return (
            JobCheckpointSaved(job_id=record.job_id, at=now, seq=saved.seq, data=data, saved_at=saved.at),
        )
    if name == RESULT_FILE and saved.seq > record.result_seq:
        return (JobResultSaved(job_id=record.job_id, at=now, seq=saved.seq, data=data, saved_at=saved.at),)
    return ()


def context_events(record: JobRecord, files: Mapping[str, str], *, now: float) -> tuple[JobEvent, ...]:
    """Every new fact in a job's context files (log lines after the recorded ones)."""
    events = log_events(record, files.get(LOG_FILE, ""), now=now)
    for name in (CHECKPOINT_FILE, RESULT_FILE):
        if files.get(name):
            events += saved_events(record, name, files[name], now=now)
    return events


PROBE_BEGIN: Final = "@@molq-context-dir "
PROBE_FILE: Final = "@@molq-context-file "
PROBE_END: Final = "@@molq-context-end@@"
PROBE_CONTENT: Final = "|"
PROBE_TAIL: Final = "x"


def parse_context_probe(text: str) -> dict[str, dict[str, str]]:
    """Split the batched probe's output into job number -> file name -> content.

    The probe prefixes every content line with ``|`` and ends each file with an ``x``
    of its own, so a file's text can never be read as a marker (a job cannot speak
    for another job) and a missing final newline survives. Jobs are numbered
    ``1..n`` in the order the probe was given, not named by their directory.
    Lines are split on newlines only.
    """
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    name: str | None = None
    body: list[str] = []
    for line in text.split("\n"):
        if line.startswith(PROBE_CONTENT):
            if name is not None:
                body.append(line[len(PROBE_CONTENT) :])
        elif line.startswith(PROBE_BEGIN):
            current, name = out.setdefault(line[len(PROBE_BEGIN) :], {}), None
        elif line.startswith(PROBE_FILE) and current is not None:
            name, body = line[len(PROBE_FILE) :], []
        elif line == PROBE_END and name is not None and current is not None:
            content = "\n".join(body)
            if content.endswith(PROBE_TAIL):
                current[name] = content.removesuffix(PROBE_TAIL)
            name = None
    return out


def duration_exceeded(record: JobRecord, *, now: float) -> bool:
    """Whether a running job has run for at least its ``max_duration``."""
    limit = record.max_duration_seconds
    if limit is None or record.state != JobState.RUNNING or record.started_at is None:
        return False
    return now - record.started_at >= limit


def context_env(created: JobCreated) -> dict[str, str]:
    """The ``MOLQ_*`` variables a job reads through ``molq.context()``."""
    env = {
        "MOLQ_JOB_ID": created.job_id,
        "MOLQ_ROOT_JOB_ID": created.root_job_id,
        "MOLQ_ATTEMPT": str(created.attempt),
        "MOLQ_JOB_DIR": created.job_dir or created.spec.metadata.get("molq.job_dir", ""),
    }
    for key, name in (("molq.sweep_id", "MOLQ_SWEEP_ID"), ("molq.sweep_cell", "MOLQ_SWEEP_CELL")):
        if key in created.spec.metadata:
            env[name] = created.spec.metadata[key]
    return env


def with_context_env(created: JobCreated) -> JobCreated:
    """``created`` with the context variables exported by the job body (over any user values)."""
    spec = created.spec
    env = {**(spec.execution.env or {}), **context_env(created)}
    execution = dataclasses.replace(spec.execution, env=env)
    return msgspec.structs.replace(created, spec=attrs.evolve(spec, execution=execution))
