"""``Submitor.submit_sweep`` and friends: sweeps over the public API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import attrs

from molq.core import ConfigError, JobRecord, MolqTimeoutError, check_capabilities
from molq.core._sweep import ScalarValue, SweepSpec, expand_matrix
from molq.core._sweep_events import SweepCell, SweepCreated
from molq.core._sweep_state import SweepStatus, cell_created, sweep_status


if TYPE_CHECKING:
    from molq.api._parts import SubmitorParts
    from molq.core import RetryPolicy, Script


@attrs.frozen
class SweepHandle:
    """A reference to a submitted sweep."""

    sweep_id: str
    cluster_name: str
    _submitor: SubmitorParts = attrs.field(repr=False, eq=False, alias="submitor")

    def status(self) -> SweepStatus:
        """The sweep aggregated over its cells, after a reconciliation pass."""
        self._submitor.refresh_jobs()
        return self._submitor.get_sweep(self.sweep_id)

    def wait(self, timeout: float | None = None, *, interval: float = 0.5) -> SweepStatus:
        """Reconcile until the sweep is final; returns its status.

        Raises:
            MolqTimeoutError: ``timeout`` seconds passed first.
        """
        return wait_sweep(self._submitor, self.sweep_id, timeout=timeout, interval=interval)

    def cancel(self) -> SweepStatus:
        """Stop launching cells and cancel the active ones."""
        return cancel_sweep(self._submitor, self.sweep_id)

    def jobs(self) -> list[JobRecord | None]:
        """The latest attempt of every cell, in cell order (None: not launched)."""
        return sweep_jobs(self._submitor, self.sweep_id)


def _template_request(argv: Any, command: Any, script: Any, options: Mapping[str, Any]) -> Any:
    from molq.api._submit_spec import SubmitRequest

    unknown = set(options) - {"resources", "scheduling", "execution", "metadata", "max_duration"}
    if unknown:
        msg = f"submit_sweep got unexpected option(s): {', '.join(sorted(unknown))}"
        raise ConfigError(msg)
    return SubmitRequest(argv=argv, command=command, script=script, **options)


def build_sweep(
    submitor: SubmitorParts,
    *,
    matrix: Mapping[str, Sequence[ScalarValue]],
    args: Mapping[str, ScalarValue] | None,
    max_parallel: int,
    fail_fast: bool,
    argv: Any,
    command: Any,
    script: Any,
    retry: Any,
    options: Mapping[str, Any],
) -> SweepCreated:
    """Validate everything and build the ``sweep.created`` event; nothing is written.

    Raises:
        ConfigError / SpecError: invalid template, matrix or options.
    """
    from molq.core import RetryPolicy

    sweep = SweepSpec(matrix=matrix, max_parallel=max_parallel, fail_fast=fail_fast)
    sweep_id = uuid.uuid4().hex
    spec, job_dir = _template_spec(submitor, _template_request(argv, command, script, options), sweep_id)
    cells = tuple(
        SweepCell(index=i, job_id=uuid.uuid4().hex, args=tuple(cell.items()))
        for i, cell in enumerate(expand_matrix(dict(sweep.matrix), args))
    )
    created = SweepCreated(
        sweep_id=sweep_id,
        at=time.time(),
        cluster_name=submitor.cluster_name,
        scheduler=submitor.target.scheduler,
        spec=spec,
        job_dir=job_dir,
        cells=cells,
        axes=tuple(name for name, _ in sweep.matrix),
        max_parallel=sweep.max_parallel,
        fail_fast=sweep.fail_fast,
        retry=retry or submitor._default_retry or RetryPolicy(),
        profile_name=submitor._profile_name,
    )
    for cell in cells:
        rendered = cell_created(created, cell, now=created.at)
        submitor.target.scheduler_impl.prepare(rendered.spec, rendered.job_dir or "")
    return created


def _template_spec(submitor: SubmitorParts, request: Any, sweep_id: str) -> tuple[Any, str]:
    from molq.api._submit_spec import build_spec
    from molq.shell._script_directives import warn_dropped_directives, with_script_directives

    spec, job_dir = build_spec(
        request,
        submitor._defaults,
        job_id=sweep_id,
        jobs_dir=submitor._jobs_dir,
        local=submitor.target.is_local_transport,
        remote=submitor.target.remote_location(),
    )
    spec = with_script_directives(spec, submitor.target.transport, submitor.target.scheduler)
    check_capabilities(spec, submitor.target.scheduler_impl.capabilities(), submitor.target.scheduler)
    warn_dropped_directives(spec, submitor.target.scheduler, stacklevel=4)  # the caller of submit_sweep
    return spec, job_dir


def submit_sweep(submitor: SubmitorParts, created: SweepCreated) -> SweepHandle:
    """Append ``sweep.created`` and launch the first cells."""
    submitor.store.append(created.sweep_id, [created], expected_version=0, now=time.time())
    from molq.shell._reconcile import ReconcileReport  # lifecycle modules load on first use (ADR 0032)
    from molq.shell._sweeps import advance_sweeps

    advance_sweeps(submitor.reconciler, ReconcileReport(), [created.sweep_id])
    return SweepHandle(created.sweep_id, submitor.cluster_name, submitor=submitor)


def get_sweep_status(submitor: SubmitorParts, sweep_id: str) -> SweepStatus:
    """The stored sweep aggregated over its cells (no reconciliation).

    Raises:
        JobNotFoundError: no such sweep in this cluster.
    """
    from molq.core import JobNotFoundError

    record = submitor.store.get_sweep(sweep_id)
    if record is None or record.cluster_name != submitor.cluster_name:
        msg = f"no sweep {sweep_id!r} in cluster {submitor.cluster_name!r}"
        raise JobNotFoundError(sweep_id, submitor.cluster_name, message=msg)
    from molq.shell._sweeps import cell_states

    return sweep_status(record, cell_states(submitor.store, record))


def cancel_sweep(submitor: SubmitorParts, sweep_id: str) -> SweepStatus:
    """Record the cancel (no pending cell will start), then cancel every active cell."""
    get_sweep_status(submitor, sweep_id)
    from molq.shell._sweeps import cancel_sweep_events

    record = cancel_sweep_events(submitor.store, sweep_id, "cancelled by user", time.time())
    assert record is not None  # noqa: S101 - checked above
    for index in record.launched:
        latest = submitor.store.latest_attempt(record.cells[index].job_id)
        if latest is not None and (not latest.state.is_terminal or latest.next_attempt_job_id):
            submitor.cancel_job(latest.job_id)
    return get_sweep_status(submitor, sweep_id)


def wait_sweep(submitor: SubmitorParts, sweep_id: str, *, timeout: float | None, interval: float) -> SweepStatus:
    """Reconcile until the sweep is final.

    Raises:
        MolqTimeoutError: ``timeout`` seconds passed first.
    """
    start = time.monotonic()
    while True:
        submitor.refresh_jobs()
        status = get_sweep_status(submitor, sweep_id)
        if status.is_final:
            return status
        if timeout is not None and time.monotonic() - start >= timeout:
            msg = f"timed out after {timeout:g}s waiting for sweep {sweep_id} ({status.state}: {dict(status.counts)})"
            raise MolqTimeoutError(msg)
        time.sleep(interval)


def sweep_jobs(submitor: SubmitorParts, sweep_id: str) -> list[JobRecord | None]:
    """The latest attempt of every cell, in cell order."""
    record = get_sweep_status(submitor, sweep_id).record
    return [submitor.store.latest_attempt(cell.job_id) for cell in record.cells]


def list_sweep_statuses(submitor: SubmitorParts, *, include_final: bool = True) -> list[SweepStatus]:
    """Sweeps of the cluster, newest first."""
    from molq.shell._sweeps import cell_states

    statuses = [
        sweep_status(r, cell_states(submitor.store, r))
        for r in submitor.store.list_sweeps(submitor.cluster_name)
    ]
    return [s for s in statuses if include_final or not s.is_final]


def _parts(verbs: SweepVerbs) -> SubmitorParts:
    # The mixin is only ever a base of Submitor, which is a SubmitorParts.
    return cast("SubmitorParts", verbs)


class SweepVerbs:
    """Submitor's sweep verbs (a mixin: the logic is in the functions above)."""

    def submit_sweep(
        self,
        *,
        matrix: Mapping[str, Sequence[Any]],
        args: Mapping[str, Any] | None = None,
        max_parallel: int = 1,
        fail_fast: bool = False,
        argv: list[str] | None = None,
        command: str | None = None,
        script: Script | None = None,
        retry: RetryPolicy | None = None,
        **options: Any,
    ) -> SweepHandle:
        """Run a ``{name}`` template once per matrix cell, at most ``max_parallel`` at a time.

        ``options`` are ``resources``, ``scheduling``, ``execution``, ``metadata`` and
        ``max_duration``, as for ``submit_job``; every cell is an ordinary job.

        Raises:
            ConfigError / SpecError: invalid template, matrix or options (nothing is written).
        """
        created = build_sweep(
            _parts(self), matrix=matrix, args=args, max_parallel=max_parallel, fail_fast=fail_fast,
            argv=argv, command=command, script=script, retry=retry, options=options,
        )
        return submit_sweep(_parts(self), created)

    def get_sweep(self, sweep_id: str) -> SweepStatus:
        """A sweep aggregated over its cells (counts by state, overall state)."""
        return get_sweep_status(_parts(self), sweep_id)

    def list_sweeps(self, *, include_final: bool = True) -> list[SweepStatus]:
        """Sweeps of this cluster, newest first."""
        return list_sweep_statuses(_parts(self), include_final=include_final)

    def cancel_sweep(self, sweep_id: str) -> SweepStatus:
        """Launch no further cell and cancel the active ones."""
        return cancel_sweep(_parts(self), sweep_id)
