"""PBS parsers: ``qstat -f`` text (both dialects), ``qstat -f -F json``, errors, queues.

Rules of this module:
  Rule 1: arbitrary text only ever raises SchedulerOutputError.
  Rule 2: every parser returns ``{job id: {attribute: value}}`` with nested JSON
    attributes flattened to ``Resource_List.walltime``; judging them is ``_pbs_outcome``'s job.
  Rule 3: what each dialect prints is pinned by captures in ``tests/fixtures/pbs``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Final

from .._errors import SchedulerOutputError
from .._records import Observation, QueueEntry
from .._state import JobState
from ._pbs_outcome import (
    PBS_FINISHED,
    PBS_STATE_MAP,
    PRO_WALLTIME_EXIT,
    SUBSTATE_TERMINATED,
    TORQUE_WALLTIME_EXIT,
    observation_from_attrs,
    observations,
)


__all__ = [
    "PBS_FINISHED",
    "PBS_STATE_MAP",
    "PRO_WALLTIME_EXIT",
    "SUBSTATE_TERMINATED",
    "TORQUE_WALLTIME_EXIT",
    "JobAttrs",
    "match_ids",
    "observation_from_attrs",
    "parse_qstat_errors",
    "parse_qstat_full",
    "parse_qstat_json",
    "parse_queue",
    "parse_status",
    "qdel_outcome",
    "queue_entries",
    "sequence_key",
]

JobAttrs = dict[str, dict[str, str]]

_JOB_ID: Final = re.compile(r"^Job Id:\s*(\S+)\s*$")
_ATTR: Final = re.compile(r"^([A-Za-z_][\w.]*) = ?(.*)$")
_UNKNOWN: Final = re.compile(r"Unknown Job Id(?: Error)?\s+(\S+)")
_FINISHED: Final = re.compile(r"^\S+:\s+(\S+)\s+Job has finished")


def parse_qstat_full(text: str) -> JobAttrs:
    """Split ``qstat -f`` text into ``{job id: {attribute: value}}``.

    The first attribute line of a job sets its indent: four spaces (OpenPBS, PBS Pro,
    Torque), where a line starting with a TAB continues the previous value and is
    joined without a space (PBS wraps at a fixed width, mid-word); or one TAB (Slurm's
    Torque wrappers), which never wrap.

    Raises:
        SchedulerOutputError: a line is neither a ``Job Id:`` header, an attribute
            nor a continuation.
    """
    jobs: JobAttrs = {}
    current: dict[str, str] | None = None
    last, indent = "", ""
    for line in text.split("\n"):
        if not line.strip():
            continue
        header = _JOB_ID.match(line)
        if header:
            current, last, indent = jobs.setdefault(header.group(1), {}), "", ""
            continue
        if current is not None and not indent:
            indent = line[: len(line) - len(line.lstrip())]
        attr = _attribute(line, indent) if current is not None else None
        if current is not None and attr is not None:
            last = attr[0]
            current[last] = attr[1]
        elif current is not None and last and indent != "\t" and line.startswith("\t"):
            current[last] += line[1:]
        else:
            msg = f"unexpected line in qstat -f output: {line[:120]!r}"
            raise SchedulerOutputError(msg)
    return {job: {k: v.strip() for k, v in attrs.items()} for job, attrs in jobs.items()}


def _attribute(line: str, indent: str) -> tuple[str, str] | None:
    if not indent or not line.startswith(indent) or line[len(indent) : len(indent) + 1].isspace():
        return None
    match = _ATTR.match(line[len(indent) :])
    return (match.group(1), match.group(2)) if match else None


def parse_qstat_json(text: str) -> JobAttrs:
    """``{job id: {attribute: value}}`` from ``qstat -f -F json`` (OpenPBS, PBS Pro >= 13).

    A document without ``Jobs`` (no job matched) gives ``{}``.

    Raises:
        SchedulerOutputError: the text is not a qstat JSON document.
    """
    try:
        doc: object = json.loads(text, strict=False)
    except ValueError as exc:
        msg = f"qstat -F json printed no JSON document: {exc} in {text[:120]!r}"
        raise SchedulerOutputError(msg) from None
    jobs = doc.get("Jobs", {}) if isinstance(doc, dict) else None
    if not isinstance(jobs, dict):
        msg = f"qstat -F json printed no Jobs object: {text[:120]!r}"
        raise SchedulerOutputError(msg)
    result: JobAttrs = {}
    for job_id, attrs in jobs.items():
        if not isinstance(attrs, dict):
            msg = f"qstat -F json: job {str(job_id)[:40]!r} is not an object"
            raise SchedulerOutputError(msg)
        result[str(job_id)] = _flatten(attrs, "")
    return result


def _flatten(attrs: dict[object, object], prefix: str) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in attrs.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= _flatten(value, f"{name}.")
        elif isinstance(value, list):
            flat[name] = ",".join(str(item) for item in value)
        else:
            flat[name] = "" if value is None else str(value)
    return flat


def parse_status(text: str) -> dict[str, Observation]:
    """``{job id: Observation}`` for every job in ``qstat -f`` / ``qstat -x -f`` text.

    Raises:
        SchedulerOutputError: the text is not qstat -f output.
    """
    return observations(parse_qstat_full(text))


def parse_qstat_errors(
    stderr: str,
) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """Sort qstat stderr lines: unknown ids, finished ids (Pro, no -x), others."""
    unknown: set[str] = set()
    finished: set[str] = set()
    other: list[str] = []
    for line in stderr.split("\n"):
        if not line.strip():
            continue
        if match := _UNKNOWN.search(line):
            unknown.add(match.group(1))
        elif match := _FINISHED.match(line):
            finished.add(match.group(1))
        else:
            other.append(line.strip())
    return frozenset(unknown), frozenset(finished), tuple(other)


def sequence_key(job_id: str) -> str:
    """The part of a PBS id before the server name (``12[].srv`` -> ``12[]``)."""
    return job_id.split(".", 1)[0]


def match_ids(
    requested: Sequence[str], found: Mapping[str, Observation]
) -> dict[str, Observation]:
    """Key observations by the ids molq asked for, matching ``12`` to ``12.server``."""
    by_seq = {sequence_key(job_id): obs for job_id, obs in found.items()}
    result: dict[str, Observation] = {}
    for job_id in requested:
        obs = found.get(job_id) or by_seq.get(sequence_key(job_id))
        if obs is not None:
            result[job_id] = obs
    return result


def queue_entries(jobs: JobAttrs, *, user: str | None = None) -> list[QueueEntry]:
    """Queue entries from parsed qstat attributes, optionally only ``user``'s.

    Another user's job with unreadable attributes is listed as SUBMITTED with its raw
    ``job_state`` rather than failing the whole listing.
    """
    entries = []
    for job_id, attrs in jobs.items():
        owner = attrs.get("Job_Owner", "").split("@", 1)[0] or None
        if user is not None and owner != user:
            continue
        try:
            obs = observation_from_attrs(attrs)
        except SchedulerOutputError as exc:
            obs = Observation(JobState.SUBMITTED, attrs.get("job_state", ""), reason=str(exc))
        entries.append(
            QueueEntry(
                scheduler_job_id=job_id,
                name=attrs.get("Job_Name"),
                user=owner,
                state=obs.state or JobState.SUBMITTED,
                raw_state=obs.raw_state,
                partition=attrs.get("queue"),
            )
        )
    return entries


def parse_queue(text: str, *, user: str | None = None) -> list[QueueEntry]:
    """Queue entries from ``qstat -f`` text, optionally only ``user``'s.

    Raises:
        SchedulerOutputError: the text is not qstat -f output.
    """
    return queue_entries(parse_qstat_full(text), user=user)


def qdel_outcome(returncode: int, stderr: str, stdout: str = "") -> str:
    """Classify qdel's reply: ``deleted``, ``finished``, ``unknown`` or ``error``.

    Slurm's Torque wrapper exits 1 and prints nothing for a job that is already done
    or unknown; anything it prints (``qdel: Kill job error …``) is an error.
    """
    if "Unknown Job Id" in stderr:
        return "unknown"
    if "Job has finished" in stderr or "invalid for state of job" in stderr:
        return "finished"
    if returncode == 0:
        return "deleted"
    return "finished" if not stderr.strip() and not stdout.strip() else "error"
