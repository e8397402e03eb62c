"""``molq inspect``: a job's record, retry family, dependency edges and timeline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from molq.cli._common import echo, job_options, resolve_job, with_existing_store
from molq.cli._jobs import print_pairs
from molq.cli._output import format_option
from molq.cli._tasks import print_tasks
from molq.dashboard._format import out
from molq.dashboard._model import downstream_edges, upstream_edges
from molq.dashboard._panels import edges_table, family_table, record_lines, timeline_table


if TYPE_CHECKING:
    from molq import JobRecord, JobStore


@click.command("inspect")
@job_options
@format_option
@with_existing_store
def inspect(
    store: JobStore,
    job_id: str,
    scheduler: str | None,
    cluster: str | None,
    config: Path | None,
    output_format: str,
) -> None:
    """Everything the store knows about JOB_ID (reads the store only)."""
    del config  # accepted for symmetry with the other job commands
    record = resolve_job(store, job_id, cluster=cluster, scheduler=scheduler)
    if output_format != "table":
        from molq.cli._output import inspect_document, print_job_as, print_json

        if output_format == "json":
            print_json(inspect_document(store, record))
        else:
            print_job_as(output_format, store, record)
        return
    console = out()
    print_pairs(record_lines(store, record))
    if record.state.is_terminal:  # what it used, in seff's words, aligned as a block of its own
        from molq.cli._usage_view import usage_lines

        print_pairs(usage_lines(record.usage))
    sweep_line = sweep_of(store, record)
    if sweep_line:
        echo(sweep_line)
    print_tasks(store, record)
    family = store.family(record.root_job_id)
    console.print()
    console.print(family_table(family, record.job_id))
    up, down = upstream_edges(store, record.job_id), downstream_edges(store, record.job_id)
    console.print()
    if up:
        console.print(edges_table("Depends on (upstream)", up, "UPSTREAM"))
    else:
        console.print("Depends on (upstream): none")
    if down:
        console.print(edges_table("Needed by (downstream)", down, "DOWNSTREAM"))
    else:
        console.print("Needed by (downstream): none")
    console.print()
    console.print(timeline_table(store, family))


def sweep_of(store: JobStore, record: JobRecord) -> str | None:
    """``sweep: <id> cell N — <sweep status>`` for a sweep cell, else None."""
    sweep_id = record.metadata.get("molq.sweep_id")
    if not sweep_id:
        return None
    from molq import sweep_status_of
    from molq.dashboard._format import format_status

    sweep = store.get_sweep(sweep_id)
    cell = record.metadata.get("molq.sweep_cell", "?")
    if sweep is None:
        return f"sweep:        {sweep_id} cell {cell} (sweep not in this store)"
    return f"sweep:        cell {cell} of {format_status(sweep_status_of(store, sweep))}"


COMMANDS = [inspect]
