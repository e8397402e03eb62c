"""``molq workspace sync|list``: rsync a project to a cluster and list remote workspaces."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.table import Table

from molq import TransportError
from molq.cli._common import echo
from molq.dashboard._format import out
from molq.dashboard._text import markup


F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from molq import Cluster, Transport

_LIST_DIRS = 'cd || exit 2; cd -- "$1" 2>/dev/null || exit 3; for d in */; do [ -d "$d" ] && printf "%s\\n" "${d%/}"; done'


def target_cluster(cluster: str | None, profile: str | None, config: Path | None) -> Cluster:
    """The cluster to sync with: a profile's, a named one, or this machine."""
    from molq import Cluster, cluster_from_profile, load_profile
    from molq.cli._common import cluster_for

    if profile is not None and cluster is not None:
        msg = "give either --cluster or --profile, not both"
        raise click.UsageError(msg)
    if profile is not None:
        return cluster_from_profile(load_profile(profile, config))
    if cluster is not None:
        return cluster_for(cluster, "local", config)
    return Cluster("local", "local")


@click.group("workspace")
def workspace() -> None:
    """Copy a local project to a cluster (rsync) and list remote workspaces."""


def _options(func: F) -> F:
    func = click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="Config file.")(
        func
    )
    func = click.option("--profile", metavar="NAME", help="Use this profile's cluster (host).")(func)
    return click.option("--cluster", metavar="NAME", help="Cluster (a profile's cluster name).")(func)


@workspace.command("sync")
@click.argument("local", type=click.Path(exists=True, path_type=Path), default=".")
@click.option("--remote", metavar="PATH", help="Remote directory (default: ~/molq-workspaces/<project>).")
@click.option("--pull", is_flag=True, help="Copy remote to local instead.")
@click.option("--delete/--no-delete", default=None, help="Delete files missing on the source side.")
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@click.option("--force", is_flag=True, help="Take over a workspace owned by another machine or checkout.")
@_options
def sync(
    local: Path,
    remote: str | None,
    pull: bool,
    delete: bool | None,
    dry_run: bool,
    force: bool,
    cluster: str | None,
    profile: str | None,
    config: Path | None,
) -> int:
    """Push LOCAL (default: the current directory) to the cluster, or --pull it back."""
    from molq import SyncClient, default_remote_path

    target = target_cluster(cluster, profile, config)
    client = SyncClient(target.transport)
    remote = remote or default_remote_path(local)
    if pull:
        result = client.pull(remote, local, delete=bool(delete), dry_run=dry_run, itemize=True)
    else:
        result = client.push(
            local, remote, delete=delete is not False, dry_run=dry_run, itemize=True, force=force
        )
    arrow = f"{remote} -> {local}" if pull else f"{local} -> {remote}"
    if not result.ok:
        msg = f"rsync failed ({result.returncode}) for {arrow}: {result.stderr.strip()}"
        raise click.ClickException(msg)
    for line in result.changes:
        echo(f"  {line}")
    verb = "Would sync" if dry_run else "Synced"
    echo(f"{verb} {arrow} on {target.name} ({len(result.changes)} change(s))")
    return 0


def remote_dirs(transport: Transport, root: str) -> list[str] | None:
    """Sub-directories of ``root`` on the transport's side (``~/`` = home); None if missing."""
    rel = "." if root == "~" else root[2:] if root.startswith("~/") else root
    done = transport.run(["sh", "-c", _LIST_DIRS, "sh", rel])
    if done.returncode == 3:
        return None
    if not done.ok:
        msg = f"cannot list {root}: {done.stderr.strip()}"
        raise TransportError(msg)
    return sorted(line for line in done.stdout.split("\n") if line)


def owner_of(marker_text: str | None) -> dict[str, str] | None:
    """The owner marker's ``machine_id``/``user``/``path``, or None if absent or unreadable."""
    try:
        data = json.loads(marker_text) if marker_text else None
    except ValueError:
        return None
    keys = ("machine_id", "user", "path")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in keys):
        return None
    return {k: data[k] for k in keys}


@workspace.command("list")
@click.option("--root", default="~/molq-workspaces", show_default=True, help="Where workspaces live.")
@_options
def list_workspaces(root: str, cluster: str | None, profile: str | None, config: Path | None) -> None:
    """List the workspaces under --root on the cluster, with who owns each."""
    from molq import WORKSPACE_OWNER_FILE, SyncClient

    target = target_cluster(cluster, profile, config)
    names = remote_dirs(target.transport, root)
    if not names:
        echo(f"No workspaces under {root} on {target.name}.")
        return
    client = SyncClient(target.transport)
    table = Table(header_style="bold")
    for column in ("WORKSPACE", "OWNER", "LOCAL CHECKOUT"):
        table.add_column(column)
    for name in names:
        owner = owner_of(client.read_remote_file(f"{root.rstrip('/')}/{name}/{WORKSPACE_OWNER_FILE}"))
        who = f"{owner['user']}@{owner['machine_id'][:12]}" if owner else "-"
        table.add_row(markup(f"{root.rstrip('/')}/{name}"), markup(who), markup(owner["path"] if owner else "-"))
    out().print(table)


COMMANDS = [workspace]
