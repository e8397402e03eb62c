"""Local accounting: the ``rusage`` fact file a finished local job leaves in its directory.

Rules of this module:
  Rule 1: the runner writes ``rusage utime=<s> stime=<s> maxrss_kib=<n>`` from
          ``wait4`` (the job's process tree: every descendant the job waited for);
          the sh wrapper has no ``wait4`` and writes what the ``times`` builtin prints,
          whose second line is its children's user and system time (no memory).
  Rule 2: the elapsed time is the record's own (pid file to status file); the request is
          the spec's, so the shell passes both in.
  Rule 3: one probe reads every job's file: ``molq-usage<TAB>index<TAB>contents``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .._usage import JobUsage


RUSAGE_FILE: Final = "rusage"

USAGE_PROBE_SCRIPT: Final = r"""
i=0
for d in "$@"; do
  i=$((i+1))
  u=-; [ -f "$d/rusage" ] && u=$(tr '\t\n' '  ' < "$d/rusage")
  printf 'molq-usage\t%s\t%s\n' "$i" "$u"
done
"""

_RUNNER: Final = re.compile(r"rusage utime=(\d+(?:\.\d+)?) stime=(\d+(?:\.\d+)?) maxrss_kib=(\d+)")
_TIMES: Final = re.compile(r"(\d+)m(\d+(?:\.\d+)?)s")
_INDEX: Final = re.compile(r"[0-9]+")


def render_rusage(utime: float, stime: float, maxrss_kib: int) -> str:
    """The runner's ``rusage`` file text (``parse_rusage`` reads it back)."""
    return f"rusage utime={utime:.6f} stime={stime:.6f} maxrss_kib={maxrss_kib}\n"


def parse_rusage(text: str) -> tuple[float | None, int | None]:
    """``(cpu seconds, peak RSS bytes)`` from a ``rusage`` file's text; None where unknown."""
    runner = _RUNNER.search(text)
    if runner is not None:
        utime, stime, rss = runner.groups()
        return float(utime) + float(stime), int(rss) * 1024
    times = _TIMES.findall(text)
    if len(times) == 4:  # shell user, shell sys, children user, children sys
        return sum(int(m) * 60 + float(s) for m, s in times), None
    return None, None


def parse_usage_probe(stdout: str, job_dirs: Sequence[str]) -> dict[str, str]:
    """``{job dir: rusage text}`` from ``USAGE_PROBE_SCRIPT``'s output; "" for a missing file."""
    found: dict[str, str] = {}
    for line in stdout.splitlines():
        fields = line.split("\t", 2)
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses
        if len(fields) != 3 or fields[0] != "molq-usage" or not _INDEX.fullmatch(fields[1]):
            continue
        index = int(fields[1])
        if 1 <= index <= len(job_dirs):
            found[job_dirs[index - 1]] = "" if fields[2] == "-" else fields[2]
    return found


def local_usage(
    text: str, *, elapsed_seconds: float | None, requested_memory_bytes: int | None, cpus: int | None
) -> JobUsage:
    """A local job's usage from its ``rusage`` text and the facts molq already has."""
    cpu, rss = parse_rusage(text)
    note = "" if cpu is not None else "the job left no readable rusage file"
    return JobUsage(
        source="rusage",
        elapsed_seconds=elapsed_seconds,
        cpu_seconds=cpu,
        max_rss_bytes=rss,
        requested_memory_bytes=requested_memory_bytes,
        cpus=cpus,
        nodes="localhost",
        note=note,
    )
