"""Function-job overhead on the local backend (issue 16): a trivial function vs a trivial command.

A function job always starts a Python interpreter, so the command it is compared with
is the same interpreter doing nothing (``python -c pass``): the ratio is what pickling
the call, the runner (``python -m molq.run_function``), the outcome file, its log entry
and reading it back cost on top. ``/bin/true`` is measured beside it for scale.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any

from molq import Cluster, JobStore, Submitor


def _per_job(n: int, run: Callable[[], object]) -> float:
    run()  # warm-up
    start = time.perf_counter()
    for _ in range(n):
        run()
    return (time.perf_counter() - start) / n


def _command(submitor: Submitor, argv: list[str]) -> Callable[[], object]:
    def run() -> object:
        record = submitor.submit_job(argv=argv).wait(timeout=120)
        if record.state.value != "succeeded":
            msg = f"command job ended {record.state.value}: {record.failure_reason}"
            raise RuntimeError(msg)
        return record

    return run


def overhead(n: int, rounds: int, scratch: Path) -> dict[str, Any]:
    """Seconds per job (submit, wait, result) for each kind, in interleaved rounds; medians."""
    def noop() -> None:  # local, so it travels by value: the job imports no module of ours
        return None

    tmp = Path(tempfile.mkdtemp(prefix="fn-", dir=scratch))
    submitor = Submitor(Cluster("bench-fn", "local"), store=JobStore(tmp / "jobs.db"), jobs_dir=tmp / "jobs")
    kinds: dict[str, Callable[[], object]] = {
        "true": _command(submitor, ["/bin/true"]),
        "python": _command(submitor, [sys.executable, "-c", "pass"]),
        "function": lambda: submitor.submit_function(noop).result(timeout=120),
    }
    measured: list[dict[str, float]] = []
    try:
        for _ in range(rounds):
            measured.append({kind: _per_job(n, run) for kind, run in kinds.items()})
    finally:
        submitor.close()
    ratios = [r["function"] / r["python"] for r in measured]
    return {
        "ratio": median(ratios),
        "function_ms": median(r["function"] for r in measured) * 1e3,
        "python_command_ms": median(r["python"] for r in measured) * 1e3,
        "true_command_ms": median(r["true"] for r in measured) * 1e3,
        "jobs": n,
        "rounds": rounds,
        "rounds_ratio": [round(x, 3) for x in ratios],
    }
