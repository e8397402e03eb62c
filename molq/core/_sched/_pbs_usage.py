"""PBS accounting: ``resources_used.*`` of finished jobs, from ``qstat -x -f`` attributes.

Rules of this module:
  Rule 1: the attributes come from the history query the status poll already uses
          (``parse_listing`` of ``qstat -x -f [-F json]``); this module only reads them.
  Rule 2: OpenPBS writes ``resources_used.cput``/``walltime`` as ``HH:MM:SS`` and
          ``mem``/``vmem`` as ``<n>kb``; anything else becomes None.
  Rule 3: ``resources_used.mem = 0kb`` means the MoM never sampled the job (the OpenPBS
          here reports that for every job): it becomes None with a note, not 0.
  Rule 4: Slurm's Torque-style ``qstat`` shows no ``resources_used`` at all: such a job
          gets a usage with only the CPU count and a note saying so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from .._usage import JobUsage, parse_clock, parse_count, parse_size
from ._pbs_dialect import match_keys


NO_RESOURCES_USED: Final = "qstat shows no resources_used for this job (Torque wrappers keep none)"
NO_MEMORY_SAMPLE: Final = "resources_used.mem is 0kb: the MoM took no memory sample of the job"


def pbs_usage(attrs: Mapping[str, str]) -> JobUsage:
    """One job's usage from its ``qstat -f`` attributes."""
    used = {k: v for k, v in attrs.items() if k.startswith("resources_used.")}
    rss = parse_size(attrs.get("resources_used.mem", ""))
    note = NO_RESOURCES_USED if not used else NO_MEMORY_SAMPLE if rss == 0 else ""
    cpus = parse_count(attrs.get("resources_used.ncpus", "")) or parse_count(
        attrs.get("Resource_List.ncpus", "")
    )
    return JobUsage(
        source="qstat",
        elapsed_seconds=parse_clock(attrs.get("resources_used.walltime", "")),
        cpu_seconds=parse_clock(attrs.get("resources_used.cput", "")),
        max_rss_bytes=rss or None,  # a process always has some RSS: 0 means "never sampled"
        max_vmem_bytes=parse_size(attrs.get("resources_used.vmem", "")),
        requested_memory_bytes=parse_size(attrs.get("Resource_List.mem", "")),
        cpus=cpus,
        nodes=attrs.get("exec_host", "").strip() or None,
        raw_state=attrs.get("job_state", "").strip(),
        raw_exit=attrs.get("Exit_status", "").strip(),
        note=note,
    )


def pbs_usage_many(jobs: Mapping[str, Mapping[str, str]], wanted: Sequence[str]) -> dict[str, JobUsage]:
    """The usage of each wanted id qstat reported (``12`` matches ``12.server``)."""
    return {job_id: pbs_usage(jobs[key]) for job_id, key in match_keys(wanted, jobs).items()}
