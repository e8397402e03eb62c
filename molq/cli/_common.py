"""Shared CLI plumbing: the store option, job-id lookup and cluster resolution."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from molq import JobNotFoundError
from molq.cli._complete import complete_job_id
from molq.dashboard._text import shown


if TYPE_CHECKING:
    from molq import Cluster, JobRecord, JobStore, MolqProfile, Submitor

F = TypeVar("F", bound=Callable[..., Any])
SCHEDULERS = ("local", "slurm", "pbs", "lsf")



def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` for every line molq prints: control characters in it are shown escaped.

    Job output (``molq logs``) is the one thing printed raw, with ``click.echo``.
    Under ``-q`` only ``err`` lines (errors, warnings) are printed.
    """
    if not err and _quiet():
        return
    click.echo(shown(message, lines=True), err=err, nl=nl)


def _quiet() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get("molq.quiet"))


def db_option(func: F) -> F:
    """Add ``--db PATH`` (default: ``$MOLQ_STORE`` or ``~/.molq/jobs.db``)."""
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Job database to use (default: $MOLQ_STORE or ~/.molq/jobs.db).",
    )(func)


def job_options(func: F) -> F:
    """``JOB_ID [SCHEDULER]`` plus ``--cluster``, ``--profile``, ``--config`` and ``--db``."""
    from molq.cli._profile_option import profile_option

    func = profile_option(func)
    func = click.option(
        "--config",
        "config",
        type=click.Path(path_type=Path),
        default=None,
        help="Config file with profiles (default: ~/.molq/config.toml).",
    )(func)
    func = click.option(
        "--cluster", "cluster", default=None, metavar="NAME", help="Only look for the job in this cluster."
    )(func)
    func = click.argument("scheduler", required=False, type=click.Choice(SCHEDULERS), metavar="[SCHEDULER]")(
        func
    )
    func = click.argument("job_id", shell_complete=complete_job_id)(func)
    return db_option(func)


def open_store(db: Path | None, *, create: bool = True) -> JobStore:
    """The job store at ``db`` (or the default one); ``create=False``: it must exist."""
    from molq import JobStore

    return JobStore(db, create=create)


def _store_decorator(*, create: bool) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, db: Path | None, **kwargs: Any) -> Any:
            store = open_store(db, create=create)
            try:
                return func(*args, store=store, **kwargs)
            finally:
                store.close()

        return wrapper  # type: ignore[return-value]

    return decorate


with_store = _store_decorator(create=True)
"""Open (or create) the store named by ``db``, pass it as ``store``, close it afterwards."""

with_existing_store = _store_decorator(create=False)
"""As ``with_store`` for commands that read or follow recorded jobs: a missing store is
read as an empty one and never created (a typo in ``--db`` makes no file)."""


def resolve_job(
    store: JobStore, prefix: str, *, cluster: str | None = None, scheduler: str | None = None
) -> JobRecord:
    """The record whose id starts with ``prefix`` (unique within the filters).

    Raises:
        JobNotFoundError: no job, or several jobs, match.
    """
    if not prefix.strip():
        msg = "a job id must not be empty"
        raise JobNotFoundError(prefix, cluster, message=msg)
    records = [store.get_record(i) for i in store.find_job_ids(prefix, cluster)]
    matches = [r for r in records if r is not None and (scheduler is None or r.scheduler == scheduler)]
    exact = [r for r in matches if r.job_id == prefix]
    if exact:
        return exact[0]
    where = _where(cluster, scheduler)
    if not matches:
        msg = f"no job matches {prefix!r}{where}"
        raise JobNotFoundError(prefix, cluster, message=msg)
    if len(matches) > 1:
        shown = ", ".join(r.job_id[:12] for r in matches[:5])
        msg = f"job id prefix {prefix!r} is ambiguous{where}: {len(matches)} jobs match ({shown}...)"
        raise JobNotFoundError(prefix, cluster, message=msg)
    return matches[0]


def _where(cluster: str | None, scheduler: str | None) -> str:
    parts = [f"cluster {cluster!r}" if cluster else "", f"scheduler {scheduler!r}" if scheduler else ""]
    shown = " and ".join(p for p in parts if p)
    return f" in {shown}" if shown else ""


def resolve_job_ids(store: JobStore, prefixes: tuple[str, ...], cluster: str | None) -> list[str]:
    """Full job ids for several prefixes (e.g. the targets of ``--after``)."""
    return [resolve_job(store, p, cluster=cluster).job_id for p in prefixes]


def profile_for_cluster(cluster_name: str, config: Path | None) -> MolqProfile | None:
    """The first profile (by name) whose cluster is ``cluster_name``."""
    from molq import load_config

    profiles = load_config(config).profiles
    for name in sorted(profiles):
        if profiles[name].resolved_cluster_name == cluster_name:
            return profiles[name]
    return None


def cluster_for(cluster_name: str, scheduler: str, config: Path | None) -> Cluster:
    """The Cluster named ``cluster_name``: from a matching profile, else a local transport."""
    from molq import Cluster, cluster_from_profile

    profile = profile_for_cluster(cluster_name, config)
    if profile is not None:
        return cluster_from_profile(profile)
    return Cluster(cluster_name, scheduler)


def submitor_for(cluster_name: str, scheduler: str, store: JobStore, config: Path | None) -> Submitor:
    """A Submitor for a cluster seen in the store (profile settings when one matches)."""
    from molq import Submitor

    profile = profile_for_cluster(cluster_name, config)
    if profile is not None:
        return Submitor.from_profile(profile.name, config_path=config, store=store)
    return Submitor(cluster_for(cluster_name, scheduler, config), store=store)


def submitor_for_record(record: JobRecord, store: JobStore, config: Path | None) -> Submitor:
    """A Submitor for the cluster ``record`` belongs to."""
    return submitor_for(record.cluster_name, record.scheduler, store, config)


def clusters_in_store(store: JobStore, *, include_terminal: bool) -> dict[str, str]:
    """``{cluster_name: scheduler}`` for every cluster with (active) jobs in the store."""
    if not include_terminal:
        from molq import active_clusters

        return active_clusters(store)
    found: dict[str, str] = {}
    for record in store.list_records(None, include_terminal=include_terminal):
        found.setdefault(record.cluster_name, record.scheduler)
    return found
