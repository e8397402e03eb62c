"""Sweep events: the facts of one sweep, stored in the sweep's own stream.

Rules of this module:
  Rule 1: the same evolution rules as job events (stable dotted tags, defaults on
          new fields, no array_like, no forbid_unknown_fields).
  Rule 2: a sweep's stream is its ``sweep_id``; cells are ordinary job streams whose
          ids are fixed in ``sweep.created``, so two launchers of one cell conflict
          and exactly one wins.
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec

from ._policies import RetryPolicy
from ._spec import JobSpec


ArgValue: TypeAlias = str | int | float | bool


class SweepCell(msgspec.Struct, frozen=True, kw_only=True):
    """One point of the matrix: its index, the job id it runs as, its arguments."""

    index: int
    job_id: str
    args: tuple[tuple[str, ArgValue], ...] = ()


class _SweepEvent(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    sweep_id: str
    at: float


class SweepCreated(_SweepEvent, frozen=True, kw_only=True, tag="sweep.created"):
    """Intent: run the template once per cell, at most ``max_parallel`` at a time."""

    cluster_name: str
    scheduler: str
    spec: JobSpec
    job_dir: str
    cells: tuple[SweepCell, ...]
    axes: tuple[str, ...] = ()
    max_parallel: int = 1
    fail_fast: bool = False
    retry: RetryPolicy = msgspec.field(default_factory=RetryPolicy)
    profile_name: str | None = None


class SweepCellLaunched(_SweepEvent, frozen=True, kw_only=True, tag="sweep.cell_launched"):
    """Cell ``index`` is being submitted as job ``job_id`` (intent; the job stream follows)."""

    index: int
    job_id: str


class SweepCancelRequested(_SweepEvent, frozen=True, kw_only=True, tag="sweep.cancel_requested"):
    """A user cancelled the sweep: no further cell starts, active cells are cancelled."""

    reason: str | None = None


class SweepStopped(_SweepEvent, frozen=True, kw_only=True, tag="sweep.stopped"):
    """The sweep stopped launching cells (``fail_fast`` after a failed cell)."""

    reason: str


SweepEvent: TypeAlias = SweepCreated | SweepCellLaunched | SweepCancelRequested | SweepStopped
