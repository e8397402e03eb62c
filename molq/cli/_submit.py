"""``molq submit``: build a job from options and submit it (or show a dry run)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click

from molq import ConfigError, JobExecution, JobResources, JobScheduling, RetryPolicy
from molq.cli._common import SCHEDULERS, db_option, echo, resolve_job_ids, with_store
from molq.cli._params import DURATION, MEMORY
from molq.cli._progress import report_final, wait_with_progress


if TYPE_CHECKING:
    from molq import JobDryRun, JobStore, MolqProfile, Submitor

_DEPENDENCY_OPTIONS = ("after", "after_started", "after_failure", "after_success")


@attrs.frozen
class SubmitOptions:
    """Every ``molq submit`` option, as click parsed it."""

    scheduler: str
    command: tuple[str, ...]
    cpus: int | None = None
    mem: str | None = None
    time: str | None = None
    max_duration: str | None = None
    partition: str | None = None
    gpus: int | None = None
    gpu_type: str | None = None
    name: str | None = None
    workdir: Path | None = None
    account: str | None = None
    cluster: str | None = None
    profile: str | None = None
    config: Path | None = None
    retries: int | None = None
    retry_on_exit_code: tuple[int, ...] = ()
    after: tuple[str, ...] = ()
    after_started: tuple[str, ...] = ()
    after_failure: tuple[str, ...] = ()
    after_success: tuple[str, ...] = ()
    scheduler_arg: tuple[str, ...] = ()
    block: bool = False
    timeout: float | None = None
    dry_run: bool = False
    quiet: bool = False


def build_submitor(opts: SubmitOptions, store: JobStore) -> tuple[Submitor, MolqProfile | None]:
    """The Submitor ``opts`` ask for: a profile's, or ``Cluster(--cluster or SCHEDULER, SCHEDULER)``."""
    from molq import Cluster, Submitor, load_profile

    if opts.profile is None:
        return Submitor(Cluster(opts.cluster or opts.scheduler, opts.scheduler), store=store), None
    if opts.cluster is not None:
        msg = "--cluster cannot be combined with --profile (the profile names its cluster)"
        raise click.UsageError(msg)
    profile = load_profile(opts.profile, opts.config)
    if profile.scheduler != opts.scheduler:
        msg = f"profile {opts.profile!r} submits to {profile.scheduler}, not {opts.scheduler}"
        raise ConfigError(msg)
    return Submitor.from_profile(opts.profile, config_path=opts.config, store=store), profile


def submit_kwargs(
    opts: SubmitOptions, store: JobStore, cluster_name: str, base_retry: RetryPolicy | None
) -> dict[str, Any]:
    """The ``submit_job`` keywords for ``opts`` (dependency prefixes resolved)."""
    kwargs: dict[str, Any] = {"argv": list(opts.command)}
    if any(v is not None for v in (opts.cpus, opts.mem, opts.time, opts.gpus, opts.gpu_type)):
        kwargs["resources"] = JobResources(
            cpu_count=opts.cpus,
            memory=opts.mem,
            gpu_count=opts.gpus,
            gpu_type=opts.gpu_type,
            time_limit=opts.time,
        )
    if opts.partition is not None or opts.account is not None or opts.scheduler_arg:
        kwargs["scheduling"] = JobScheduling(
            partition=opts.partition, account=opts.account, extra_flags=opts.scheduler_arg
        )
    if opts.workdir is not None or opts.name is not None:
        cwd = None if opts.workdir is None else str(opts.workdir.expanduser().resolve())
        kwargs["execution"] = JobExecution(cwd=cwd, job_name=opts.name)
    if opts.max_duration is not None:
        kwargs["max_duration"] = opts.max_duration
    retry = retry_policy(opts.retries, opts.retry_on_exit_code, base_retry)
    if retry is not None:
        kwargs["retry"] = retry
    for key in _DEPENDENCY_OPTIONS:
        prefixes = getattr(opts, key)
        if prefixes:
            kwargs[key] = resolve_job_ids(store, prefixes, cluster_name)
    return kwargs


def retry_policy(
    retries: int | None, exit_codes: tuple[int, ...], base: RetryPolicy | None
) -> RetryPolicy | None:
    """``--retries N`` means N attempts in all (upstream molq's meaning); other fields come from ``base``."""
    if retries is None:
        if exit_codes:
            msg = "--retry-on-exit-code needs --retries N"
            raise click.UsageError(msg)
        return None
    codes = tuple(exit_codes) or (base.retry_on_exit_codes if base else None)
    return dataclasses.replace(base or RetryPolicy(), max_attempts=retries, retry_on_exit_codes=codes)


def print_dry_run(dry: JobDryRun) -> None:
    """The exact command, the details and the rendered script of a dry run."""
    echo("Dry run: nothing was submitted or recorded.")
    echo(f"command: {dry.command}")
    details = dict(dry.details)
    script = details.pop("script", "")
    header = details.pop("directives", None)
    for key, value in details.items():
        echo(f"{key}: {value}")
    if header is not None:
        echo("--- directives (molq's, the script's own, then --scheduler-arg) ---")
        echo(header)
    echo(f"--- script {details.get('script_path', '')} ---")
    echo(script.rstrip("\n"))
    echo("--- end of script ---")


@click.command("submit")
@click.argument("scheduler", type=click.Choice(SCHEDULERS), metavar="SCHEDULER")
@click.argument("command", nargs=-1, required=True)
@click.option("--cpus", type=click.IntRange(min=1), help="CPU cores.")
@click.option("--mem", type=MEMORY, help="Memory, e.g. 4G or 512M.")
@click.option("--time", type=DURATION, help="Time limit, e.g. 2h30m or 04:00:00.")
@click.option(
    "--max-duration", type=DURATION, help="Cancel the job after this long (enforced by molq), e.g. 1h or 7d."
)
@click.option("--partition", help="Partition / queue.")
@click.option("--queue", hidden=True, help="Upstream molq's name for --partition.")
@click.option("--gpus", type=click.IntRange(min=1), help="Number of GPUs.")
@click.option("--gpu-type", help="GPU type (needs --gpus).")
@click.option("--name", help="Job name.")
@click.option(
    "--workdir", type=click.Path(file_okay=False, path_type=Path), help="Working directory of the job."
)
@click.option("--account", help="Account to charge.")
@click.option(
    "--cluster", metavar="NAME", help="Cluster name the job is recorded under (default: SCHEDULER)."
)
@click.option("--profile", metavar="NAME", help="Profile from the config file (cluster, defaults, retry).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles.")
@click.option("--retries", type=click.IntRange(min=1), help="Run a failing job at most N times in all (as upstream molq).")
@click.option(
    "--retry-on-exit-code", type=int, multiple=True, help="Only retry on this exit code (repeatable)."
)
@click.option(
    "--after", multiple=True, metavar="JOB_ID", help="Start after JOB_ID ends, whatever the result."
)
@click.option("--after-started", multiple=True, metavar="JOB_ID", help="Start after JOB_ID has started.")
@click.option("--after-failure", multiple=True, metavar="JOB_ID", help="Start only if JOB_ID failed.")
@click.option("--after-success", multiple=True, metavar="JOB_ID", help="Start only if JOB_ID succeeded.")
@click.option(
    "--scheduler-arg",
    multiple=True,
    metavar="FLAG",
    help="A raw scheduler option written as a directive, e.g. --scheduler-arg=--constraint=intel or "
    "--scheduler-arg='-l select=1:ncpus=2:mpiprocs=2' (repeatable; not for local).",
)
@click.option(
    "--block/--no-block",
    default=False,
    help="Wait until the job finishes; exit with its exit code (see 'Exit codes' in the guide).",
)
@click.option(
    "--timeout", type=click.FloatRange(min=0), help="With --block: give up waiting after this many seconds."
)
@click.option("--dry-run", is_flag=True, help="Show the command and script; submit and record nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the job id (with --dry-run: only the command).")
@db_option
@with_store
def submit(store: JobStore, **params: Any) -> int:
    """Submit COMMAND to SCHEDULER (local, slurm, pbs or lsf).

    Put the command after `--`, e.g. `molq submit local -- python train.py --lr 0.1`.
    """
    queue = params.pop("queue")
    if queue is not None:
        if params["partition"] not in (None, queue):
            msg = "give either --partition or --queue (its old name), not both"
            raise click.UsageError(msg)
        params["partition"] = queue
    opts = SubmitOptions(**params)
    submitor, profile = build_submitor(opts, store)
    kwargs = submit_kwargs(opts, store, submitor.cluster_name, profile.retry if profile else None)
    if opts.dry_run:
        dry = submitor.submit_job(**kwargs, dry_run=True)
        if opts.quiet:
            echo(dry.command)
        else:
            print_dry_run(dry)
        return 0
    handle = submitor.submit_job(**kwargs)
    if opts.quiet:
        echo(handle.job_id)
    else:
        sid = handle.scheduler_job_id or "-"
        echo(
            f"Submitted job {handle.job_id} to cluster {handle.cluster_name} ({handle.scheduler}, id {sid})"
        )
    if not opts.block:
        return 0
    record = wait_with_progress(submitor, [handle.job_id], opts.timeout)[0]
    return report_final(record, quiet=opts.quiet)


COMMANDS = [submit]
