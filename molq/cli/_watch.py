"""``molq watch`` (block until jobs finish) and ``molq logs``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

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
from molq.cli._complete import complete_job_id
from molq.cli._output import format_option
from molq.cli._profile_option import profile_option
from molq.cli._progress import wait_with_progress
from molq.dashboard._format import jobs_table, out


if TYPE_CHECKING:
    from molq import JobRecord, JobStore, Transport

FOLLOW_INTERVAL = 0.5


def _watch_all(
    store: JobStore, cluster: str | None, config: Path | None, timeout: float | None
) -> list[JobRecord]:
    deadline = None if timeout is None else time.monotonic() + timeout
    records: list[JobRecord] = []
    for name, scheduler in clusters_in_store(store, include_terminal=False).items():
        if cluster is not None and name != cluster:
            continue
        ids = sorted({r.root_job_id for r in store.list_records(name, include_terminal=False)})
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        records += wait_with_progress(submitor_for(name, scheduler, store, config), ids, left)
    return records


@click.command("watch")
@click.argument("job_id", required=False, shell_complete=complete_job_id)
@click.argument("scheduler", required=False, type=click.Choice(SCHEDULERS), metavar="[SCHEDULER]")
@click.option("-a", "--all", "watch_all", is_flag=True, help="Watch every active job.")
@click.option("--timeout", type=click.FloatRange(min=0), help="Give up after this many seconds (exit 1).")
@click.option("--cluster", metavar="NAME", help="Only this cluster's jobs.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles.")
@format_option
@db_option
@profile_option
@with_existing_store
def watch(
    store: JobStore,
    job_id: str | None,
    scheduler: str | None,
    watch_all: bool,
    timeout: float | None,
    cluster: str | None,
    config: Path | None,
    output_format: str,
) -> int:
    """Wait until JOB_ID (following retries), or every active job with --all, is finished.

    Exits 0 when every watched job succeeded, 1 otherwise.
    """
    if (job_id is None) == (not watch_all):
        msg = "give either a JOB_ID or --all"
        raise click.UsageError(msg)
    if job_id is None:
        records = _watch_all(store, cluster, config, timeout)
    else:
        record = resolve_job(store, job_id, cluster=cluster, scheduler=scheduler)
        records = wait_with_progress(submitor_for_record(record, store, config), [record.job_id], timeout)
    succeeded = all(r.state.value == "succeeded" for r in records)
    if output_format != "table":
        from molq.cli._output import print_jobs_as

        print_jobs_as(output_format, store, records, time.time())
        return 0 if succeeded else 1
    if not records:
        echo("No active jobs to watch.")
        return 0
    from molq.cli._verbosity import is_quiet

    if not is_quiet():
        out().print(jobs_table(store, records, time.time()))
    return 0 if succeeded else 1


def _read(transport: Transport, path: str) -> str | None:
    if not transport.exists(path):
        return None
    return transport.read_text(path)


def _tail(text: str, lines: int | None) -> str:
    if lines is None:
        return text
    kept = text.splitlines(keepends=True)[-lines:] if lines else []
    return "".join(kept)


def _paths(record: JobRecord, stream: str) -> list[tuple[str, str]]:
    names = ("stdout", "stderr") if stream == "both" else (stream,)
    paths = [(name, record.metadata.get(f"molq.{name}_path", "")) for name in names]
    missing = [name for name, path in paths if not path]
    if missing:
        msg = f"job {record.job_id} has no recorded {missing[0]} path"
        raise click.ClickException(msg)
    return paths


def _show(
    transport: Transport, paths: list[tuple[str, str]], tail: int | None, *, follow: bool = False
) -> dict[str, int]:
    from molq.cli._tail import last_lines

    offsets = {}
    for name, path in paths:
        from_end = tail is not None and not follow  # nothing to follow: read only the end
        if from_end and tail is not None:
            text = last_lines(transport, path, tail) if transport.exists(path) else None
        else:
            text = _read(transport, path)
        if len(paths) > 1:
            echo(f"==> {name} ({path}) <==")
        if text is None:
            echo(f"(no {name} yet: {path})", err=True)
            text = ""
        click.echo(text if from_end else _tail(text, tail), nl=False)  # job output, raw
        offsets[path] = len(text)
    return offsets


def _follow(store: JobStore, record: JobRecord, config: Path | None, offsets: dict[str, int]) -> None:
    submitor = submitor_for_record(record, store, config)
    transport = submitor.target.transport
    while True:
        latest = store.latest_attempt(record.root_job_id) or record
        done = latest.state.is_terminal
        if not done:
            submitor.reconciler.reconcile([latest.job_id])
        for path, seen in offsets.items():
            text = _read(transport, path) or ""
            if len(text) > seen:
                click.echo(text[seen:], nl=False)  # job output, raw
                offsets[path] = len(text)
        if done:
            return
        time.sleep(FOLLOW_INTERVAL)


@click.command("logs")
@job_options
@click.option(
    "--stream", type=click.Choice(["stdout", "stderr", "both"]), default="stdout", show_default=True
)
@click.option(
    "--tail", type=click.IntRange(min=0), metavar="N", help="Only the last N lines (read from the end)."
)
@click.option("--follow", "-f", is_flag=True, help="Keep printing new output until the job finishes.")
@with_existing_store
def logs(
    store: JobStore,
    job_id: str,
    scheduler: str | None,
    cluster: str | None,
    config: Path | None,
    stream: str,
    tail: int | None,
    follow: bool,
) -> None:
    """Print JOB_ID's output (of its latest attempt), e.g. `molq logs 1a2b local --tail 50`."""
    from molq.cli._common import cluster_for

    record = resolve_job(store, job_id, cluster=cluster, scheduler=scheduler)
    latest = store.latest_attempt(record.root_job_id) or record
    paths = _paths(latest, stream)
    transport = cluster_for(latest.cluster_name, latest.scheduler, config).transport
    from molq.cli._tail import removed_output

    gone = removed_output(latest, transport, [path for _, path in paths])
    if gone is not None:
        raise click.ClickException(gone)
    offsets = _show(transport, paths, tail, follow=follow)
    if follow:
        _follow(store, latest, config, offsets)


COMMANDS = [logs, watch]
