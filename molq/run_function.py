"""Run one pickled Python function as a job body: ``python -m molq.run_function <payload>``.

``Submitor.submit_function`` writes ``<payload>`` into the first attempt's job dir and
renders this command into the job script. This module unpickles the call, runs it, and
writes the outcome (the return value, or the exception with its traceback) as
``function_result.pkl`` into this attempt's job dir (``$MOLQ_JOB_DIR``), plus a
summary through ``molq.context().save_result`` so the log records its hash, size and
type. It exits 0 when the function returned and 1 when it raised, so a retry policy
runs the same call again.

It imports little on purpose: it is the start-up cost of every function job.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from typing import Any


PAYLOAD_FILE = "function.pkl"
RESULT_FILE = "function_result.pkl"
SUMMARY_KEY = "function_result"
CONTEXT_RESULT_FILE = "result.json"  # molq.core._context.RESULT_FILE, read into job.result_saved
INLINE_LIMIT = 2048  # bytes of pickled outcome kept inline in the log (base64)
REPR_LIMIT = 200


def versions(*, cloudpickle: bool = True) -> dict[str, str]:
    """The versions a payload and its runner must share: Python (X.Y), molq, and cloudpickle.

    ``cloudpickle=False`` leaves cloudpickle out: a call pickled by reference only (a
    function of an importable module, say) is read back without importing it.
    """
    from molq._version import VERSION  # the code running here, not an install's metadata

    found = {"python": f"{sys.version_info[0]}.{sys.version_info[1]}", "molq": VERSION}
    if cloudpickle:
        import cloudpickle as module

        found["cloudpickle"] = str(module.__version__)
    return found


def header_for(body: bytes) -> dict[str, str]:
    """The versions ``body`` needs: cloudpickle's only when the stream names it.

    A pickle names every module it imports from, so a body that never mentions
    cloudpickle does not need it to be read (a false mention only costs an import).
    """
    return versions(cloudpickle=b"cloudpickle" in body)


def _load(path: str) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    """The call stored at ``path``: a plain-pickle header of versions, then the pickled call."""
    with open(path, "rb") as handle:
        header = pickle.load(handle)  # noqa: S301 - molq wrote this file for this job
        here = versions(cloudpickle="cloudpickle" in header)
        if header != here:
            from molq.core import RuntimeMismatchError

            msg = f"this function job was pickled under {header} but runs under {here}"
            raise RuntimeMismatchError(msg, expected=header, found=here)
        fn, args, kwargs = pickle.load(handle)  # noqa: S301 - as above
    return fn, args, kwargs


def _outcome(path: str) -> tuple[str, object, str | None]:
    """Run the call; ("value", value, None) or ("exception", exc, traceback text)."""
    try:
        fn, args, kwargs = _load(path)
        return "value", fn(*args, **kwargs), None
    except BaseException as exc:  # every outcome is reported, even SystemExit
        import traceback

        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        text = "".join(traceback.format_exception(type(exc), exc, tb))
        if not isinstance(exc, Exception):  # SystemExit, KeyboardInterrupt: must not end the caller
            return "exception", RuntimeError(f"the function raised {type(exc).__name__}({exc})"), text
        return "exception", exc, text


def _dump(kind: str, value: object, text: str | None) -> tuple[str, object, bytes]:
    """Pickle the outcome; an unpicklable value or exception becomes a picklable error.

    Plain pickle first when cloudpickle was not needed for the call (it is not imported
    then); cloudpickle when that fails or is loaded anyway.
    """
    if "cloudpickle" not in sys.modules:
        try:
            blob = pickle.dumps((kind, value, text), protocol=pickle.HIGHEST_PROTOCOL)
            if kind == "exception":
                pickle.loads(blob)  # noqa: S301 - an exception class may pickle but not unpickle
        except Exception:  # noqa: S110 - cloudpickle gets its chance below
            pass
        else:
            return kind, value, blob
    import cloudpickle

    try:
        blob = cloudpickle.dumps((kind, value, text))
        if kind == "exception":
            pickle.loads(blob)  # noqa: S301 - an exception class may pickle but not unpickle
    except Exception as exc:
        what = "return value" if kind == "value" else f"exception {type(value).__name__}: {value}"
        error = TypeError(f"the function job's {what} cannot be pickled: {type(exc).__name__}: {exc}")
        return "exception", error, cloudpickle.dumps(("exception", error, text or ""))
    return kind, value, blob


def summary(kind: str, value: object, blob: bytes) -> dict[str, object]:
    """What the log records about an outcome: kind, type, sha256, size, repr; inline when small."""
    import base64

    kind_of = type(value)
    try:
        shown = repr(value)
    except Exception as exc:
        shown = f"<repr failed: {type(exc).__name__}>"
    return {
        "outcome": kind,
        "type": f"{kind_of.__module__}.{kind_of.__qualname__}",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "size": len(blob),
        "repr": shown[:REPR_LIMIT],
        "inline": base64.b64encode(blob).decode() if len(blob) <= INLINE_LIMIT else None,
    }


def save_summary(job_dir: str, data: dict[str, object]) -> None:
    """Save ``{"function_result": data}`` as ``molq.context().save_result`` would.

    Written here rather than through ``molq.context()``: importing ``molq.core`` would
    cost every function job more start-up time than running a trivial function.
    """
    import json
    import time

    path = os.path.join(job_dir, CONTEXT_RESULT_FILE)
    try:
        with open(path, "rb") as handle:
            seq = int(json.load(handle).get("seq", 0)) + 1
    except (OSError, ValueError, AttributeError, TypeError):
        seq = 1
    text = json.dumps({"seq": seq, "at": time.time(), "data": {SUMMARY_KEY: data}}, separators=(",", ":"))
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def run(payload: str) -> int:
    """Run the call in ``payload``; write its outcome; return the exit code (0 value, 1 exception)."""
    job_dir = os.environ.get("MOLQ_JOB_DIR") or os.path.dirname(payload)
    kind, value, blob = _dump(*_outcome(payload))
    tmp = os.path.join(job_dir, f".{RESULT_FILE}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(blob)
    os.replace(tmp, os.path.join(job_dir, RESULT_FILE))
    if os.environ.get("MOLQ_JOB_ID"):
        save_summary(job_dir, summary(kind, value, blob))
    if kind == "exception":
        sys.stderr.write(f"molq: the function raised {type(value).__name__}: {value}\n")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python -m molq.run_function <payload>``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m molq.run_function <payload file>\n")
        return 2
    return run(args[0])


if __name__ == "__main__":
    sys.exit(main())
