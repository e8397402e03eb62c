"""One reconciliation pass as its helpers see it: the report it fills, and the reconciler's parts.

Job context, duration limits and sweeps are steps of a pass that live in their own modules.
They take a ``ReconcilePass`` (a protocol the JobReconciler satisfies) rather than the class,
so ``_reconcile`` imports them and none of them imports ``_reconcile`` back (ADR: layout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import attrs


if TYPE_CHECKING:
    from molq.core import Command, JobRecord, Scheduler, StatusTransition, Transport
    from molq.shell.store._store import JobStore


@attrs.define
class ReconcileReport:
    """What one reconciliation pass did."""

    transitions: list[StatusTransition] = attrs.Factory(list)
    retries_created: list[str] = attrs.Factory(list)
    errors: list[str] = attrs.Factory(list)
    polled: int = 0
    cancels_resent: list[str] = attrs.Factory(list)  # job ids whose unheeded cancel was sent again


class ReconcilePass(Protocol):
    """What a step of a pass uses of the reconciler: where it reads and writes, and how it applies a command."""

    store: JobStore
    scheduler: Scheduler
    cluster_name: str
    transport: Transport
    clock: Callable[[], float]

    def apply(self, record: JobRecord, command: Command, report: ReconcileReport) -> None:
        """Decide ``command`` on ``record``, append the events, and note them in ``report``."""
