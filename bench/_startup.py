"""Start-up (issue 20, item 5): ``from molq import Submitor, Cluster`` against ``import submitit``.

Both run in fresh interpreters of the same Python, interleaved round by round (this
VM drifts between minutes): molq from the project's environment, submitit from
``bench/.venv`` (never a molq dependency). ``python -c pass`` of each environment is
measured too, so the interpreter's own start can be told apart.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


MOLQ = "from molq import Submitor, Cluster"
PEER = "import submitit"
_TIMED = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def _inner(python: str, statement: str) -> float:
    out = subprocess.run([python, "-c", _TIMED.format(statement)], check=True, capture_output=True, text=True)
    return float(out.stdout)


def peer_unavailable(peer_python: Path) -> str | None:
    """Why submitit cannot be imported from ``peer_python``, or None."""
    if not peer_python.exists():
        return f"{peer_python} does not exist (a full run creates bench/.venv)"
    done = subprocess.run([str(peer_python), "-c", PEER], capture_output=True, text=True, check=False)
    return None if done.returncode == 0 else f"submitit does not import: {done.stderr.strip()[-200:]}"


def startup(peer_python: Path, rounds: int) -> dict[str, Any]:
    """Median wall and in-process import seconds of molq and submitit, ``rounds`` interleaved rounds."""
    samples: dict[str, list[float]] = {k: [] for k in ("molq", "peer", "molq_inner", "peer_inner", "pass", "peer_pass")}
    peer = str(peer_python)
    for _ in range(rounds):
        samples["molq"].append(_wall([sys.executable, "-c", MOLQ]))
        samples["peer"].append(_wall([peer, "-c", PEER]))
        samples["molq_inner"].append(_inner(sys.executable, MOLQ))
        samples["peer_inner"].append(_inner(peer, PEER))
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
        "python_pass_ms": med["pass"] * 1e3,
        "peer_python_pass_ms": med["peer_pass"] * 1e3,
        "rounds": rounds,
    }
