"""``molq sweep``: run a command template over a parameter matrix; ``molq sweeps``: show or cancel sweeps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from molq import ConfigError
from molq.cli._common import SCHEDULERS, db_option, echo, with_existing_store, with_store
from molq.cli._params import DURATION
from molq.dashboard._format import format_status


if TYPE_CHECKING:
    from molq import JobStore


def _sweep_spec(
    sweep_flags: tuple[str, ...], arg_flags: tuple[str, ...], max_parallel: int, fail_fast: bool
) -> Any:
    from molq import merge_sweep_specs, parse_arg_flags, parse_sweep_flags

    args = parse_arg_flags(arg_flags)
    spec = merge_sweep_specs(None, parse_sweep_flags(sweep_flags), args, fail_fast, max_parallel)
    if spec is None:
        msg = "molq sweep needs at least one --sweep KEY=v1,v2 (use molq submit for a single job)"
        raise ConfigError(msg)
    return spec, args


@click.command("sweep")
@click.argument("scheduler", type=click.Choice(SCHEDULERS), metavar="SCHEDULER")
@click.argument("command", nargs=-1, required=True)
@click.option(
    "--sweep", "sweep_flags", multiple=True, metavar="KEY=v1,v2", help="An axis of the matrix (repeatable)."
)
@click.option(
    "--arg", "arg_flags", multiple=True, metavar="KEY=VALUE", help="A fixed template argument (repeatable)."
)
@click.option(
    "--max-parallel", type=click.IntRange(min=1), default=1, show_default=True, help="Cells active at once."
)
@click.option(
    "--fail-fast/--no-fail-fast", default=False, help="Stop launching cells after the first failure."
)
@click.option(
    "--cluster", metavar="NAME", help="Cluster name the sweep is recorded under (default: SCHEDULER)."
)
@click.option("--max-duration", type=DURATION, help="Cancel each cell after this long, e.g. 1h or 7d.")
@click.option(
    "--block/--no-block", default=False, help="Wait until the sweep is final (exit 1 unless it succeeded)."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0), help="With --block: give up after this many seconds."
)
@db_option
@with_store
def sweep(store: JobStore, **params: Any) -> int:
    """Run COMMAND once per cell of the --sweep matrix; {KEY} in COMMAND is replaced per cell.

    e.g. `molq sweep slurm --sweep lr=0.1,0.01 --arg epochs=3 -- python train.py --lr {lr} --epochs {epochs}`
    """
    from molq import Cluster, Submitor

    spec, args = _sweep_spec(
        params["sweep_flags"], params["arg_flags"], params["max_parallel"], params["fail_fast"]
    )
    scheduler = params["scheduler"]
    submitor = Submitor(Cluster(params["cluster"] or scheduler, scheduler), store=store)
    handle = submitor.submit_sweep(
        argv=list(params["command"]),
        matrix=dict(spec.matrix),
        args=args,
        max_parallel=spec.max_parallel,
        fail_fast=spec.fail_fast,
        max_duration=params["max_duration"],
    )
    click.echo(handle.sweep_id)  # also under -q: the one thing a script needs
    if not params["block"]:
        return 0
    status = handle.wait(timeout=params["timeout"])
    echo(format_status(status))
    return 0 if status.state == "succeeded" else 1


@click.command("sweeps")
@click.argument("sweep_id", required=False)
@click.option("--cluster", metavar="NAME", help="Only sweeps of this cluster.")
@click.option(
    "--cancel", is_flag=True, help="Cancel SWEEP_ID: no further cell starts, active cells are cancelled."
)
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles.")
@db_option
@with_existing_store
def sweeps(
    store: JobStore, sweep_id: str | None, cluster: str | None, cancel: bool, config: Path | None
) -> int:
    """List sweeps with their cell counts, or show (or --cancel) one sweep."""
    from molq.cli._common import submitor_for

    records = [r for r in store.list_sweeps(cluster) if sweep_id is None or r.sweep_id.startswith(sweep_id)]
    if sweep_id is not None and len(records) != 1:
        msg = f"{len(records)} sweeps match {sweep_id!r}; give a longer id"
        raise ConfigError(msg)
    if cancel and sweep_id is None:
        msg = "--cancel needs a SWEEP_ID"
        raise click.UsageError(msg)
    for record in records:
        submitor = submitor_for(record.cluster_name, record.scheduler, store, config)
        status = submitor.cancel_sweep(record.sweep_id) if cancel else submitor.get_sweep(record.sweep_id)
        echo(format_status(status))
    return 0


COMMANDS = [sweep, sweeps]
