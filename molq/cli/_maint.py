"""``molq cleanup`` and ``molq daemon``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from molq.cli._common import SCHEDULERS, clusters_in_store, db_option, echo, submitor_for, with_store
from molq.cli._profile_option import profile_option


if TYPE_CHECKING:
    from molq import JobStore, Submitor

CLEANUP_EVERY = 3600.0
config_option = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles."
)
cluster_option = click.option("--cluster", metavar="NAME", help="Only this cluster (default: every cluster).")
scheduler_argument = click.argument(
    "scheduler", required=False, type=click.Choice(SCHEDULERS), metavar="[SCHEDULER]"
)


def _submitors(
    store: JobStore, cluster: str | None, config: Path | None, scheduler: str | None = None
) -> list[Submitor]:
    found = clusters_in_store(store, include_terminal=True)
    if cluster is not None:
        found = {k: v for k, v in found.items() if k == cluster}
    if scheduler is not None:
        found = {k: v for k, v in found.items() if v == scheduler}
    return [submitor_for(name, scheduler, store, config) for name, scheduler in sorted(found.items())]


@click.command("cleanup")
@scheduler_argument
@click.option("--dry-run", is_flag=True, help="Only show what would be removed or archived.")
@cluster_option
@config_option
@db_option
@profile_option
@with_store
def cleanup(store: JobStore, scheduler: str | None, dry_run: bool, cluster: str | None, config: Path | None) -> int:
    """Remove old job directories and archive old records (the event log is kept).

    Retention comes from the cluster's profile (default: job dirs 30 days, records 90 days).
    """
    verb = "Would" if dry_run else "Did"
    failed = False
    for submitor in _submitors(store, cluster, config, scheduler):
        result = submitor.cleanup_jobs(dry_run=dry_run)
        dirs, records, errors = result["job_dirs"], result["records"], result["errors"]
        echo(
            f"{submitor.cluster_name}: {verb.lower()} remove {len(dirs)} job dir(s), "
            f"{verb.lower()} archive {len(records)} record(s)"
        )
        for path in dirs:
            echo(f"  remove  {path}")
        for job_id in records:
            echo(f"  archive {job_id}")
        for line in errors:
            echo(f"molq: warning: {line}", err=True)
        failed = failed or bool(errors)
    return 1 if failed else 0


def daemon_pass(
    store: JobStore, cluster: str | None, config: Path | None, *, cleanup_now: bool, scheduler: str | None = None
) -> int:
    """One reconciliation pass over every cluster in the store; returns how many clusters."""
    submitors = _submitors(store, cluster, config, scheduler)
    for submitor in submitors:
        submitor.run_daemon(once=True, run_cleanup=cleanup_now)
    return len(submitors)


@click.command("daemon")
@scheduler_argument
@click.option("--once", is_flag=True, help="Run one pass and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds between passes.",
)
@click.option("--skip-cleanup", is_flag=True, help="Never run retention cleanup.")
@cluster_option
@config_option
@db_option
@profile_option
@with_store
def daemon(
    store: JobStore,
    scheduler: str | None,
    once: bool,
    interval: float,
    skip_cleanup: bool,
    cluster: str | None,
    config: Path | None,
) -> None:
    """Keep job states current: reconcile active jobs, start due retries, clean up hourly.

    Stop it with Ctrl-C; jobs keep running.
    """
    last_cleanup: float | None = None
    while True:
        now = time.monotonic()
        cleanup_now = not skip_cleanup and (last_cleanup is None or now - last_cleanup >= CLEANUP_EVERY)
        count = daemon_pass(store, cluster, config, cleanup_now=cleanup_now, scheduler=scheduler)
        if cleanup_now:
            last_cleanup = now
        if once:
            echo(f"Reconciled {count} cluster(s).")
            return
        time.sleep(interval)


COMMANDS = [cleanup, daemon]
