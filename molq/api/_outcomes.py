"""Reading a function job's outcome back: the value, the re-created exception, or a typed error (ADR 0034).

The outcome file is read through the Transport (so over SSH it comes back through it),
checked against the sha256 the log recorded, and unpickled here; a small outcome is
also kept inline in the log and survives cleanup.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
from typing import TYPE_CHECKING, Any

from molq.api._function_call import FUNCTION_KEY
from molq.core import (
    ConfigError,
    JobFailedError,
    JobRecord,
    JobState,
    MolqError,
    RemoteTraceback,
    ResultUnavailableError,
    Transport,
    TransportError,
)
from molq.run_function import RESULT_FILE, SUMMARY_KEY


if TYPE_CHECKING:
    from molq.shell.store._store import JobStore


def outcome_of(store: JobStore, transport: Transport, record: JobRecord) -> BaseException | None:
    """The exception ``result()`` raises for the final ``record`` (None when it returned a value)."""
    try:
        value_of(store, transport, record)
    except MolqError as exc:
        if isinstance(exc, ConfigError | ResultUnavailableError):
            raise
        return exc
    except BaseException as exc:
        return exc
    return None


def value_of(store: JobStore, transport: Transport, record: JobRecord) -> Any:
    """The value the function returned; raises its exception, or a typed error.

    Raises:
        ConfigError: the job did not run a Python function.
        JobFailedError: it ended without an outcome (killed, timed out, lost, cancelled).
        ResultUnavailableError: the outcome was recorded but cannot be read back.
    """
    if FUNCTION_KEY not in record.metadata:
        msg = f"job {record.job_id} did not run a Python function (submit it with submit_function)"
        raise ConfigError(msg)
    known = recorded_summary(store, record.job_id)
    blob = _read_outcome(transport, record)
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


def recorded_summary(store: JobStore, job_id: str) -> dict[str, Any] | None:
    """The newest outcome summary the log holds for attempt ``job_id`` (hash, size, type, ...)."""
    found = None
    for recorded in store.events_of_type([job_id], "job.result_saved"):
        try:
            data = json.loads(getattr(recorded.event, "data", ""))
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get(SUMMARY_KEY), dict):
            found = data[SUMMARY_KEY]
    return found
