"""Retention: remove old job directories and archive old records; the log is kept."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from molq.core import (
    ArchiveJob,
    ConcurrencyConflict,
    JobState,
    MarkCleaned,
    MolqError,
    RetentionPolicy,
    decide,
)


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts

DAY = 86400.0
_log = logging.getLogger("molq.daemon")
CONFLICT_RETRIES = 5  # appends judged again on a fresh record before one is left for the next run


def cleanup(submitor: SubmitorParts, policy: RetentionPolicy, *, dry_run: bool) -> dict[str, list[str]]:
    """Apply ``policy`` to this cluster's terminal jobs.

    Returns:
        ``{"job_dirs": [...], "records": [...], "errors": [...]}``: directories removed
        (or that would be), job ids archived (or that would be), and failures.
    """
    store = submitor.store
    now = submitor.reconciler.clock()
    removed: list[str] = []
    archived: list[str] = []
    errors: list[str] = []
    for record in store.list_records(submitor.cluster_name, include_terminal=True):
        if not record.state.is_terminal or record.finished_at is None:
            continue
        if record.next_attempt_job_id is not None and record.cancel_requested_at is None:
            latest = store.latest_attempt(record.root_job_id) or record
            retry_due = latest.next_attempt_job_id is not None and latest.cancel_requested_at is None
            if not latest.state.is_terminal or retry_due:
                continue  # the family goes on (a function job's retry reads the first attempt's dir)
        age = now - record.finished_at
        job_dir = record.metadata.get("molq.job_dir")
        keep_dir = policy.keep_failed_job_dirs and record.state != JobState.SUCCEEDED
        if job_dir and record.cleaned_at is None and not keep_dir and age >= policy.keep_job_dirs_for_days * DAY:
            removed.append(job_dir)
            if not dry_run:
                try:
                    submitor.target.transport.remove(job_dir, recursive=True)
                except MolqError as exc:
                    errors.append(f"{record.job_id}: {exc}")
                    removed.pop()
                    continue
                if not _append(submitor, record.job_id, MarkCleaned(removed=(job_dir,)), now):
                    errors.append(f"{record.job_id}: its record kept changing; cleaned mark left to the next cleanup")
        if age >= policy.keep_terminal_records_for_days * DAY:
            archived.append(record.job_id)
            if not dry_run and not _append(submitor, record.job_id, ArchiveJob(reason="retention"), now):
                errors.append(f"{record.job_id}: its record kept changing; archiving left to the next cleanup")
    return {"job_dirs": removed, "records": archived, "errors": errors}


def _append(submitor: SubmitorParts, job_id: str, command: MarkCleaned | ArchiveJob, now: float) -> bool:
    """Decide ``command`` on the job's current record and append; whether that settled.

    Another cleanup (or a reconcile) may append to the same job meanwhile: the
    command is then judged again on the fresh record, where it is often already done.
    """
    for _ in range(CONFLICT_RETRIES):
        record = submitor.store.get_record(job_id)
        if record is None:
            return True
        events = decide(record, command, now=now)
        if not events:
            return True
        try:
            submitor.store.append(job_id, events, expected_version=record.version, now=now)
        except ConcurrencyConflict:
            continue
        return True
    return False


def daemon_loop(
    reconcile: Callable[[], object],
    cleanup: Callable[[], object],
    *,
    once: bool,
    interval: float,
    run_cleanup: bool,
) -> None:
    """Reconcile every ``interval`` seconds (one pass with ``once``); ``cleanup`` at most hourly."""
    last_cleanup = 0.0
    while True:
        try:
            reconcile()
        except ConcurrencyConflict as exc:  # another process won a race: the next pass sees its events
            _log.warning("reconcile pass skipped after a concurrent change: %s", exc)
        now = time.monotonic()
        if run_cleanup and (last_cleanup == 0.0 or now - last_cleanup >= 3600):
            try:
                cleanup()
            except ConcurrencyConflict as exc:
                _log.warning("cleanup skipped after a concurrent change: %s", exc)
            last_cleanup = now
        if once:
            return
        time.sleep(interval)
