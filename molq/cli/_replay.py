"""``molq replay``: audit a job's event history, fold it as of a moment, verify projections."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from molq import StoreError, event_tag
from molq.cli._audit import Replay, build_replay, event_details, parse_as_of, replay_json
from molq.cli._common import SCHEDULERS, db_option, echo, resolve_job, with_existing_store
from molq.dashboard._format import fmt_precise, short
from molq.dashboard._model import EDGE_MARKS


if TYPE_CHECKING:
    from molq import JobStore
    from molq.cli._audit import EdgeAsOf


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """``--as-of``: an ISO 8601 timestamp or epoch seconds, as epoch seconds."""
    del ctx, param
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError:
        msg = f"{value!r} is neither ISO 8601 (2026-01-31T12:00:00+00:00) nor epoch seconds"
        raise click.BadParameter(msg) from None


def print_timeline(replay: Replay) -> None:
    """The event history, then the state, family and edges it implies."""
    rec = replay.record
    scope = "" if replay.as_of is None else f" as of {fmt_precise(replay.as_of)}"
    echo(
        f"Job {rec.job_id} ({rec.cluster_name}, {rec.scheduler}){scope}: "
        f"{len(replay.events)} of {replay.total_events} event(s)"
    )
    for item in replay.events:
        echo(
            f"  {fmt_precise(item.recorded_at)}  #{item.seq:<5} v{item.version:<3} "
            f"{event_tag(item.event):<24} {event_details(item.event)}"
        )
    exit_code = "" if rec.exit_code is None else f", exit {rec.exit_code}"
    echo(f"State{scope or ' now'}: {rec.state}{exit_code}")
    echo(f"Attempt family (root {short(rec.root_job_id)}):")
    for member in replay.family:
        mark = "»" if member.job_id == rec.job_id else " "
        echo(f"  {mark} attempt {member.attempt}  {member.job_id}  {member.state}")
    _print_edges("Depends on", replay.upstream, upstream=True)
    _print_edges("Needed by", replay.downstream, upstream=False)


def _print_edges(title: str, edges: list[EdgeAsOf], *, upstream: bool) -> None:
    if not edges:
        echo(f"{title}: none")
        return
    echo(f"{title}:")
    for e in edges:
        other = e.dependency_job_id if upstream else e.job_id
        echo(f"  {EDGE_MARKS[e.status]} {e.status:<10} {e.condition:<14} {other}  ({e.native})")


def verify(store: JobStore, *, as_json: bool) -> int:
    """Rebuild every projection from the log and compare; 0 if identical, 1 otherwise."""
    differences = store.verify_projections()
    events = store.last_seq()
    jobs = store.job_count()
    if as_json:
        echo(
            json.dumps({"ok": not differences, "events": events, "jobs": jobs, "differences": differences})
        )
    elif differences:
        echo(f"MISMATCH: {len(differences)} difference(s) between the projections and the event log:")
        for line in differences:
            echo(f"  - {line}")
    else:
        echo(f"OK: the projections of {jobs} job(s) match the event log ({events} event(s)).")
    return 1 if differences else 0


@click.command("replay")
@click.argument("job_id", required=False)
@click.argument("scheduler", required=False, type=click.Choice(SCHEDULERS), metavar="[SCHEDULER]")
@click.option(
    "--as-of",
    "as_of",
    metavar="TIMESTAMP",
    callback=_as_of,
    help="Only fold events recorded at or before this time.",
)
@click.option(
    "--verify", "do_verify", is_flag=True, help="Rebuild every projection from the log and compare."
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--cluster", metavar="NAME", help="Only look for the job in this cluster.")
@db_option
@with_existing_store
def replay(
    store: JobStore,
    job_id: str | None,
    scheduler: str | None,
    as_of: float | None,
    do_verify: bool,
    as_json: bool,
    cluster: str | None,
) -> int:
    """Show JOB_ID's full event history, or audit the whole store with --verify.

    `--db PATH` works on a copy of another machine's database; replay only reads it.
    """
    if (job_id is None) == (not do_verify):
        msg = "give a JOB_ID to replay, or --verify (without a JOB_ID) to audit the whole store"
        raise click.UsageError(msg)
    if job_id is None:
        if store.in_memory:
            msg = f"no molq store at {store.path}: nothing to verify (nothing was created)"
            raise StoreError(msg)
        return verify(store, as_json=as_json)
    record = resolve_job(store, job_id, cluster=cluster, scheduler=scheduler)
    result = build_replay(store, record.job_id, as_of)
    if as_json:
        echo(json.dumps(replay_json(result), indent=2))
    else:
        print_timeline(result)
    return 0


COMMANDS = [replay]
