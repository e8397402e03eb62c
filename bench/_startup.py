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
# first Submitor (ADR 0030), so this is where they are paid.
MOLQ_FIRST = (
    "from molq import Submitor, Cluster, JobStore; import tempfile, os; d = tempfile.mkdtemp(); "
    "Submitor(Cluster('b', 'local'), store=JobStore(os.path.join(d, 'j.db')), jobs_dir=d)"
)
PEER_FIRST = "import submitit, tempfile; submitit.AutoExecutor(folder=tempfile.mkdtemp(), cluster='local')"
_TIMED = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Bytecode caches on, as an installed package has them (pip compiles submitit's at install)."""


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=ENV)
    return time.perf_counter() - start


def _inner(python: str, statement: str) -> float:
    out = subprocess.run([python, "-c", _TIMED.format(statement)], check=True, capture_output=True, text=True, env=ENV)
    return float(out.stdout.split()[-1])


def peer_unavailable(peer_python: Path) -> str | None:
    """Why submitit cannot be imported from ``peer_python``, or None."""
    if not peer_python.exists():
        return f"{peer_python} does not exist (a full run creates bench/.venv)"
    done = subprocess.run([str(peer_python), "-c", PEER], capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else f"submitit does not import: {done.stderr.strip()[-200:]}"


def startup(peer_python: Path, rounds: int) -> dict[str, Any]:
    """Median wall and in-process import seconds of molq and submitit, ``rounds`` interleaved rounds."""
    names = ("molq", "peer", "molq_inner", "peer_inner", "molq_first", "peer_first", "pass", "peer_pass")
    samples: dict[str, list[float]] = {k: [] for k in names}
    peer = str(peer_python)
    _wall([sys.executable, "-c", MOLQ_FIRST])  # writes molq's bytecode caches if they are missing
    for _ in range(rounds):
        samples["molq"].append(_wall([sys.executable, "-c", MOLQ]))
        samples["peer"].append(_wall([peer, "-c", PEER]))
        samples["molq_inner"].append(_inner(sys.executable, MOLQ))
        samples["peer_inner"].append(_inner(peer, PEER))
        samples["molq_first"].append(_inner(sys.executable, MOLQ_FIRST))
        samples["peer_first"].append(_inner(peer, PEER_FIRST))
        samples["pass"].append(_wall([sys.executable, "-c", "pass"]))
        samples["peer_pass"].append(_wall([peer, "-c", "pass"]))
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratios = [m / p for m, p in zip(samples["molq"], samples["peer"], strict=True)]
    return {
        "molq_ms": med["molq"] * 1e3,
        "submitit_ms": med["peer"] * 1e3,
        "ratio": statistics.median(ratios),
        "rounds_ratio": [round(r, 3) for r in ratios],
        "molq_import_ms": med["molq_inner"] * 1e3,
        "submitit_import_ms": med["peer_inner"] * 1e3,
        "import_ratio": med["molq_inner"] / med["peer_inner"],
        "molq_first_submitor_ms": med["molq_first"] * 1e3,
        "submitit_first_executor_ms": med["peer_first"] * 1e3,
        "first_object_ratio": med["molq_first"] / med["peer_first"],
        "python_pass_ms": med["pass"] * 1e3,
        "peer_python_pass_ms": med["peer_pass"] * 1e3,
        "rounds": rounds,
    }
