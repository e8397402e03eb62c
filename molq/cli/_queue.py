"""``molq queue``: the scheduler's own queue (jobs submitted outside molq included)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from molq.cli._common import SCHEDULERS, cluster_for, echo
from molq.cli._output import format_option, iso, print_json, print_tsv
from molq.dashboard._clock import fmt_time
from molq.dashboard._text import clip, shown


if TYPE_CHECKING:
    from molq import QueueEntry

QUEUE_FIELDS: Final = (
    "cluster",
    "scheduler",
    "scheduler_job_id",
    "name",
    "user",
    "state",
    "raw_state",
    "partition",
    "submit_time",
    "start_time",
)
"""The fields of one queue entry, in this order, in JSON objects and TSV rows."""

_HEADERS: Final = ("ID", "STATE", "RAW STATE", "USER", "PARTITION", "SUBMITTED", "STARTED", "NAME")


def queue_fields(entry: QueueEntry, cluster: str, scheduler: str) -> dict[str, Any]:
    """The ``QUEUE_FIELDS`` of one entry."""
    return {
        "cluster": cluster,
        "scheduler": scheduler,
        "scheduler_job_id": entry.scheduler_job_id,
        "name": entry.name,
        "user": entry.user,
        "state": entry.state.value,
        "raw_state": entry.raw_state,
        "partition": entry.partition,
        "submit_time": iso(entry.submit_time),
        "start_time": iso(entry.start_time),
    }


def queue_lines(entries: list[QueueEntry]) -> list[str]:
    """Aligned plain lines: a header, then one line per entry."""
    rows = [
        (
            shown(e.scheduler_job_id),
            e.state.value,
            shown(e.raw_state) or "-",
            shown(e.user or "-"),
            shown(e.partition or "-"),
            fmt_time(e.submit_time),
            fmt_time(e.start_time),
            clip(shown(e.name or "-")),
        )
        for e in entries
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(_HEADERS[:-1])]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in (_HEADERS, *rows)
    ]


@click.command("queue")
@click.argument("scheduler", type=click.Choice(SCHEDULERS), metavar="SCHEDULER")
@click.option("--cluster", metavar="NAME", help="Cluster to ask (default: SCHEDULER); a profile naming it is used.")
@click.option("--user", metavar="USER", help="This user's jobs (default: yours).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles.")
@format_option
def queue(
    scheduler: str, cluster: str | None, user: str | None, config: Path | None, output_format: str
) -> None:
    """The scheduler's queue as it reports it (squeue / qstat / bjobs), molq's jobs or not."""
    name = cluster or scheduler
    entries = cluster_for(name, scheduler, config).get_queue(user=user)
    if output_format != "table":
        rows = [queue_fields(e, name, scheduler) for e in entries]
        if output_format == "json":
            print_json(rows)
        else:
            print_tsv(rows, QUEUE_FIELDS)
        return
    from molq.cli._verbosity import is_quiet

    if is_quiet():
        for entry in entries:
            click.echo(shown(entry.scheduler_job_id))
        return
    if not entries:
        echo(f"The {scheduler} queue of cluster {name} is empty.")
        return
    for line in queue_lines(entries):
        echo(line)


COMMANDS = [queue]
