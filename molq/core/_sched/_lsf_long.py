"""LSF long output: ``bjobs -l -UF`` and ``bhist -l`` records (OpenLava, old Platform LSF).

OpenLava 4.0 has neither ``bjobs -o`` nor ``-json``; the long form is the only
place its exit codes appear (``Exited with exit code 3.``, ``Done successfully.``).
See docs/adr/0020-lsf-dialect-detection.md.

Rules of this module:
  Rule 1: pure; arbitrary text only ever raises SchedulerOutputError.
  Rule 2: a terminal state only from DONE/EXIT or a final event line
    (``Done successfully``, ``Exited``); unknown status words stay SUBMITTED.
  Rule 3: a pending job whose dependency LSF calls "invalid or never satisfied"
    is CANCELLED with that reason (it can never run; the adapter kills it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

import attrs

from .._errors import SchedulerOutputError
from .._records import Observation, QueueEntry
from .._state import JobState
from ._lsf_parse import LSF_STATE_MAP, merge_elements


NEVER_SATISFIED: Final = "Dependency condition invalid or never satisfied"
BKILL_EXITS: Final = frozenset({130, 137, 143})
"""128 + SIGINT, SIGKILL, SIGTERM: bkill sends them in turn; 130 is what OpenLava shows."""
RUNLIMIT_EXIT: Final = 140
"""128 + SIGUSR2: what a run-limit kill leaves."""

_HEADER: Final = re.compile(
    r"^Job (?:Id )?<(?P<id>\d+)(?:\[(?P<index>\d+)\])?>(?:, Job Name <(?P<name>.*?)>)?, "
    r"User <(?P<user>[^>]*)>,(?P<rest>.*)$"
)
_STATUS: Final = re.compile(r"Status <([A-Za-z]+)>")
_QUEUE: Final = re.compile(r"Queue <([^>]*)>")
_OUTPUT: Final = re.compile(r"Output File <([^>]*)>")
_EVENT: Final = re.compile(r"^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d: (?P<text>.*)$")
_EXIT_CODE: Final = re.compile(r"^Exited with exit code (\d{1,9})\b")
_SIGNAL: Final = re.compile(r"^Signal <[^>]*> requested by user or administrator")
_STARTED: Final = re.compile(r"^(?:\[\d+\] )?(?:[Ss]tarted on|Starting|Running with|Dispatched to)")
_NOT_JOB: Final = re.compile(
    r"^(?:-+|Job <\d+(?:\[\d+\])?> is not found|No (?:unfinished |matching )?jobs? found.*"
    r"|Summary of time.*)$"
)
_WRAP: Final = " " * 21
"""bhist -l wraps at 80 columns; a continuation line starts with 21 spaces."""


@attrs.frozen
class LongRecord:
    """One job (or one array element) in ``bjobs -l`` or ``bhist -l`` output."""

    job_id: str
    index: int
    name: str
    user: str
    stat: str | None
    queue: str | None
    output_file: str | None = None
    started: bool = False
    done: bool = False
    exited: bool = False
    exit_code: int | None = None
    kill_requested: bool = False
    run_limit: bool = False
    pending_reasons: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``id`` or ``id[index]``, as bjobs names the element."""
        return f"{self.job_id}[{self.index}]" if self.index else self.job_id


def unwrap(text: str) -> list[str]:
    """Lines of ``bhist -l`` with its 80-column continuation lines joined back."""
    lines: list[str] = []
    for line in text.split("\n"):
        if line.startswith(_WRAP) and lines and line.strip():
            lines[-1] += line[len(_WRAP) :]
        else:
            lines.append(line)
    return lines


def _blocks(lines: list[str]) -> Iterator[tuple[re.Match[str], list[str]]]:
    header: re.Match[str] | None = None
    body: list[str] = []
    for line in lines:
        match = _HEADER.match(line)
        if match is not None:
            if header is not None:
                yield header, body
            header, body = match, []
        elif header is not None:
            body.append(line)
        elif line.strip() and not line.startswith("#") and not _NOT_JOB.match(line.strip()):
            msg = f"unexpected line in LSF long output: {line[:120]!r}"
            raise SchedulerOutputError(msg)
    if header is not None:
        yield header, body


def _pending_reasons(body: list[str]) -> tuple[str, ...]:
    reasons: list[str] = []
    inside = False
    for line in body:
        text = line.strip()
        if text == "PENDING REASONS:":
            inside = True
        elif inside and text:
            reasons.append(re.sub(r":\s*\d+ hosts?;?$", "", text).rstrip(";"))
        elif inside:
            break
    return tuple(reasons)


def _record(header: re.Match[str], body: list[str]) -> LongRecord:
    rest = header.group("rest")
    status, queue = _STATUS.search(rest), _QUEUE.search(rest)
    facts: dict[str, bool | int | str | None] = {}
    for line in body:
        event = _EVENT.match(line)
        text = event.group("text") if event else ""
        if (found := _OUTPUT.search(text)) and "output_file" not in facts:
            facts["output_file"] = found.group(1)
        if code := _EXIT_CODE.match(text):
            facts |= {"exited": True, "exit_code": int(code.group(1)), "started": True}
        elif text.startswith("Exited"):
            facts["exited"] = True
        elif text.startswith("Done successfully"):
            facts |= {"done": True, "started": True}
        elif _SIGNAL.match(text):
            facts["kill_requested"] = True
        elif _STARTED.match(text):
            facts["started"] = True
        elif line.strip() == "RUNLIMIT":
            facts["run_limit"] = True
    return LongRecord(
        job_id=header.group("id"),
        index=int(header.group("index") or 0),
        name=header.group("name") or "",
        user=header.group("user"),
        stat=status.group(1) if status else None,
        queue=queue.group(1) if queue else None,
        pending_reasons=_pending_reasons(body),
        **facts,  # type: ignore[arg-type]
    )


def parse_long(text: str) -> list[LongRecord]:
    """Records of ``bjobs -l -UF`` or ``bhist -l`` output, one per job or array element.

    Raises:
        SchedulerOutputError: a line outside any record is not a separator or a
            "not found" message.
    """
    return [_record(header, body) for header, body in _blocks(unwrap(text))]


def _exited(record: LongRecord) -> Observation:
    code, raw = record.exit_code, "EXIT"
    if record.kill_requested:
        return Observation(JobState.CANCELLED, raw, code, reason="killed by bkill (user or administrator)")
    if code is None and not record.started:
        return Observation(JobState.CANCELLED, raw, reason="killed while pending")
    if code == RUNLIMIT_EXIT and record.run_limit:
        return Observation(JobState.TIMED_OUT, raw, code, reason="run limit reached (exit 140)")
    return Observation(JobState.FAILED, raw, code, reason=None if code is not None else "exited, no exit code")


def observation_from_long(record: LongRecord) -> Observation:
    """What one long record says (bjobs status word first, then bhist's event lines)."""
    if record.done or record.stat == "DONE":
        return Observation(JobState.SUCCEEDED, "DONE", 0)
    if record.exited or record.stat == "EXIT":
        return _exited(record)
    if record.stat is None:  # bhist: no status word, only events
        active = JobState.RUNNING if record.started else JobState.QUEUED
        return Observation(active, "bhist")
    if record.stat == "PEND" and any(r.startswith(NEVER_SATISFIED) for r in record.pending_reasons):
        return Observation(JobState.CANCELLED, "PEND", reason=f"dependency never satisfied ({NEVER_SATISFIED})")
    state = LSF_STATE_MAP.get(record.stat)
    if state is None:
        return Observation(JobState.SUBMITTED, record.stat, reason=f"LSF reports {record.stat}: status not known")
    reasons = "; ".join(record.pending_reasons) or None
    return Observation(state, record.stat, reason=reasons if state == JobState.QUEUED else None)


def needs_history(record: LongRecord) -> bool:
    """Whether bhist must say how this ended: any EXIT whose cause bjobs does not show.

    A bkill leaves 130 (137, 143), no code, or even another code when it meets a job
    that is just starting; only bhist's ``Signal <KILL> requested`` tells it apart.
    """
    return record.stat == "EXIT" and not record.kill_requested


def after_cancel_request(obs: Observation) -> Observation:
    """A bkill exit (130, 137, 143) of a job molq was asked to cancel is CANCELLED.

    OpenLava's bhist shows no kill request for the elements of an array killed by
    its id, so molq's own ``cancel_requested`` marker in the job dir decides.
    """
    killed = obs.exit_code in BKILL_EXITS or obs.exit_code is None
    if obs.state is JobState.FAILED and killed:
        return attrs.evolve(obs, state=JobState.CANCELLED, reason="killed by bkill (molq cancel request)")
    return obs


def observe_records(records: list[LongRecord]) -> dict[str, Observation]:
    """``{job id: Observation}``; an array's elements fold into one observation."""
    grouped: dict[str, list[Observation]] = {}
    for record in records:
        grouped.setdefault(record.job_id, []).append(observation_from_long(record))
    return {job_id: merge_elements(obs) for job_id, obs in grouped.items()}


def observe_long(text: str) -> dict[str, Observation]:
    """``observe_records`` of the parsed text.

    Raises:
        SchedulerOutputError: the text is not LSF long output.
    """
    return observe_records(parse_long(text))


def never_satisfied_keys(records: list[LongRecord]) -> list[str]:
    """Ids (``id`` or ``id[index]``) of pending jobs whose dependency can never be met."""
    return [
        r.key
        for r in records
        if r.stat == "PEND" and any(p.startswith(NEVER_SATISFIED) for p in r.pending_reasons)
    ]


def never_satisfied(text: str) -> list[str]:
    """``never_satisfied_keys`` of the parsed text.

    Raises:
        SchedulerOutputError: the text is not LSF long output.
    """
    return never_satisfied_keys(parse_long(text))


def long_queue(text: str) -> list[QueueEntry]:
    """Queue entries from ``bjobs -l -UF``; array elements appear as ``id[index]``.

    Raises:
        SchedulerOutputError: the text is not LSF long output.
    """
    entries = []
    for record in parse_long(text):
        obs = observation_from_long(record)
        entries.append(
            QueueEntry(
                scheduler_job_id=record.key,
                name=record.name or None,
                user=record.user or None,
                state=obs.state or JobState.SUBMITTED,
                raw_state=record.stat or "",
                partition=record.queue,
            )
        )
    return entries


def adopt_from_long(text: str, output_file: str) -> str | None:
    """The id of the job whose LSF output file is ``output_file``, if listed.

    Raises:
        SchedulerOutputError: the text is not LSF long output.
    """
    for record in parse_long(text):
        if record.output_file == output_file:
            return record.job_id
    return None
