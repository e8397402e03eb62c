"""``molq list``, ``status``, ``history`` and ``cancel``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from molq import MolqError
from molq.cli._common import (
    SCHEDULERS,
    clusters_in_store,
    db_option,
    echo,
    job_options,
    resolve_job,
    submitor_for,
    submitor_for_record,
    with_existing_store,
)
from molq.cli._output import format_option
from molq.cli._profile_option import profile_option
from molq.cli._verbosity import is_quiet, print_ids
from molq.dashboard._text import shown


if TYPE_CHECKING:
    from molq import JobStore

no_refresh_option = click.option(
    "--no-refresh", is_flag=True, help="Show what the store knows; do not ask the scheduler."
)
config_option = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles."
)


def refresh_clusters(store: JobStore, cluster: str | None, config: Path | None, kind: str | None = None) -> None:
    """Reconcile the active jobs of every cluster (or one, or one scheduler's); warn about unreachable ones."""
    for name, scheduler in clusters_in_store(store, include_terminal=False).items():
        if (cluster is not None and name != cluster) or (kind is not None and scheduler != kind):
            continue
        try:
            submitor_for(name, scheduler, store, config).refresh_jobs()
        except MolqError as exc:
            echo(
                f"molq: warning: cannot refresh cluster {name}: {exc}; showing stored states", err=True
            )


scheduler_argument = click.argument(
    "scheduler", required=False, type=click.Choice(SCHEDULERS), metavar="[SCHEDULER]"
)


@click.command("list")
@scheduler_argument
@click.option("--all", "include_all", is_flag=True, help="Include finished jobs.")
@click.option("--cluster", metavar="NAME", help="Only this cluster's jobs.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=200, show_default=True, help="At most this many rows."
)
@no_refresh_option
@config_option
@format_option
@db_option
@profile_option
@with_existing_store
def list_command(
    store: JobStore,
    scheduler: str | None,
    include_all: bool,
    cluster: str | None,
    limit: int,
    no_refresh: bool,
    config: Path | None,
    output_format: str,
) -> None:
    """List active jobs (all jobs with --all), newest first.

    Piped, it prints one line per job with full ids; --json and --format tsv are for scripts.
    """
    if not no_refresh:
        refresh_clusters(store, cluster, config, scheduler)
    from molq import list_jobs
    from molq.cli._job_table import print_jobs

    records = list_jobs(store, cluster, include_terminal=include_all, limit=limit)
    if scheduler is not None:
        records = [r for r in records if r.scheduler == scheduler]
    if output_format != "table":
        from molq.cli._output import print_jobs_as

        print_jobs_as(output_format, store, records, time.time())
        return
    if is_quiet():
        print_ids(records)
        return
    if not records:
        what = "jobs" if include_all else "active jobs (use --all to include finished ones)"
        echo(f"No {what}.")
    else:
        print_jobs(store, records, time.time())
    print_sweeps(store, cluster, include_final=include_all)


def print_sweeps(store: JobStore, cluster: str | None, *, include_final: bool) -> None:
    """One line per sweep (open ones only unless ``include_final``) under the jobs table."""
    sweeps = store.list_sweeps(cluster, open_only=not include_final)
    if not sweeps:
        return
    from molq import sweep_status_of
    from molq.dashboard._format import format_status

    echo("Sweeps:")
    for sweep in sweeps:
        echo(f"  {format_status(sweep_status_of(store, sweep))}")


@click.command("history")
@scheduler_argument
@click.option("--cluster", metavar="NAME", help="Only this cluster's jobs.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many jobs."
)
@click.option("--all", "show_all", is_flag=True, help="Every recorded job (no --limit).")
@config_option
@format_option
@db_option
@profile_option
@with_existing_store
def history(
    store: JobStore,
    scheduler: str | None,
    cluster: str | None,
    limit: int,
    show_all: bool,
    config: Path | None,
    output_format: str,
) -> None:
    """Recent jobs of every state, archived ones included, newest first (store only).

    ``--config`` only serves ``--profile`` here: history never asks a scheduler.
    """
    from molq.dashboard._format import jobs_table, out

    records = store.list_records(cluster, include_terminal=True, include_archived=True, limit=None if show_all else limit)
    if scheduler is not None:
        records = [r for r in records if r.scheduler == scheduler]
    if output_format != "table":
        from molq.cli._output import print_jobs_as

        print_jobs_as(output_format, store, records, time.time())
        return
    if is_quiet():
        print_ids(records)
        return
    if not records:
        echo("No jobs recorded yet.")
        return
    from molq.cli._job_table import plain_stdout, print_jobs

    if plain_stdout():  # piped: one line per job, as `list`
        print_jobs(store, records, time.time())
        return
    out().print(jobs_table(store, records, time.time(), title=f"Last {len(records)} job(s)"))


def print_pairs(rows: list[tuple[str, str]]) -> None:
    """Aligned ``label: value`` lines."""
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        echo(f"{label + ':':<{width + 1}} {shown(value)}")  # one line per field, whatever it holds


@click.command("status")
@job_options
@no_refresh_option
@format_option
@with_existing_store
def status(
    store: JobStore,
    job_id: str,
    scheduler: str | None,
    cluster: str | None,
    config: Path | None,
    no_refresh: bool,
    output_format: str,
) -> None:
    """Show the state of JOB_ID (its latest attempt), asking the scheduler first."""
    from molq.dashboard._panels import status_lines

    record = resolve_job(store, job_id, cluster=cluster, scheduler=scheduler)
    latest = store.latest_attempt(record.root_job_id) or record
    if not no_refresh and not latest.state.is_terminal:
        submitor_for_record(record, store, config).reconciler.reconcile([latest.job_id])
        latest = store.latest_attempt(record.root_job_id) or latest
    if output_format != "table":
        from molq.cli._output import print_job_as

        print_job_as(output_format, store, latest)
        return
    if is_quiet():
        click.echo(latest.state.value)
        return
    print_pairs(status_lines(store, latest))


@click.command("cancel")
@job_options
@with_existing_store
def cancel(
    store: JobStore, job_id: str, scheduler: str | None, cluster: str | None, config: Path | None
) -> None:
    """Cancel JOB_ID's latest active attempt (and any pending retry)."""
    record = resolve_job(store, job_id, cluster=cluster, scheduler=scheduler)
    latest = store.latest_attempt(record.root_job_id) or record
    pending_retry = latest.next_attempt_job_id is not None and latest.cancel_requested_at is None
    if latest.state.is_terminal and not pending_retry:
        echo(f"Job {latest.job_id} already finished ({latest.state}); nothing to cancel.")
        return
    submitor_for_record(record, store, config).cancel_job(record.job_id)
    after = store.latest_attempt(record.root_job_id) or latest
    echo(f"Cancel requested for job {after.job_id}; it is now {after.state}.")


COMMANDS = [list_command, status, history, cancel]
