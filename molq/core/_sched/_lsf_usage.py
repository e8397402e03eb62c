"""LSF accounting: CPU time, memory and run time of finished jobs from ``bjobs -a -l -UF``.

Rules of this module:
  Rule 1: one ``bjobs -a -l -UF`` call covers every job; finished jobs stay listed for
          CLEAN_PERIOD, then one ``bhist -l`` covers those bjobs forgot (OpenLava 4.0 has
          no ``bacct``).
  Rule 2: the run time is bhist's RUN seconds where the text has its summary, else the
          span between the "Started on"/"Starting" and the final "Done successfully"/
          "Exited" event lines (their timestamps carry no year: a span over New Year is
          mended by parsing the end in the next year).
  Rule 3: memory: IBM LSF prints ``MAX MEM:`` for a finished job; OpenLava shows only the
          last ``MEM:`` sample while the job runs, and nothing after it ends, so a
          finished OpenLava job usually has no peak memory (None).
  Rule 4: the requested memory is the ``MEMLIMIT`` column (``-M``, KiB unless a unit follows).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from .._usage import JobUsage, parse_size
from ._lsf_long import _HEADER, _STATUS, unwrap
from ._poll_scope import fits


_STAMP: Final = re.compile(
    r"^(?:[A-Z][a-z]{2} )?(?P<stamp>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d)(?: \d{4})?: (?P<text>.*)$"
)
_CPU: Final = re.compile(r"The CPU time used is (\d+(?:\.\d+)?) seconds")
_MAX_MEM: Final = re.compile(r"MAX MEM: (\d+(?:\.\d+)?) ?([KMGT]?)bytes", re.IGNORECASE)
_MEM: Final = re.compile(r"(?<!MAX )(?<!AVG )\bMEM: (\d+(?:\.\d+)?) ?([KMGT]?)bytes", re.IGNORECASE)
_LIMIT_VALUE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\b")
_PROCESSORS: Final = re.compile(r"(\d+) (?:Processors|Task\(s\)) Requested")
_HOST: Final = re.compile(r"[Ss]tarted (?:\d+ Task\(s\) )?on (?:\d+ Hosts/Processors )?<([^>]*)>")
_STARTED: Final = re.compile(r"^(?:\[\d+\] )?(?:[Ss]tarted|Starting)")
_SUMMARY: Final = re.compile(r"^\s*PEND\s+PSUSP\s+RUN\b")
_LEAP_YEAR: Final = 2000  # timestamps lack a year; a leap year accepts Feb 29


def bjobs_usage_argv(scheduler_job_ids: Sequence[str]) -> tuple[str, ...]:
    """The one ``bjobs`` call that reports the usage of every job in ``scheduler_job_ids``.

    Past what one command line holds, it lists all the user's jobs (ADR 0031).
    """
    return ("bjobs", "-a", "-l", "-UF", *(scheduler_job_ids if fits(scheduler_job_ids) else ()))


def parse_bjobs_usage(stdout: str, wanted: Sequence[str]) -> dict[str, JobUsage]:
    """Each wanted job's usage from ``bjobs -a -l -UF`` (or ``bhist -l``) text; absent jobs left out."""
    wanted_set = set(wanted)
    found: dict[str, JobUsage] = {}
    header: re.Match[str] | None = None
    body: list[str] = []
    for line in [*unwrap(stdout), "Job <0>, User <>,"]:
        match = _HEADER.match(line)
        if match is None:
            body.append(line)
            continue
        if header is not None and header.group("id") in wanted_set and not header.group("index"):
            found[header.group("id")] = lsf_usage(header.group("rest"), body)
        header, body = match, []
    return found


def lsf_usage(rest: str, body: Sequence[str]) -> JobUsage:
    """One job's usage from its header's tail and the lines under it."""
    text = "\n".join(body)
    cpu = _CPU.findall(text)
    samples = list(_MEM.finditer(text))
    peak = _MAX_MEM.search(text) or (samples[-1] if samples else None)
    processors = _PROCESSORS.search(text)
    host = _HOST.search(text)
    status = _STATUS.search(rest)
    return JobUsage(
        source="bjobs",
        elapsed_seconds=_summary_run(body) or _run_time(body),
        cpu_seconds=float(cpu[-1]) if cpu else None,
        max_rss_bytes=parse_size(peak.group(1) + peak.group(2), default_unit="M") if peak else None,
        requested_memory_bytes=_mem_limit(body),
        cpus=int(processors.group(1)) if processors else 1,
        nodes=host.group(1) if host else None,
        raw_state=status.group(1) if status else "",
    )


def _run_time(body: Sequence[str]) -> float | None:
    started: datetime | None = None
    ended: str | None = None
    for line in body:
        match = _STAMP.match(line)
        if match is None:
            continue
        text = match.group("text")
        if started is None and _STARTED.match(text):
            started = _stamp(match.group("stamp"), _LEAP_YEAR)
        elif text.startswith(("Done successfully", "Exited")):
            ended = match.group("stamp")
    end = _stamp(ended, _LEAP_YEAR) if ended is not None else None
    if started is None or end is None:
        return None  # never started, or a stamp that is no date
    if end < started:  # the job ran over New Year: the end is in the next year
        end = _stamp(ended, _LEAP_YEAR + 1)  # type: ignore[arg-type]  # not None: parsed above
    return None if end is None else (end - started).total_seconds()


def _summary_run(body: Sequence[str]) -> float | None:
    """The RUN column of bhist's "Summary of time in seconds spent in various states"."""
    for index, line in enumerate(body[:-1]):
        if _SUMMARY.match(line):
            cells = body[index + 1].split()
            return float(cells[2]) if len(cells) > 2 and cells[2].isdigit() else None
    return None


def _stamp(text: str, year: int) -> datetime | None:
    try:
        return datetime.strptime(f"{year} {text}", "%Y %b %d %H:%M:%S")
    except ValueError:
        return None


def _mem_limit(body: Sequence[str]) -> int | None:
    for index, line in enumerate(body[:-1]):
        column = line.find("MEMLIMIT")
        if column < 0 or not line.strip().isupper():
            continue
        value = _LIMIT_VALUE.match(body[index + 1][column:])
        if value is not None:
            return parse_size(value.group(1) + value.group(2), default_unit="K")
    return None
