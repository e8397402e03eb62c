"""Type-checked with ``mypy --strict`` by the test command, never executed.

What a user's editor sees: ``submit_job`` returns a JobHandle, or a JobDryRun with
``dry_run=True``; a handle's ``wait`` returns a JobRecord.
"""

from __future__ import annotations

from typing import assert_type

from molq import (
    Cluster,
    JobDryRun,
    JobHandle,
    JobRecord,
    JobState,
    JobUsage,
    Submitor,
    UsageSummary,
    fetch_usage,
    job_usage,
    summarise_usage,
)


def _typed_use(flag: bool) -> None:
    sub = Submitor(Cluster("laptop", "local"))
    handle = sub.submit_job(argv=["true"])
    assert_type(handle, JobHandle)
    assert_type(handle.wait(timeout=10), JobRecord)
    assert_type(handle.wait().state, JobState)
    assert_type(sub.submit_job(command="true", dry_run=True), JobDryRun)
    assert_type(sub.submit_job(command="true", dry_run=flag), JobHandle | JobDryRun)
    usage = handle.usage()
    assert_type(usage, JobUsage | None)
    assert_type(handle.wait().usage, JobUsage | None)
    assert_type(job_usage(sub, handle.job_id, fetch=False), JobUsage | None)
    assert_type(fetch_usage(sub), int)
    if usage is not None:
        assert_type(usage.cpu_efficiency, float | None)
        assert_type(usage.memory_efficiency, float | None)
    assert_type(summarise_usage([(handle.job_id, usage)]), UsageSummary)


def text_resources_and_paths() -> None:
    """Text for memory and time, a Path for cwd and any mapping for env type-check as they run."""
    from pathlib import Path
    from types import MappingProxyType

    from molq import Duration, JobExecution, JobResources

    resources = JobResources(memory="4G", time_limit="01:00:00", cpu_count=2)
    limit: Duration | None = resources.time_limit
    execution = JobExecution(cwd=Path("/tmp"), env=MappingProxyType({"A": "1"}))
    cwd: str | None = execution.cwd
    del limit, cwd


def _typed_functions(flag: bool) -> None:
    import molq

    sub = Submitor(Cluster("laptop", "local"))
    handle = sub.submit_function(divmod, 7, 2)
    assert_type(handle, JobHandle)
    assert_type(sub.submit_function(divmod, 7, 2, dry_run=True), JobDryRun)
    assert_type(sub.map_functions(divmod, [7], [2]), list[JobHandle])
    assert_type(sub.map_functions(divmod, [7], [2], dry_run=True), list[JobDryRun])
    assert_type(handle.exception(timeout=1.0), BaseException | None)
    for done in molq.as_completed([handle], timeout=5.0):
        assert_type(done, JobHandle)
