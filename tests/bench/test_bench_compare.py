"""The bench says what moved since the previous run, and runs chosen groups alone."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
# bench/ is a directory of the repository, not an installed package: load the module by path.
_spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "bench" / "_compare.py")
assert _spec is not None
assert _spec.loader is not None
_compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_compare)


def _run(figures: dict[str, tuple[float, str]]) -> dict:
    return {
        "machine": {"loadavg_at_start": [0.5, 0.4, 0.3]},
        "figures": {name: {"value": value, "unit": unit} for name, (value, unit) in figures.items()},
    }


def test_lower_times_and_higher_rates_are_better():
    """A time that falls and a rate that rises are better; the reverse is worse; 10 % is noise."""
    before = _run({"t": (10.0, "ms"), "r": (100.0, "jobs/s"), "n": (1.0, "ms"), "gone": (1.0, "ms")})
    after = _run({"t": (5.0, "ms"), "r": (50.0, "jobs/s"), "n": (1.05, "ms"), "new": (1.0, "ms")})
    diff = _compare.compare(before, after)
    assert {k: v["moved"] for k, v in diff["figures"].items()} == {"t": "better", "r": "worse", "n": "same"}
    assert diff["figures"]["t"]["ratio"] == 0.5
    assert (diff["only_now"], diff["only_before"]) == (["new"], ["gone"])
    text = _compare.report(diff)
    assert "better  t: 10 -> 5 (x0.5)" in text
    assert "worse  r: 100 -> 50 (x0.5)" in text
    assert "[0.5, 0.4, 0.3]" in text


def test_only_runs_the_chosen_group_and_compares(tmp_path):
    """``--only polls`` measures the poll figures alone and compares them with ``--compare``."""
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps(_run({"poll_slurm_1000": (20.0, "commands/poll")})))
    out = tmp_path / "now.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--only",
            "polls",
            "--json",
            str(out),
            "--compare",
            str(earlier),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["groups"] == ["polls"]
    assert {name.rsplit("_", 1)[0] for name in result["figures"]} == {
        "poll_slurm",
        "poll_openpbs",
        "poll_pbs_torque",
        "poll_openlava",
    }
    assert all(f["meets"] for f in result["figures"].values()), result["figures"]
    assert result["compared"]["figures"]["poll_slurm_1000"] == {
        "old": 20.0,
        "new": 2,
        "ratio": 0.1,
        "moved": "better",
    }
    assert "load average at start" in done.stdout


def test_only_refuses_an_unknown_group(tmp_path):
    """A group name bench does not know is refused with the list of names."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--only", "nope", "--json", str(tmp_path / "x.json")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "--only takes a comma-separated list of local, functions, sched, polls" in done.stderr
