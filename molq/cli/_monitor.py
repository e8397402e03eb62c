"""``molq monitor``: the full-screen dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from molq.cli._common import db_option, resolve_job, with_existing_store
from molq.dashboard._format import out


if TYPE_CHECKING:
    from molq import JobStore


@click.command("monitor")
@click.argument("job_ids", nargs=-1)
@click.option("-a", "--all", "include_all", is_flag=True, help="Include finished jobs.")
@click.option(
    "-n", "--limit", type=click.IntRange(min=1), default=200, show_default=True, help="At most this many jobs."
)
@click.option(
    "-r",
    "--refresh",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between store reads.",
)
@click.option("--cluster", metavar="NAME", help="Only this cluster's jobs.")
@click.option("--once", is_flag=True, help="Print one frame and exit (no terminal needed).")
@db_option
@with_existing_store
def monitor(
    store: JobStore,
    job_ids: tuple[str, ...],
    include_all: bool,
    limit: int,
    refresh: float,
    cluster: str | None,
    once: bool,
) -> None:
    """Full-screen dashboard of all jobs, or of the JOB_IDS given.

    Arrow keys select a job, Enter shows its details and dependencies, q quits.
    It reads the store only; closing it never cancels jobs.
    """
    from molq.dashboard import MolqMonitor, RunDashboard
    from molq.dashboard._app import Dashboard

    dashboard: Dashboard
    if job_ids:
        ids = [resolve_job(store, prefix, cluster=cluster).job_id for prefix in job_ids]
        dashboard = RunDashboard(store, ids, refresh=refresh)
    else:
        dashboard = MolqMonitor(
            store, include_terminal=include_all, limit=limit, cluster_name=cluster, refresh=refresh
        )
    if once:
        dashboard.reload()
        out().print(dashboard.render())
        return
    dashboard.run()


COMMANDS = [monitor]
