"""Start-up (issue 20, item 5): ``from molq import Submitor, Cluster`` against ``import submitit``.

Both run in fresh interpreters of the same Python, interleaved round by round (this
VM drifts between minutes): molq from the project's environment, submitit from
``bench/.venv`` (never a molq dependency). ``python -c pass`` of each environment is
measured too, so the interpreter's own start can be told apart.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


MOLQ = "from molq import Submitor, Cluster"
PEER = "import submitit"
# Import and a first object that can submit: molq defers its lifecycle modules to the
# first Submitor (ADR 0032), so this is where they are paid.
MOLQ_FIRST = (
    "from molq import Submitor, Cluster, JobStore; import tempfile, os; d = tempfile.mkdtemp(); "
    "Submitor(Cluster('b', 'local'), store=JobStore(os.path.join(d, 'j.db')), jobs_dir=d)"
)
PEER_FIRST = "import submitit, tempfile; submitit.AutoExecutor(folder=tempfile.mkdtemp(), cluster='local')"
_TIMED = (
    "import time; t, c = time.perf_counter(), time.process_time(); {}; "
    "print(time.perf_counter() - t, time.process_time() - c)"
)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Bytecode caches on, as an installed package has them (pip compiles submitit's at install)."""


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=ENV)
    return time.perf_counter() - start


def _inner(python: str, statement: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``statement`` inside a fresh interpreter."""
    out = subprocess.run([python, "-c", _TIMED.format(statement)], check=True, capture_output=True, text=True, env=ENV)
    wall, cpu = out.stdout.split()[-2:]
    return float(wall), float(cpu)


def peer_unavailable(peer_python: Path) -> str | None:
    """Why submitit cannot be imported from ``peer_python``, or None."""
    if not peer_python.exists():
        return f"{peer_python} does not exist (a full run creates bench/.venv)"
    done = subprocess.run([str(peer_python), "-c", PEER], capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else f"submitit does not import: {done.stderr.strip()[-200:]}"


def startup(peer_python: Path, rounds: int) -> dict[str, Any]:
    """Import times of molq and submitit over ``rounds`` interleaved rounds (medians).

    The judge is ``import_cpu_ratio``: CPU seconds of the import in a fresh interpreter,
    which other work on a shared 2-core VM disturbs far less than wall time (there, wall
    ratios of single rounds range from 0.6 to 2.0). Wall times are reported beside it.
    """
    names = ("molq", "peer", "pass", "peer_pass")
    walls: dict[str, list[float]] = {k: [] for k in names}
    inner: dict[str, list[tuple[float, float]]] = {k: [] for k in ("molq", "peer", "molq_first", "peer_first")}
    peer = str(peer_python)
    _wall([sys.executable, "-c", MOLQ_FIRST])  # writes molq's bytecode caches if they are missing
    for _ in range(rounds):
        walls["molq"].append(_wall([sys.executable, "-c", MOLQ]))
        walls["peer"].append(_wall([peer, "-c", PEER]))
        inner["molq"].append(_inner(sys.executable, MOLQ))
        inner["peer"].append(_inner(peer, PEER))
        inner["molq_first"].append(_inner(sys.executable, MOLQ_FIRST))
        inner["peer_first"].append(_inner(peer, PEER_FIRST))
        walls["pass"].append(_wall([sys.executable, "-c", "pass"]))
        walls["peer_pass"].append(_wall([peer, "-c", "pass"]))
    wall = {k: statistics.median(v) * 1e3 for k, v in walls.items()}
    in_wall = {k: statistics.median(w for w, _ in v) * 1e3 for k, v in inner.items()}
    cpu = {k: statistics.median(c for _, c in v) * 1e3 for k, v in inner.items()}
    return {
        "molq_import_cpu_ms": cpu["molq"],
        "submitit_import_cpu_ms": cpu["peer"],
        "import_cpu_ratio": cpu["molq"] / cpu["peer"],
        "rounds_cpu_ratio": [round(m[1] / p[1], 3) for m, p in zip(inner["molq"], inner["peer"], strict=True)],
        "molq_import_wall_ms": in_wall["molq"],
        "submitit_import_wall_ms": in_wall["peer"],
        "python_c_molq_ms": wall["molq"],
        "python_c_submitit_ms": wall["peer"],
        "python_c_wall_ratio": wall["molq"] / wall["peer"],
        "python_c_pass_ms": wall["pass"],
        "peer_python_c_pass_ms": wall["peer_pass"],
        "first_submitor_cpu_ms": cpu["molq_first"],
        "first_executor_cpu_ms": cpu["peer_first"],
        "first_object_cpu_ratio": cpu["molq_first"] / cpu["peer_first"],
        "rounds": rounds,
    }
