"""``--profile NAME`` on commands that reach a cluster: it names the cluster, as upstream molq's CLI."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click


F = TypeVar("F", bound=Callable[..., Any])


def profile_option(func: F) -> F:
    """Add ``--profile NAME``: the profile's cluster becomes ``--cluster`` (and must agree with it)."""

    @functools.wraps(func)
    def wrapper(*args: Any, profile: str | None, **kwargs: Any) -> Any:
        if profile is not None:
            from molq import load_profile

            cluster = load_profile(profile, kwargs.get("config")).resolved_cluster_name
            if kwargs.get("cluster") not in (None, cluster):
                msg = f"--profile {profile} is cluster {cluster!r}, but --cluster says {kwargs['cluster']!r}"
                raise click.UsageError(msg)
            kwargs["cluster"] = cluster
        return func(*args, **kwargs)

    option = click.option("--profile", metavar="NAME", default=None, help="Use this profile's cluster (and settings).")
    return option(wrapper)  # type: ignore[return-value]
