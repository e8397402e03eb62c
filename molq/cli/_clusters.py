"""``molq clusters list|show``: clusters from the config file and from the store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import click
from rich.table import Table

from molq import ConfigError
from molq.cli._common import db_option, echo, with_existing_store
from molq.dashboard._format import out
from molq.dashboard._text import markup


if TYPE_CHECKING:
    from molq import JobStore, MolqProfile

config_option = click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file with profiles."
)


@attrs.frozen
class ClusterInfo:
    """What molq knows about one cluster name."""

    name: str
    scheduler: str
    profile: MolqProfile | None
    counts: dict[str, int]


def known_clusters(store: JobStore, config: Path | None) -> dict[str, ClusterInfo]:
    """Every cluster named by a profile or by a job in the store."""
    from molq import load_config

    counts: dict[str, Counter[str]] = {}
    schedulers: dict[str, str] = {}
    for record in store.list_records(None, include_terminal=True, include_archived=True):
        counts.setdefault(record.cluster_name, Counter())[record.state.value] += 1
        schedulers.setdefault(record.cluster_name, record.scheduler)
    found: dict[str, ClusterInfo] = {}
    for profile in sorted(load_config(config).profiles.values(), key=lambda p: p.name):
        name = profile.resolved_cluster_name
        if name not in found:
            found[name] = ClusterInfo(name, profile.scheduler, profile, dict(counts.get(name, {})))
    for name, scheduler in schedulers.items():
        if name not in found:
            found[name] = ClusterInfo(name, scheduler, None, dict(counts[name]))
    return dict(sorted(found.items()))


def _active(info: ClusterInfo) -> int:
    return sum(
        n for state, n in info.counts.items() if state in {"created", "submitted", "queued", "running"}
    )


@click.group("clusters")
def clusters() -> None:
    """Clusters from your profiles and from recorded jobs."""


@clusters.command("list")
@config_option
@db_option
@with_existing_store
def list_clusters(store: JobStore, config: Path | None) -> None:
    """One row per cluster: scheduler, host, profile and job counts."""
    infos = known_clusters(store, config)
    if not infos:
        echo("No clusters yet: no profiles in the config file and no recorded jobs.")
        return
    table = Table(header_style="bold")
    for column in ("CLUSTER", "SCHEDULER", "HOST", "PROFILE", "ACTIVE", "JOBS"):
        table.add_column(column)
    for info in infos.values():
        host = (info.profile.host if info.profile else None) or "(this machine)"
        profile = info.profile.name if info.profile else "-"
        table.add_row(
            *(markup(v) for v in (info.name, info.scheduler, host, profile)),
            str(_active(info)),
            str(sum(info.counts.values())),
        )
    out().print(table)


def _profile_lines(profile: MolqProfile) -> list[tuple[str, str]]:
    rows = [
        ("profile", profile.name),
        ("host", profile.host or "(this machine)"),
        ("jobs dir", profile.jobs_dir or "-"),
    ]
    for label, value in (
        ("defaults", profile.defaults),
        ("retry", profile.retry),
        ("retention", profile.retention),
    ):
        rows.append((label, repr(value) if value is not None else "-"))
    if profile.scheduler_options:
        rows.append(("scheduler options", repr(profile.scheduler_options)))
    return rows


@clusters.command("show")
@click.argument("name")
@config_option
@db_option
@with_existing_store
def show_cluster(store: JobStore, name: str, config: Path | None) -> None:
    """Details of cluster NAME: its profile and its jobs by state."""
    from molq.cli._jobs import print_pairs

    infos = known_clusters(store, config)
    info = infos.get(name)
    if info is None:
        known = ", ".join(infos) or "none"
        msg = f"no cluster named {name!r} (known clusters: {known})"
        raise ConfigError(msg)
    rows = [("cluster", info.name), ("scheduler", info.scheduler)]
    rows += (
        _profile_lines(info.profile)
        if info.profile
        else [("profile", "- (jobs submitted without a profile)")]
    )
    by_state = ", ".join(f"{state} {n}" for state, n in sorted(info.counts.items())) or "none"
    rows.append(("jobs", f"{sum(info.counts.values())} ({by_state})"))
    print_pairs(rows)


COMMANDS = [clusters]
