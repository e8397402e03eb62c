"""``molq report``: what finished jobs used, and the ``seff``-style lines ``molq inspect`` shows."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from molq import MolqError, fetch_usage, summarise_usage
from molq.cli._common import SCHEDULERS, clusters_in_store, db_option, echo, submitor_for, with_existing_store
from molq.cli._output import format_option, print_json
from molq.cli._usage_view import percent, size, usage_fields


if TYPE_CHECKING:
    from collections.abc import Sequence

    from molq import JobRecord, JobStore, UsageSummary

OVER_REQUEST_RATIO = 0.25  # summarise_usage's default ratio (tests/cli/test_cli_report.py checks they agree)

_TSV_HEADER = (
    "job_id",
    "state",
    "cpus",
    "elapsed_s",
    "cpu_s",
    "cpu_eff",
    "max_rss_bytes",
    "req_mem_bytes",
    "mem_eff",
)


@click.command("report")
@click.argument("scheduler", required=False, type=click.Choice(SCHEDULERS), metavar="[SCHEDULER]")
@click.option("--cluster", metavar="NAME", help="Only this cluster's jobs.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="The newest this many finished jobs.",
)
@click.option(
    "--ratio",
    type=click.FloatRange(min=0.0, max=1.0),
    default=OVER_REQUEST_RATIO,
    show_default=True,
    help="List jobs whose memory efficiency is below this.",
)
@click.option("--no-fetch", is_flag=True, help="Use only the usage already recorded; ask no scheduler.")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles.")
@format_option
@db_option
@with_existing_store
def report(
    store: JobStore,
    scheduler: str | None,
    cluster: str | None,
    limit: int,
    ratio: float,
    no_fetch: bool,
    config: Path | None,
    output_format: str,
) -> None:
    """Summarise what finished jobs used: core-hours, median CPU/memory efficiency, over-requests.

    Finished jobs with no usage recorded yet are asked for once (one accounting call per
    cluster) unless --no-fetch.
    """
    if not no_fetch:
        _fetch_missing(store, cluster, scheduler, config, limit)
    records = _finished(store, cluster, scheduler, limit)
    summary = summarise_usage([(r.job_id, r.usage) for r in records], ratio=ratio)
    if output_format == "json":
        print_json(_document(summary, records, ratio))
    elif output_format == "tsv":
        _print_tsv(records)
    else:
        _print_table(summary, records, ratio)


def _finished(store: JobStore, cluster: str | None, scheduler: str | None, limit: int) -> list[JobRecord]:
    from molq import list_jobs

    records = [r for r in list_jobs(store, cluster, include_terminal=True) if r.state.is_terminal]
    if scheduler is not None:
        records = [r for r in records if r.scheduler == scheduler]
    return records[:limit]


def _fetch_missing(
    store: JobStore, cluster: str | None, scheduler: str | None, config: Path | None, limit: int
) -> None:
    missing: dict[tuple[str, str], list[str]] = {}
    for record in _finished(store, cluster, scheduler, limit):
        if record.usage is None and record.scheduler_job_id:  # fetch_usage skips what cannot have one
            missing.setdefault((record.cluster_name, record.scheduler), []).append(record.job_id)
    known = clusters_in_store(store, include_terminal=True) if missing else {}
    for (name, kind), job_ids in missing.items():
        try:
            fetch_usage(submitor_for(name, known.get(name, kind), store, config), job_ids)
        except MolqError as exc:
            echo(f"molq: warning: cannot fetch usage from cluster {name}: {exc}", err=True)


def _document(summary: UsageSummary, records: Sequence[JobRecord], ratio: float) -> dict[str, Any]:
    return {
        "jobs": summary.jobs,
        "with_usage": summary.with_usage,
        "core_hours": summary.core_hours,
        "median_cpu_efficiency": summary.median_cpu_efficiency,
        "median_memory_efficiency": summary.median_memory_efficiency,
        "over_request_ratio": ratio,
        "over_requested": [{"job_id": j, "memory_efficiency": e} for j, e in summary.over_requested],
        "usage": [
            {
                "job_id": r.job_id,
                "cluster": r.cluster_name,
                "state": r.state.value,
                "usage": usage_fields(r.usage),
            }
            for r in records
        ],
    }


def _print_tsv(records: Sequence[JobRecord]) -> None:
    lines = ["\t".join(_TSV_HEADER)]
    for r in records:
        u = r.usage
        cells: tuple[object, ...] = (r.job_id, r.state.value) + (
            (
                u.cpus,
                u.elapsed_seconds,
                u.cpu_seconds,
                u.cpu_efficiency,
                u.max_rss_bytes,
                u.requested_memory_bytes,
                u.memory_efficiency,
            )
            if u is not None
            else (None,) * 7
        )
        lines.append("\t".join("" if c is None else str(c) for c in cells))
    sys.stdout.write("\n".join(lines) + "\n")


def _print_table(summary: UsageSummary, records: Sequence[JobRecord], ratio: float) -> None:
    from molq.cli._jobs import print_pairs

    print_pairs(
        [
            ("finished jobs", str(summary.jobs)),
            ("with usage", str(summary.with_usage)),
            ("core-hours", f"{summary.core_hours:.4f}"),
            ("median cpu efficiency", percent(summary.median_cpu_efficiency)),
            ("median memory efficiency", percent(summary.median_memory_efficiency)),
        ]
    )
    if summary.over_requested:
        echo(f"\nRequested far more memory than used (efficiency below {percent(ratio)}):")
        by_id = {r.job_id: r for r in records}
        for job_id, efficiency in summary.over_requested:
            usage = by_id[job_id].usage
            assert usage is not None  # noqa: S101 - only jobs with usage have an efficiency
            echo(
                f"  {job_id}  used {size(usage.max_rss_bytes)} of {size(usage.requested_memory_bytes)} ({percent(efficiency)})"
            )
    else:
        echo("\nNo job requested far more memory than it used.")


COMMANDS = [report]
