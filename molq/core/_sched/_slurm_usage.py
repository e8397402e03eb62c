"""SLURM accounting: the ``sacct`` call for many jobs' usage, and its parser.

Rules of this module:
  Rule 1: one ``sacct`` call asks about every job (``-j a,b,c``); the reply has a line
          for the job and one per step (``2.batch``, ``2.0``).
  Rule 2: the job line holds Elapsed, TotalCPU (all steps), ReqMem, AllocCPUS, State,
          ExitCode and NodeList; MaxRSS/MaxVMSize exist only on step lines, so the job's
          peak is the largest step's.
  Rule 3: a field that is empty or garbage becomes None (sacct leaves MaxRSS empty when
          no accounting sample was taken, e.g. a job shorter than JobAcctGatherFrequency).
  Rule 4: without accounting storage (sacct fails), ``scontrol show job`` is the fallback:
          slurmctld keeps a finished job for MinJobAge (300 s by default) and knows its run
          time, CPUs, memory request and nodes, but not its CPU time or memory use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

from .._usage import JobUsage, parse_clock, parse_count, parse_size


SACCT_USAGE_FIELDS: Final = (
    "JobID",
    "Elapsed",
    "TotalCPU",
    "MaxRSS",
    "MaxVMSize",
    "ReqMem",
    "AllocCPUS",
    "NNodes",
    "State",
    "ExitCode",
    "NodeList",
)


def sacct_usage_argv(scheduler_job_ids: Sequence[str]) -> tuple[str, ...]:
    """The one ``sacct`` call that reports the usage of every job in ``scheduler_job_ids``."""
    return (
        "sacct",
        "-j",
        ",".join(scheduler_job_ids),
        "--parsable2",
        "--noheader",
        "--format=" + ",".join(SACCT_USAGE_FIELDS),
    )


def parse_sacct_usage(stdout: str, wanted: Sequence[str]) -> dict[str, JobUsage]:
    """Each wanted job's usage from ``sacct_usage_argv``'s output; absent jobs are left out."""
    jobs: dict[str, dict[str, str]] = {}
    peaks: dict[str, tuple[int | None, int | None]] = {}
    width = len(SACCT_USAGE_FIELDS)
    wanted_set = set(wanted)
    for line in stdout.splitlines():
        cells = line.split("|")
        if len(cells) != width:
            continue
        row = dict(zip(SACCT_USAGE_FIELDS, cells, strict=True))
        job_id, _, step = row["JobID"].strip().partition(".")
        if job_id not in wanted_set:
            continue
        if not step:
            jobs[job_id] = row
        rss, vmem = peaks.get(job_id, (None, None))
        peaks[job_id] = (_max(rss, parse_size(row["MaxRSS"])), _max(vmem, parse_size(row["MaxVMSize"])))
    return {job_id: _usage(row, *peaks[job_id]) for job_id, row in jobs.items()}


def _usage(row: dict[str, str], rss: int | None, vmem: int | None) -> JobUsage:
    cpus = parse_count(row["AllocCPUS"])
    return JobUsage(
        source="sacct",
        elapsed_seconds=parse_clock(row["Elapsed"]),
        cpu_seconds=parse_clock(row["TotalCPU"]),
        max_rss_bytes=rss,
        max_vmem_bytes=vmem,
        requested_memory_bytes=parse_req_mem(row["ReqMem"], cpus=cpus, nodes=parse_count(row["NNodes"])),
        cpus=cpus,
        nodes=row["NodeList"].strip() or None,
        raw_state=row["State"].strip(),
        raw_exit=row["ExitCode"].strip(),
    )


def parse_req_mem(text: str, *, cpus: int | None, nodes: int | None) -> int | None:
    """The whole job's requested memory from sacct's ReqMem.

    Slurm 21.08+ prints the job's memory (``200M``); older releases suffix ``n`` (per
    node) or ``c`` (per CPU), which are multiplied out here (None if the count is unknown).
    """
    text = text.strip()
    per = text[-1:].lower()
    if per in ("n", "c"):
        size = parse_size(text[:-1])
        count = nodes if per == "n" else cpus
        return size * count if size is not None and count is not None else None
    return parse_size(text)


SCONTROL_USAGE_ARGV: Final = ("scontrol", "show", "job")
"""Every job slurmctld still holds, in one call (the fallback when sacct fails)."""
SCONTROL_NOTE: Final = "sacct failed (no accounting storage?): scontrol shows no CPU time or memory use"
_KEY_VALUE: Final = re.compile(r"(?:^|\s)([A-Za-z/:]+)=(\S*)")


def parse_scontrol_usage(stdout: str, wanted: Sequence[str]) -> dict[str, JobUsage]:
    """Each wanted job's usage from ``scontrol show job`` records (run time, CPUs, request)."""
    found: dict[str, JobUsage] = {}
    wanted_set = set(wanted)
    for chunk in re.split(r"\n[ \t\r]*\n", stdout):
        head, _, rest = chunk.strip().partition("\n")
        if not head.startswith("JobId="):
            continue
        job_id = head.split(None, 1)[0].removeprefix("JobId=")
        if job_id not in wanted_set:
            continue
        fields: dict[str, str] = {}
        for key, value in _KEY_VALUE.findall(rest):  # the first line holds JobName, which the user chose
            fields.setdefault(key, value)
        found[job_id] = _scontrol_usage(fields)
    return found


def _scontrol_usage(fields: dict[str, str]) -> JobUsage:
    cpus = parse_count(fields.get("NumCPUs", ""))
    nodes = parse_count(fields.get("NumNodes", ""))
    per_node = parse_size(fields.get("MinMemoryNode", ""))
    per_cpu = parse_size(fields.get("MinMemoryCPU", ""))
    requested = None
    if per_node and nodes is not None:
        requested = per_node * nodes
    elif per_cpu and cpus is not None:
        requested = per_cpu * cpus
    node_list = fields.get("NodeList", "")
    return JobUsage(
        source="scontrol",
        elapsed_seconds=parse_clock(fields.get("RunTime", "")),
        requested_memory_bytes=requested,
        cpus=cpus,
        nodes=node_list if node_list not in ("", "(null)") else None,
        raw_state=fields.get("JobState", ""),
        raw_exit=fields.get("ExitCode", ""),
        note=SCONTROL_NOTE,
    )


def _max(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
