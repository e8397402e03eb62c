"""Python functions as jobs: ``submit_function``, ``map_functions`` and ``as_completed`` (ADR 0034).

``FunctionVerbs`` is the part of Submitor that submits calls; the payload is in
``_function_call``, reading outcomes back in ``_outcomes`` (JobHandle.result()).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from molq.api._function_call import check_runtime, default_python, pickle_call
from molq.core import (
    ConfigError,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    MolqTimeoutError,
    RetryPolicy,
)


if TYPE_CHECKING:
    from molq.api._handle import JobDryRun, JobHandle
    from molq.api._parts import SubmitorParts

_DEPENDENCIES = ("after_started", "after", "after_failure", "after_success")
_OPTIONS = frozenset(
    {"fn_kwargs", "python", "resources", "scheduling", "execution", "metadata", "retry", *_DEPENDENCIES}
    | {"job_dir_name", "max_duration", "dry_run"}
)


class FunctionVerbs:
    """Submitor's verbs for Python functions (a mixin: ``self`` is the Submitor)."""

    @overload
    def submit_function(
        self, fn: Callable[..., Any], /, *args: Any, dry_run: Literal[False] = False, **kwargs: Any
    ) -> JobHandle: ...

    @overload
    def submit_function(self, fn: Callable[..., Any], /, *args: Any, dry_run: Literal[True], **kwargs: Any) -> JobDryRun: ...

    def submit_function(
        self,
        fn: Callable[..., Any],
        /,
        *args: Any,
        fn_kwargs: Mapping[str, Any] | None = None,
        python: str | None = None,
        resources: JobResources | None = None,
        scheduling: JobScheduling | None = None,
        execution: JobExecution | None = None,
        metadata: dict[str, str] | None = None,
        retry: RetryPolicy | None = None,
        after_started: list[str] | None = None,
        after: list[str] | None = None,
        after_failure: list[str] | None = None,
        after_success: list[str] | None = None,
        job_dir_name: str | None = None,
        max_duration: str | Duration | None = None,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> JobHandle | JobDryRun:
        """Run ``fn(*args, **kwargs)`` as a job; ``result()`` on the handle returns its value.

        The keywords listed here are molq's; every other keyword goes to ``fn``. A
        keyword of ``fn`` that has one of molq's names goes in ``fn_kwargs``.

        Args:
            fn: the function (anything cloudpickle can pickle).
            *args: its positional arguments.
            fn_kwargs: keyword arguments for ``fn``, merged with ``**kwargs``.
            python: the interpreter that runs it on the target (default: this one on
                a local transport, ``python3`` on a remote host); probed once per
                cluster for the same Python, molq and cloudpickle versions.
            resources: as for ``submit_job``.
            scheduling: as for ``submit_job``.
            execution: as for ``submit_job``.
            metadata: as for ``submit_job`` (``molq.function`` names the function).
            retry: as for ``submit_job``; a retry runs the same call again.
            after_started: as for ``submit_job``.
            after: as for ``submit_job``.
            after_failure: as for ``submit_job``.
            after_success: as for ``submit_job``.
            job_dir_name: as for ``submit_job``.
            max_duration: as for ``submit_job``.
            dry_run: render the job script and return a `JobDryRun`; nothing is
                pickled to the target, probed, written or submitted.
            **kwargs: keyword arguments for ``fn``.

        Returns:
            A JobHandle, or a JobDryRun when ``dry_run`` is true.

        Raises:
            RuntimeMismatchError: the target's interpreter differs in a version.
            ConfigError: invalid input, or a call that cannot be pickled.
            SchedulerError / TransportError: as ``submit_job``.
        """
        options = {
            "fn_kwargs": _fn_kwargs(fn_kwargs, kwargs), "python": python, "resources": resources,
            "scheduling": scheduling, "execution": execution, "metadata": metadata, "retry": retry,
            "after_started": after_started, "after": after, "after_failure": after_failure,
            "after_success": after_success, "job_dir_name": job_dir_name, "max_duration": max_duration,
            "dry_run": dry_run,
        }
        submitted: JobHandle | JobDryRun = submit_each(cast("SubmitorParts", self), fn, [args], options)[0]
        return submitted

    @overload
    def map_functions(
        self, fn: Callable[..., Any], /, *iterables: Iterable[Any], dry_run: Literal[False] = False, **options: Any
    ) -> list[JobHandle]: ...

    @overload
    def map_functions(
        self, fn: Callable[..., Any], /, *iterables: Iterable[Any], dry_run: Literal[True], **options: Any
    ) -> list[JobDryRun]: ...

    def map_functions(
        self, fn: Callable[..., Any], /, *iterables: Iterable[Any], dry_run: bool = False, **options: Any
    ) -> list[JobHandle] | list[JobDryRun]:
        """Run ``fn`` once per item (``fn(a, b)`` for each pair of two iterables), one job each.

        ``options`` are ``submit_function``'s molq keywords (``fn_kwargs`` goes to
        every call). Returns the handles (or dry runs) in the iterables' order.

        Raises:
            ConfigError: no iterable, iterables of different lengths, or an unknown keyword.
        """
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            msg = f"map_functions takes molq keywords only (pass the function's in fn_kwargs): {', '.join(unknown)}"
            raise ConfigError(msg)
        return submit_each(cast("SubmitorParts", self), fn, zip_calls(iterables), {**options, "dry_run": dry_run})


def _fn_kwargs(given: Mapping[str, Any] | None, loose: dict[str, Any]) -> dict[str, Any]:
    if given is not None and not isinstance(given, dict):
        msg = f"fn_kwargs must be a dict of keyword arguments, got {type(given).__name__}"
        raise ConfigError(msg)
    twice = sorted(set(given or {}) & set(loose))
    if twice:
        msg = f"keyword(s) given both directly and in fn_kwargs: {', '.join(twice)}"
        raise ConfigError(msg)
    return {**(given or {}), **loose}


def submit_each(
    parts: SubmitorParts, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], options: dict[str, Any]
) -> list[Any]:
    """One job per call, in order; every call is pickled (and the target probed) before any is submitted.

    This is where ``map_functions`` becomes one native array job once molq renders
    arrays (issue 16 asks for it); the handles it returns stay the same.

    Raises:
        ConfigError: bad options, or a call that cannot be pickled (nothing submitted).
        RuntimeMismatchError: the target's interpreter differs (nothing submitted).
    """
    from molq.api._submit_job import submit_one
    from molq.api._submit_spec import SubmitRequest, check_retry

    options = dict(options)
    python = options.pop("python", None) or default_python(parts.target)
    if not isinstance(python, str):
        msg = f"python must be the path or name of an interpreter, got {type(python).__name__} {python!r}"
        raise ConfigError(msg)
    fn_kwargs = options.pop("fn_kwargs", None) or {}
    if not isinstance(fn_kwargs, dict):
        msg = f"fn_kwargs must be a dict of keyword arguments, got {type(fn_kwargs).__name__}"
        raise ConfigError(msg)
    retry, dry_run = options.pop("retry", None), bool(options.pop("dry_run", False))
    check_retry(retry)
    deps = {key: options.pop(key, None) for key in _DEPENDENCIES}
    pickled = [pickle_call(fn, call, dict(fn_kwargs), python) for call in calls]
    if not dry_run:
        check_runtime(parts.target, python)
    return [
        submit_one(parts, SubmitRequest(argv=[python], **options), retry=retry, dependencies=deps, dry_run=dry_run, function=one)
        for one in pickled
    ]


def zip_calls(iterables: Sequence[Iterable[Any]]) -> list[tuple[Any, ...]]:
    """The argument tuples of ``map_functions``; every iterable must have the same length.

    Raises:
        ConfigError: no iterable, or iterables of different lengths.
    """
    if not iterables:
        msg = "map_functions needs at least one iterable of arguments"
        raise ConfigError(msg)
    columns = [list(items) for items in iterables]
    lengths = sorted({len(column) for column in columns})
    if len(lengths) > 1:
        msg = f"map_functions needs iterables of one length, got lengths {lengths}"
        raise ConfigError(msg)
    return list(zip(*columns, strict=True))


# -- waiting ------------------------------------------------------------------------------------
def as_completed(handles: Iterable[JobHandle], timeout: float | None = None) -> Iterator[JobHandle]:
    """Yield ``handles`` as their jobs end (following retries), first ended first.

    Waiting is idle: each Submitor's monitor sleeps between polls, or is woken by the
    local runner when a job ends.

    Raises:
        MolqTimeoutError: ``timeout`` seconds passed before every job ended.
    """
    pending = list(dict.fromkeys(handles))
    deadline = None if timeout is None else time.monotonic() + timeout
    while pending:
        groups: dict[int, list[JobHandle]] = {}
        for handle in pending:
            groups.setdefault(id(handle._submitor), []).append(handle)
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        # One group waits for as long as it takes; several take turns a second at a time.
        share = left if len(groups) == 1 else min(1.0, left if left is not None else 1.0)
        for group in groups.values():
            ended = _wait_any(group, share)
            for handle in ended:
                pending.remove(handle)
                yield handle
        if pending and deadline is not None and time.monotonic() >= deadline:
            msg = f"timed out after {timeout:g}s with {len(pending)} function job(s) still running"
            raise MolqTimeoutError(msg)


def _wait_any(group: list[JobHandle], timeout: float | None) -> list[JobHandle]:
    submitor = cast("SubmitorParts", group[0]._submitor)
    try:
        ended = submitor._monitor.wait_any([h.job_id for h in group], timeout=timeout)
    except MolqTimeoutError:
        return []
    for handle in group:
        if handle.job_id in ended:
            handle._take(ended[handle.job_id])
    return [h for h in group if h.job_id in ended]
