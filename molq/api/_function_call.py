"""One pickled call: the payload a function job runs, and the check that its target can run it (ADR 0034).

The call is cloudpickled behind a plain-pickle header of the versions it needs and written
into the first attempt's job dir through the Transport (uploaded over SSH). The target
interpreter is probed once per cluster, so a Python, molq or cloudpickle mismatch is a
RuntimeMismatchError before submission, not an unpickling error on a node.
"""

from __future__ import annotations

import json
import pickle
import sys
import weakref
from typing import TYPE_CHECKING, Any

import attrs

from molq.core import ConfigError, JobSpec, RuntimeMismatchError, Transport, TransportError
from molq.run_function import PAYLOAD_FILE, header_for, versions


if TYPE_CHECKING:
    from molq.api._cluster import Cluster

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
