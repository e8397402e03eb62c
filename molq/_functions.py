"""Python functions as jobs: submit a call, read back its value or its exception (ADR: func).

The call is cloudpickled into the first attempt's job dir (through the Transport, so
over SSH it is uploaded) and run by ``python -m molq.run_function <payload>`` inside
the rendered job script; retries run the same payload again. The target interpreter
is probed once per cluster before the first submission, so a Python, molq or
cloudpickle version mismatch is a RuntimeMismatchError here, not a pickle error on a
node. Outcomes are read back through the Transport as well.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from molq.core import (
    ConfigError,
    JobFailedError,
    JobRecord,
    JobSpec,
    JobState,
    MolqError,
    MolqTimeoutError,
    RemoteTraceback,
    ResultUnavailableError,
    RuntimeMismatchError,
    Transport,
    TransportError,
)
from molq.run_function import PAYLOAD_FILE, RESULT_FILE, SUMMARY_KEY, header_for, versions


if TYPE_CHECKING:
    from molq._app import JobDryRun, JobHandle, Submitor
    from molq._cluster import Cluster

FUNCTION_KEY = "molq.function"  # metadata: the function's qualified name; marks a function job
_PROBE = (
    "import json, sys\n"
    "found = {'python': '%d.%d' % sys.version_info[:2], 'molq': '', 'cloudpickle': ''}\n"
    "try:\n from molq._version import VERSION; found['molq'] = VERSION\nexcept Exception: pass\n"
    "try:\n import cloudpickle; found['cloudpickle'] = str(cloudpickle.__version__)\nexcept Exception: pass\n"
    "print(json.dumps(found))\n"
)
_PROBED: weakref.WeakKeyDictionary[Cluster, dict[str, dict[str, str]]] = weakref.WeakKeyDictionary()


@attrs.frozen
class FunctionCall:
    """One pickled call and the interpreter that runs it; binds a job spec to it."""

    python: str
    name: str
    blob: bytes = attrs.field(repr=False)

    def bind(self, spec: JobSpec, job_dir: str) -> JobSpec:
        """``spec`` running this call from ``<job_dir>/function.pkl``."""
        argv = (self.python, "-m", "molq.run_function", f"{job_dir}/{PAYLOAD_FILE}")
        return attrs.evolve(spec, argv=argv, metadata={**spec.metadata, FUNCTION_KEY: self.name})

    def write(self, transport: Transport, job_dir: str) -> None:
        """Store the payload in the job dir (uploaded over SSH) before the job is submitted."""
        transport.write_bytes(f"{job_dir}/{PAYLOAD_FILE}", self.blob)


def pickle_call(fn: object, args: tuple[Any, ...], kwargs: dict[str, Any], python: str) -> FunctionCall:
    """Pickle ``fn(*args, **kwargs)`` behind a plain-pickle header of the versions it needs.

    Raises:
        ConfigError: ``fn`` is not callable, or the call cannot be pickled.
    """
    if not callable(fn):
        msg = f"submit_function needs a callable, got {type(fn).__name__} {fn!r}"
        raise ConfigError(msg)
    import cloudpickle

    try:
        body = cloudpickle.dumps((fn, args, kwargs))
    except Exception as exc:
        msg = f"cannot pickle the call to {_name(fn)}: {type(exc).__name__}: {exc}"
        raise ConfigError(msg) from exc
    return FunctionCall(python=python, name=_name(fn), blob=pickle.dumps(header_for(body)) + body)


def _name(fn: object) -> str:
    module = getattr(fn, "__module__", None) or "?"
    return f"{module}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def default_python(cluster: Cluster) -> str:
    """This interpreter on a local transport (shared file systems); ``python3`` on a remote host."""
    return sys.executable if cluster.is_local_transport else "python3"


def check_runtime(cluster: Cluster, python: str) -> None:
    """Refuse a target interpreter that cannot run this process's pickles (probed once per cluster).

    Raises:
        RuntimeMismatchError: a version differs, or molq/cloudpickle is missing there.
        TransportError: the interpreter could not be run.
    """
    if cluster.is_local_transport and python == sys.executable:
        return  # this very interpreter
    probed = _PROBED.setdefault(cluster, {})
    if python not in probed:
        probed[python] = _probe(cluster, python)
    expected, found = versions(), probed[python]
    differs = [k for k in ("python", "molq", "cloudpickle") if found.get(k) != expected[k]]
    if differs:
        told = ", ".join(f"{k} {found.get(k) or 'missing'} (here {expected[k]})" for k in differs)
        msg = (
            f"{python} on cluster {cluster.name!r} cannot run function jobs pickled here: {told}; "
            "install the same versions there or pass python= an interpreter that has them"
        )
        raise RuntimeMismatchError(msg, expected=expected, found=found)


def _probe(cluster: Cluster, python: str) -> dict[str, str]:
    done = cluster.transport.run([python, "-c", _PROBE], timeout=60)
    lines = done.stdout.strip().splitlines()
    try:
        found = json.loads(lines[-1]) if done.ok and lines else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        msg = f"cannot run {python} on cluster {cluster.name!r} (exit {done.returncode}): {done.stderr.strip()[:300]}"
        raise TransportError(msg)
    return {str(k): str(v) for k, v in found.items()}


# -- submission -------------------------------------------------------------------------------------
def submit_call(
    submitor: Submitor, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], options: dict[str, Any]
) -> JobHandle | JobDryRun:
    """Submit one call; ``options`` are ``submit_function``'s molq keywords."""
    submitted: JobHandle | JobDryRun = submit_each(submitor, fn, [args], {**options, "fn_kwargs": kwargs})[0]
    return submitted


def submit_each(
    submitor: Submitor, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], options: dict[str, Any]
) -> list[Any]:
    """One job per call, in order; every call is pickled (and the target probed) before any is submitted.

    This is where ``map_functions`` becomes one native array job once molq renders
    arrays (issue 16 asks for it); the handles it returns stay the same.

    Raises:
        ConfigError: bad options, or a call that cannot be pickled (nothing submitted).
        RuntimeMismatchError: the target's interpreter differs (nothing submitted).
    """
    from molq._submit_spec import SubmitRequest

    options = dict(options)
    python = options.pop("python", None) or default_python(submitor.target)
    if not isinstance(python, str):
        msg = f"python must be the path or name of an interpreter, got {type(python).__name__} {python!r}"
        raise ConfigError(msg)
    fn_kwargs = options.pop("fn_kwargs", None) or {}
    if not isinstance(fn_kwargs, dict):
        msg = f"fn_kwargs must be a dict of keyword arguments, got {type(fn_kwargs).__name__}"
        raise ConfigError(msg)
    retry, dry_run = options.pop("retry", None), bool(options.pop("dry_run", False))
    deps = {key: options.pop(key, None) for key in ("after_started", "after", "after_failure", "after_success")}
    pickled = [pickle_call(fn, call, dict(fn_kwargs), python) for call in calls]
    if not dry_run:
        check_runtime(submitor.target, python)
    return [
        submitor._submit(SubmitRequest(argv=[python], **options), retry=retry, deps=deps, dry_run=dry_run, function=one)
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


# -- outcomes -----------------------------------------------------------------------------------
def outcome_of(submitor: Submitor, record: JobRecord) -> BaseException | None:
    """The exception ``result()`` raises for the final ``record`` (None when it returned a value)."""
    try:
        value_of(submitor, record)
    except MolqError as exc:
        if isinstance(exc, ConfigError | ResultUnavailableError):
            raise
        return exc
    except BaseException as exc:
        return exc
    return None


def value_of(submitor: Submitor, record: JobRecord) -> Any:
    """The value the function returned; raises its exception, or a typed error.

    Raises:
        ConfigError: the job did not run a Python function.
        JobFailedError: it ended without an outcome (killed, timed out, lost, cancelled).
        ResultUnavailableError: the outcome was recorded but cannot be read back.
    """
    if FUNCTION_KEY not in record.metadata:
        msg = f"job {record.job_id} did not run a Python function (submit it with submit_function)"
        raise ConfigError(msg)
    known = recorded_summary(submitor, record.job_id)
    blob = _read_outcome(submitor.target.transport, record)
    if blob is None and known is not None and known.get("inline"):
        blob = base64.b64decode(str(known["inline"]))
    if blob is None:
        if known is not None or record.state is JobState.SUCCEEDED:
            msg = f"the outcome of job {record.job_id} is gone from {record.metadata.get('molq.job_dir')} (cleaned?)"
            raise ResultUnavailableError(msg)
        raise _failed(record)
    if known is not None and hashlib.sha256(blob).hexdigest() != known.get("sha256"):
        msg = f"the outcome file of job {record.job_id} does not match the sha256 recorded in the log"
        raise ResultUnavailableError(msg)
    kind, value, text = _unpickle(blob, record.job_id)
    if kind == "value":
        return value
    if text:
        value.__cause__ = RemoteTraceback(text)
    raise value


def _unpickle(blob: bytes, job_id: str) -> tuple[str, Any, str | None]:
    try:
        kind, value, text = pickle.loads(blob)  # noqa: S301 - written by our own job
    except Exception as exc:
        msg = f"cannot unpickle the outcome of job {job_id} here: {type(exc).__name__}: {exc}"
        raise ResultUnavailableError(msg) from exc
    return kind, value, text


def _read_outcome(transport: Transport, record: JobRecord) -> bytes | None:
    path = f"{record.metadata.get('molq.job_dir')}/{RESULT_FILE}"
    try:
        return transport.read_bytes(path)
    except TransportError:
        if transport.exists(path):
            raise
        return None


def _failed(record: JobRecord) -> JobFailedError:
    why = f": {record.failure_reason}" if record.failure_reason else ""
    code = "" if record.exit_code is None else f" (exit code {record.exit_code})"
    msg = f"function job {record.job_id} ended {record.state.name} without a Python outcome{code}{why}"
    return JobFailedError(
        msg,
        job_id=record.job_id,
        state=record.state.name,
        exit_code=record.exit_code,
        reason=record.failure_reason,
    )


def recorded_summary(submitor: Submitor, job_id: str) -> dict[str, Any] | None:
    """The newest outcome summary the log holds for attempt ``job_id`` (hash, size, type, ...)."""
    found = None
    for recorded in submitor.store.events_of_type([job_id], "job.result_saved"):
        try:
            data = json.loads(getattr(recorded.event, "data", ""))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get(SUMMARY_KEY), dict):
            found = data[SUMMARY_KEY]
    return found


# -- waiting ------------------------------------------------------------------------------------
def as_completed(handles: Iterable[JobHandle], timeout: float | None = None) -> Iterator[JobHandle]:
    """Yield ``handles`` as their jobs end (following retries), first ended first.

    Waiting is idle: each Submitor's monitor sleeps between polls, or is woken by the
    local runner when a job ends.

    Raises:
        MolqTimeoutError: ``timeout`` seconds passed before every job ended.
    """
    import time

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
    submitor = group[0]._submitor
    try:
        ended = submitor._monitor.wait_any([h.job_id for h in group], timeout=timeout)
    except MolqTimeoutError:
        return []
    for handle in group:
        if handle.job_id in ended:
            handle._take(ended[handle.job_id])
    return [h for h in group if h.job_id in ended]
