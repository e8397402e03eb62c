"""Submitting one job: validate the request, compile its dependencies, record and submit it.

The body of ``Submitor.submit_job``; it takes the Submitor's parts (``SubmitorParts``), not
the class, so the verb's steps read top to bottom here and Submitor stays the composition root.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

import attrs

from molq.api._handle import JobDryRun, JobHandle
from molq.api._submit_spec import build_spec
from molq.core import (
    ConfigError,
    DependencyError,
    JobRecord,
    JobSpec,
    RetryPolicy,
    check_capabilities,
    compile_dependencies,
    merge_dependency_refs,
)
from molq.core._deps import CompiledEdge
from molq.core._events import JobCreated
from molq.shell._job_dirs import claim_named_job_dir
from molq.shell._script_directives import directive_header, warn_dropped_directives, with_script_directives
from molq.shell._submission import create_and_submit


if TYPE_CHECKING:
    from molq.api._function_call import FunctionCall
    from molq.api._parts import SubmitorParts
    from molq.api._submit_spec import SubmitRequest

_DIALECTS = {"slurm": "slurm", "pbs": "pbs", "lsf": "lsf"}


def submit_one(
    parts: SubmitorParts,
    request: SubmitRequest,
    *,
    retry: RetryPolicy | None,
    dependencies: dict[str, list[str] | None],
    dry_run: bool,
    function: FunctionCall | None = None,
) -> JobHandle | JobDryRun:
    """``submit_job``'s work; ``dependencies`` maps after_started/after/after_failure/after_success to job ids.

    ``function`` makes it a Python function job (``_functions``): its argv and payload.
    """
    job_dir_name = request.job_dir_name
    job_id = uuid.uuid4().hex
    spec, job_dir = build_spec(
        request,
        parts._defaults,
        job_id=job_id,
        jobs_dir=parts._jobs_dir,
        local=parts.target.is_local_transport,
        remote=parts.target.remote_location(),
    )
    if function is not None:
        spec = function.bind(spec, job_dir)
    _check_remote_cwd(parts, spec.cwd)
    spec = with_script_directives(spec, parts.target.transport, parts.target.scheduler)
    refs = merge_dependency_refs(spec.scheduling, **dependencies)
    check_capabilities(
        attrs.evolve(spec, scheduling=dataclasses.replace(spec.scheduling, dependencies=refs)),
        parts.target.scheduler_impl.capabilities(),
        parts.target.scheduler,
    )
    warn_dropped_directives(spec, parts.target.scheduler, stacklevel=3)  # the caller of submit_job
    spec, edges = _compile_dependencies(parts, spec, refs, job_id)
    scheduler = parts.target.scheduler_impl
    submission = scheduler.prepare(spec, job_dir)
    if dry_run:
        return JobDryRun(
            command=submission.display, details=_dry_run_details(spec, job_dir, submission, parts)
        )
    if isinstance(job_dir_name, str):  # a name chosen by the caller (build_spec checked it) may be taken
        claim_named_job_dir(parts.target.transport, job_dir, job_dir_name)
    if function is not None:
        function.write(parts.target.transport, job_dir)
    created = JobCreated(
        job_id=job_id,
        at=parts._clock(),
        cluster_name=parts.cluster_name,
        scheduler=parts.target.scheduler,
        root_job_id=job_id,
        profile_name=parts._profile_name,
        spec=spec,
        retry=retry or parts._default_retry or RetryPolicy(),
        job_dir=job_dir,
    )
    record = create_and_submit(
        parts.store, scheduler, created, edges, clock=parts._clock, command=submission.display
    )
    parts.reconciler.remember_retry_policy(job_id, created.retry)
    _announce_new(parts, record)
    return JobHandle(
        job_id,
        parts.cluster_name,
        parts.target.scheduler,
        record.scheduler_job_id,
        submitor=parts,
        state=record.state,
    )


def _check_remote_cwd(parts: SubmitorParts, cwd: str) -> None:
    """Refuse a remote working directory that does not exist (one round trip, only when one is given)."""
    remote = parts.target.remote_location()
    if remote is None or cwd in (".", remote.cwd):  # local, or the login dir (which exists)
        return
    if not parts.target.transport.exists(cwd):
        msg = f"working directory {cwd!r} does not exist on {parts.cluster_name}; molq does not create it"
        raise ConfigError(msg)


def _compile_dependencies(
    parts: SubmitorParts, spec: JobSpec, refs: tuple[Any, ...], job_id: str
) -> tuple[JobSpec, tuple[CompiledEdge, ...]]:
    if not refs:
        return spec, ()
    scheduler_ids: dict[str, str] = {}
    for ref in refs:
        upstream = parts.store.get_record(ref.job_id)
        if upstream is None or upstream.cluster_name != parts.cluster_name:
            msg = f"dependency {ref.job_id!r} is not a job of cluster {parts.cluster_name!r}"
            raise DependencyError(msg)
        latest = parts.store.latest_attempt(upstream.root_job_id) or upstream
        if latest.scheduler_job_id:
            scheduler_ids[ref.job_id] = latest.scheduler_job_id
    dialect = _DIALECTS[parts.target.scheduler]
    expression, edges = compile_dependencies(refs, scheduler_ids, dialect, job_id=job_id)  # type: ignore[arg-type]
    scheduling = dataclasses.replace(spec.scheduling, dependency=expression, dependencies=())
    return attrs.evolve(spec, scheduling=scheduling), edges


def _announce_new(parts: SubmitorParts, record: JobRecord) -> None:
    if not getattr(parts.event_bus, "has_handlers", True):
        return  # nobody listens: spare reading the transitions back
    for transition in parts.store.transitions(record.job_id):
        parts.event_bus.emit_transition(transition, record)


def _dry_run_details(spec: JobSpec, job_dir: str, submission: Any, submitor: SubmitorParts) -> dict[str, str]:
    details = {
        "scheduler": submitor.target.scheduler,
        "cluster": submitor.cluster_name,
        "cwd": spec.cwd,
        "job_dir": job_dir,
        "script_path": submission.script_path,
        "script": submission.script,
        "stdout": spec.metadata.get("molq.stdout_path", ""),
        "stderr": spec.metadata.get("molq.stderr_path", ""),
    }
    if spec.scheduling.partition:
        details["partition"] = spec.scheduling.partition
    if spec.scheduling.dependency:
        details["dependency"] = spec.scheduling.dependency
    header = directive_header(submission.script, submitor.target.scheduler)
    if header is not None:  # molq's directives, then the script's own, then extra_flags
        details["directives"] = header
    return details
