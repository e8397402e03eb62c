"""Reading local jobs' ``rusage`` files: one probe over the transport for many job dirs."""

from __future__ import annotations

from collections.abc import Mapping

from molq.core import SchedulerError, Transport
from molq.core._sched._local_usage import USAGE_PROBE_SCRIPT, local_usage, parse_usage_probe
from molq.core._usage import JobUsage


USAGE_CHUNK = 400  # job dirs per probe: keeps argv far below ARG_MAX


def local_usage_many(transport: Transport, job_dirs: Mapping[str, str]) -> dict[str, JobUsage]:
    """``{scheduler id: usage}`` from each job dir's ``rusage`` file (CPU and peak RSS only).

    Raises:
        SchedulerError: the probe could not run.
    """
    known = [(sid, d) for sid, d in job_dirs.items() if d]
    found: dict[str, JobUsage] = {}
    for start in range(0, len(known), USAGE_CHUNK):
        chunk = known[start : start + USAGE_CHUNK]
        paths = [d for _, d in chunk]
        argv = ("sh", "-c", USAGE_PROBE_SCRIPT, "molq-usage", *paths)
        done = transport.run(argv, timeout=120)
        if not done.ok:
            msg = f"job usage probe failed: {done.stderr.strip()}"
            raise SchedulerError(msg, argv=argv, returncode=done.returncode, stderr=done.stderr)
        texts = parse_usage_probe(done.stdout, paths)
        for sid, d in chunk:
            if d in texts:
                found[sid] = local_usage(
                    texts[d], elapsed_seconds=None, requested_memory_bytes=None, cpus=None
                )
    return found
