"""Reading what running jobs wrote through ``molq.context()``; duration limits; resume checkpoints.

All file access goes through the Transport, so the same code serves every
scheduler, locally and over SSH. One batched ``sh`` call reads every job's files.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from molq.core import (
    ConcurrencyConflict,
    JobRecord,
    JobState,
    MolqError,
    Observation,
    Observe,
    Scheduler,
    Transport,
)
from molq.core._commands import ExpireDuration
from molq.core._context import (
    CANCEL_MARKER,
    CHECKPOINT_FILE,
    CONTEXT_FILES,
    LOG_FILE,
    PROBE_BEGIN,
    PROBE_CONTENT,
    PROBE_END,
    PROBE_FILE,
    PROBE_TAIL,
    RESULT_FILE,
    RESUME_CHECKPOINT_FILE,
    context_events,
    duration_exceeded,
    parse_context_probe,
)
from molq.core._events import JobCheckpointSaved, JobCreated
from molq.shell.store._store import JobStore


if TYPE_CHECKING:
    from molq.shell._pass import ReconcilePass, ReconcileReport


log = logging.getLogger("molq.context")

_FILE = f"{{ cat \"$d/$f\"; printf {PROBE_TAIL}; }} | sed 's/^/{PROBE_CONTENT}/'; printf '\\n{PROBE_END}\\n'"
_LOG = f"{{ tail -n \"+$n\" \"$d/$f\"; printf {PROBE_TAIL}; }} | sed 's/^/{PROBE_CONTENT}/'; printf '\\n{PROBE_END}\\n'"
PROBE_SCRIPT = f"""
LC_ALL=C; export LC_ALL
i=0
while [ "$#" -gt 1 ]; do
  d=$1; n=$2; shift 2; i=$((i+1))
  printf '{PROBE_BEGIN}%s\\n' "$i"
  f={LOG_FILE}
  if [ -f "$d/$f" ]; then printf '{PROBE_FILE}%s\\n' "$f"; {_LOG}; fi
  for f in {CHECKPOINT_FILE} {RESULT_FILE}; do
    if [ -f "$d/$f" ]; then printf '{PROBE_FILE}%s\\n' "$f"; {_FILE}; fi
  done
done
"""


def harvest_context(reconciler: ReconcilePass, polled: Sequence[JobRecord], report: ReconcileReport) -> None:
    """Record new log lines, checkpoints and results of the ``polled`` jobs (one transport call).

    ``polled`` are the records as they were before this pass's poll; each is re-read.
    """
    store = reconciler.store
    missed = _MISSED.setdefault(reconciler, set())
    if missed:  # a failed probe read nothing of these: again now, however they have ended
        seen = {r.job_id for r in polled}
        polled = [*polled, *(r for r in map(store.get_record, sorted(missed - seen)) if r is not None)]
    if getattr(reconciler.transport, "name", "") == "local":
        # Checking files in-process is cheap here; spare the probe (and the re-reads)
        # when no job used the context.
        polled = [r for r in polled if _has_context_files(reconciler.transport, r)]
    fresh = (store.get_record(r.job_id) for r in polled)
    records = [r for r in fresh if r is not None and _may_have_context(r)]
    if not records:
        return
    if getattr(reconciler.transport, "name", "") == "local":
        # Read in-process: one sh per pass would cost a function job (which always
        # saves a result) more than the job itself.
        found = {str(number): _read_here(record) for number, record in enumerate(records, start=1)}
    else:
        argv = ["sh", "-c", PROBE_SCRIPT, "molq-context"]
        for record in records:
            argv += [record.metadata["molq.job_dir"], str(record.log_lines + 1)]
        try:
            done = reconciler.transport.run(argv, timeout=120)
        except MolqError as exc:
            report.errors.append(f"reading job context files failed: {exc}")
            missed.update(r.job_id for r in records)  # a job that ended now is not polled again
            return
        found = parse_context_probe(done.stdout)
    missed.difference_update(r.job_id for r in records)
    for number, record in enumerate(records, start=1):
        files = found.get(str(number))
        if files:
            _append_context(store, record, files, reconciler.clock)


# Per reconciler: jobs whose context a failed probe could not read (an ended job is never
# polled again, so its last result or log lines would otherwise never reach the log).
_MISSED: weakref.WeakKeyDictionary[ReconcilePass, set[str]] = weakref.WeakKeyDictionary()


def _read_here(record: JobRecord) -> dict[str, str]:
    """What the probe reports for one job, read on this machine (log lines after those recorded)."""
    job_dir = Path(record.metadata["molq.job_dir"])
    files: dict[str, str] = {}
    for name in CONTEXT_FILES:
        try:
            text = (job_dir / name).read_bytes().decode("utf-8", "replace")
        except OSError:  # absent (or vanished): as the probe's ``[ -f ]`` says
            continue
        files[name] = "\n".join(text.split("\n")[record.log_lines :]) if name == LOG_FILE else text
    return files


def _has_context_files(transport: Transport, record: JobRecord) -> bool:
    job_dir = record.metadata.get("molq.job_dir")
    if not job_dir:
        return False
    return any(transport.exists(f"{job_dir}/{name}") for name in (LOG_FILE, CHECKPOINT_FILE, RESULT_FILE))


def _may_have_context(record: JobRecord) -> bool:
    """Only jobs that ran (running now, or ended this pass) can have written context files."""
    has_dir = bool(record.metadata.get("molq.job_dir"))
    return has_dir and (record.state is JobState.RUNNING or record.state.is_terminal)


def _append_context(
    store: JobStore, record: JobRecord, files: dict[str, str], clock: Callable[[], float]
) -> None:
    now = clock()
    events = context_events(record, files, now=now)
    if not events:
        return
    try:
        store.append(record.job_id, events, expected_version=record.version, now=now)
    except ConcurrencyConflict:
        log.debug("context of %s recorded by another process; re-read next pass", record.job_id)


def enforce_durations(reconciler: ReconcilePass, report: ReconcileReport) -> None:
    """Cancel running jobs past their ``max_duration`` and record them TIMED_OUT.

    The job's own end wins (ADR 0006): the expiry is decided on facts read after the
    limit was found exceeded, once before the cancel and once after it. A job that
    had already ended keeps its outcome; one that exited 0 while being cancelled is
    SUCCEEDED.
    """
    now = reconciler.clock()
    for record in reconciler.store.list_records(reconciler.cluster_name, include_terminal=False):
        if not duration_exceeded(record, now=now) or record.scheduler_job_id is None:
            continue
        job_dir = record.metadata.get("molq.job_dir")
        try:
            ended = _fresh_end(reconciler, record.scheduler_job_id, job_dir)
            if ended is None:  # still running: end it, then see how it ended
                write_cancel_marker(reconciler.transport, job_dir, now)
                reconciler.scheduler.cancel(record.scheduler_job_id, job_dir=job_dir)
                ended = _fresh_end(reconciler, record.scheduler_job_id, job_dir)
                if ended is not None and ended.state is not JobState.SUCCEEDED:
                    ended = None  # killed by this cancel: the limit is why it ended
        except MolqError as exc:
            report.errors.append(f"duration limit of {record.job_id}: cancel failed: {exc}")
            continue
        reconciler.apply(record, ExpireDuration() if ended is None else Observe(ended), report)


def _fresh_end(reconciler: ReconcilePass, scheduler_job_id: str, job_dir: str | None) -> Observation | None:
    """The job's end as the scheduler reports it now; None while it runs (or is unknown)."""
    dirs = {scheduler_job_id: job_dir} if job_dir else None
    observed = reconciler.scheduler.observe_many([scheduler_job_id], job_dirs=dirs).get(scheduler_job_id)
    if observed is None or observed.state is None or not observed.state.is_terminal:
        return None
    return observed


def write_cancel_marker(transport: Transport, job_dir: str | None, now: float) -> None:
    """Write ``cancel_requested`` into the job dir so ``JobContext.is_cancelled`` turns true."""
    if job_dir:
        transport.write_text(f"{job_dir}/{CANCEL_MARKER}", f"{now:.3f}\n")


def cancel_with_marker(scheduler: Scheduler, transport: Transport, record: JobRecord, now: float) -> None:
    """Mark the job dir, then ask the scheduler to cancel (batch schedulers; local marks itself)."""
    job_dir = record.metadata.get("molq.job_dir")
    assert record.scheduler_job_id is not None  # noqa: S101 - checked by the caller
    if scheduler.name != "local":
        try:
            write_cancel_marker(transport, job_dir, now)
        except MolqError as exc:
            log.warning("could not write the cancel marker of %s: %s", record.job_id, exc)
    scheduler.cancel(record.scheduler_job_id, job_dir=job_dir)


def seed_resume_checkpoint(
    store: JobStore, transport: Transport, record: JobRecord, created: JobCreated
) -> None:
    """Give a new attempt the family's last checkpoint as ``resume_checkpoint.json``."""
    if not created.job_dir:
        return
    data = last_checkpoint(store, transport, record)
    if data is None:
        return
    try:
        transport.mkdir(created.job_dir)
        transport.write_text(f"{created.job_dir}/{RESUME_CHECKPOINT_FILE}", data)
    except MolqError as exc:
        log.warning("attempt %s starts without its checkpoint: %s", created.job_id, exc)


def last_checkpoint(store: JobStore, transport: Transport, record: JobRecord) -> str | None:
    """JSON text ``{"seq", "data"}`` of the family's newest checkpoint (log first, then the file)."""
    ids = [r.job_id for r in store.family(record.root_job_id)]
    saved = [r.event for r in store.events_of_type(ids, "job.checkpoint_saved")]
    if saved and isinstance(saved[-1], JobCheckpointSaved):
        return json.dumps({"seq": saved[-1].seq, "data": json.loads(saved[-1].data)})
    job_dir = record.metadata.get("molq.job_dir")
    if not job_dir:
        return None
    try:
        return (
            transport.read_text(f"{job_dir}/{CHECKPOINT_FILE}")
            if transport.exists(f"{job_dir}/{CHECKPOINT_FILE}")
            else None
        )
    except MolqError:
        return None
