"""The benchmark's smoke mode runs and reports every figure (no timing assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "local_sequential",
    "local_bulk",
    "function_job_overhead",
    "slurm_poll_commands_1000",
    "slurm_poll_commands_10000",
    "lsf_poll_commands_1000",
    "pbs_poll_commands_1000",
    "pbs_poll_commands_10000",
    "pbs_torque_poll_commands_1000",
    "pbs_torque_poll_commands_10000",
    "reconcile_cpu",
    "projection_rebuild",
    "cli_list",
    "import_molq",
    "watch_memory",
    "slurm_wait_latency",
    "wait_idle_running",
    "wait_idle_backoff",
    "startup_vs_submitit",
    "slurm_batch_submit",
    *(f"poll_{kind}_{n}" for kind in ("slurm", "openpbs", "pbs_torque", "openlava") for n in (10, 1000)),
}


def test_smoke_mode_reports_every_figure(tmp_path):
    """``python -m bench --smoke`` exits 0 and writes JSON with a value or a reason for each figure."""
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["mode"] == "smoke"
    assert set(result["figures"]) == FIGURES
    for name, figure in result["figures"].items():
        assert figure["value"] is not None or figure.get("unavailable"), name
        assert not str(figure.get("unavailable", "")).startswith("failed"), (name, figure)
