"""``python -m bench [--smoke] [--json PATH]``: measure molq against its targets (issue 8).

Prints one table and writes every figure as JSON (default ``bench/results.json``,
``bench/results-smoke.json`` with ``--smoke``). Ratios are taken in the same run:
plain fork+exec is the floor, PSI/J's local executor (from ``bench/.venv``) the peer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


HERE = Path(__file__).resolve().parent
PEER_VENV = HERE / ".venv"
PEER_PY = PEER_VENV / "bin" / "python"

FULL = {
    "seq": 200,
    "bulk": 1000,
    "reconcile": 10_000,
    "events": 1_000_000,
    "list": 100_000,
    "memory": 10_000,
    "slurm": 5,
    "repeat": 7,
    "rounds": 3,
    "polls": (1000, 10_000),
    "poll_sizes": (10, 1000, 10_000, 100_000),
    "batch": 200,
    "idle": (100, 10.0, 5.0),
    "functions": 30,
}
SMOKE = {
    "seq": 20,
    "bulk": 100,
    "reconcile": 1000,
    "events": 20_000,
    "list": 2000,
    "memory": 1000,
    "slurm": 1,
    "repeat": 3,
    "rounds": 1,
    "polls": (1000, 10_000),
    "poll_sizes": (10, 1000),
    "batch": 10,
    "idle": (10, 2.0, 1.0),
    "functions": 5,
}


def ensure_peer(*, install: bool) -> str | None:
    """Make bench/.venv with psij-python and submitit (the peers); returns why it is unavailable, or None."""
    if PEER_PY.exists() and _has_psij():
        return None
    if not install:
        return "bench/.venv with psij-python is not set up (a full run creates it)"
    try:
        if not PEER_PY.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True, capture_output=True)
        subprocess.run(
            [str(PEER_PY), "-m", "pip", "install", "-q", "psij-python", "submitit"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return f"cannot install psij-python into bench/.venv: {exc} {detail.decode(errors='replace')[-300:]}"
    return None if _has_psij() else "psij-python installed but does not import"


def _has_psij() -> bool:
    return (
        subprocess.run([str(PEER_PY), "-c", "import psij, submitit"], capture_output=True, check=False).returncode
        == 0
    )


def psij_seconds_per_job(n: int) -> float:
    out = subprocess.run(
        [str(PEER_PY), str(HERE / "psij_peer.py"), str(n)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"] / n


def fig(value: float | None, unit: str, target: str, meets: bool | None, **detail: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "target": target, "meets": meets, "detail": detail}


def unavailable(unit: str, target: str, reason: str) -> dict[str, Any]:
    return {"value": None, "unit": unit, "target": target, "meets": None, "unavailable": reason, "detail": {}}


def local_figures(size: dict[str, Any], peer: str | None, scratch: Path) -> dict[str, Any]:
    """Sequential and bulk local figures: the median of interleaved rounds.

    Each round measures the floor, molq, PSI/J and molq's bulk back to back, so every
    ratio compares runs made under the same conditions; the median round is reported
    and every round is kept in the JSON (this VM's file-system and exec costs drift
    by a factor of several between minutes).
    """
    from statistics import median

    from . import _local

    rounds: list[dict[str, float]] = []
    for _ in range(size["rounds"]):
        one = {"floor": _local.fork_exec_floor(size["seq"]), "molq": _local.sequential(size["seq"], scratch)}
        if peer is None:
            one["psij"] = psij_seconds_per_job(size["seq"])
        one |= {f"bulk_{k}": v for k, v in _local.bulk(size["bulk"], scratch).items()}
        rounds.append(one)
    floor, molq = median(r["floor"] for r in rounds), median(r["molq"] for r in rounds)
    detail: dict[str, Any] = {
        "jobs": size["seq"],
        "rounds": len(rounds),
        "floor_ms": floor * 1e3,
        "ratio_to_floor": molq / floor,
        "rounds_ms": [round(r["molq"] * 1e3, 3) for r in rounds],
    }
    meets = molq <= 0.003
    if peer is None:
        psij = median(r["psij"] for r in rounds)
        ratios = [r["molq"] / r["psij"] for r in rounds]
        detail |= {
            "psij_ms": psij * 1e3,
            "ratio_to_psij": median(ratios),
            "psij_rounds_ms": [round(r["psij"] * 1e3, 3) for r in rounds],
        }
        meets = meets and all(ratio < 1 for ratio in ratios)
    else:
        detail["psij"] = f"unavailable: {peer}"
    bulk = sorted(rounds, key=lambda r: r["bulk_jobs_per_s"])[len(rounds) // 2]
    return {
        "local_sequential": fig(molq * 1e3, "ms/job", "<= 3 ms/job and faster than PSI/J", meets, **detail),
        "local_bulk": fig(
            bulk["bulk_jobs_per_s"],
            "jobs/s",
            ">= 500 jobs/s",
            bulk["bulk_jobs_per_s"] >= 500,
            jobs=size["bulk"],
            rounds=len(rounds),
            submit_s=bulk["bulk_submit_s"],
            wait_s=bulk["bulk_wait_s"],
            floor_jobs_per_s=1 / floor,
            rounds_jobs_per_s=[round(r["bulk_jobs_per_s"]) for r in rounds],
        ),
    }


def function_figures(size: dict[str, Any]) -> dict[str, Any]:
    """A trivial function job against a trivial ``python -c pass`` command job (bench/_functions.py)."""
    from . import _functions

    scratch = Path(tempfile.mkdtemp(prefix="molq-bench-functions-"))
    try:
        got = _functions.overhead(size["functions"], size["rounds"], scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = got.pop("ratio")
    return {"function_job_overhead": fig(ratio, "x command job", "<= 1.5x python -c pass", ratio <= 1.5, **got)}


def sched_figures(size: dict[str, Any]) -> dict[str, Any]:
    """Commands in one reconcile pass over N simulated SLURM, LSF and PBS jobs."""
    from . import _figures as f
    from . import _pbs

    out: dict[str, Any] = {}
    for n in size["polls"]:
        calls = f.poll_commands(n)
        ok = (
            calls["squeue"] == calls["expected_squeue"]
            and calls["sacct"] <= calls["expected_sacct"]
            and calls["scontrol"] == 0
            and calls["other"] == 0
        )
        out[f"slurm_poll_commands_{n}"] = fig(
            calls["squeue"] + calls["sacct"] + calls["scontrol"] + calls["other"],
            "commands/poll",
            "1 squeue + at most 1 sacct",
            ok,
            **calls,
        )
    out |= lsf_figures()
    out |= _pbs.figures(size["polls"])
    return out


def poll_figures(size: dict[str, Any]) -> dict[str, Any]:
    """Commands per poll and CPU of the parse, N = 10 ... 100,000, each scheduler (bench/_polls.py)."""
    from . import _polls

    return _polls.figures(size["poll_sizes"])


def reconcile_figures(size: dict[str, Any]) -> dict[str, Any]:
    from . import _figures as f

    cpu = f.reconcile_cpu(size["reconcile"])
    return {
        "reconcile_cpu": fig(
            cpu["all_change_s"],
            "s CPU",
            "<= 1 s for 10,000 active jobs",
            cpu["all_change_s"] <= 1.0 if size["reconcile"] >= 10_000 else None,
            jobs=size["reconcile"],
            no_change_s=cpu["no_change_s"],
        )
    }


def rebuild_figures(size: dict[str, Any]) -> dict[str, Any]:
    from . import _figures as f

    rb = f.rebuild(size["events"])
    return {
        "projection_rebuild": fig(
            rb["cli_verify_eps"],
            "events/s",
            ">= 200,000 events/s (molq replay --verify)",
            rb["cli_verify_eps"] >= 200_000 if rb["events"] >= 1_000_000 else None,
            events=rb["events"],
            verify_api_eps=rb["verify_eps"],
            rebuild_projections_eps=rb["rebuild_eps"],
        )
    }


def list_figures(size: dict[str, Any]) -> dict[str, Any]:
    from . import _figures as f

    ls = f.cli_list(size["list"], size["repeat"])
    big = size["list"] >= 100_000
    return {
        "cli_list": fig(
            ls["list_all_s"] * 1e3,
            "ms wall",
            "<= 150 ms on 100,000 jobs, molq list and list --all",
            max(ls["list_all_s"], ls["list_s"]) <= 0.15 if big else None,
            jobs=size["list"],
            list_active_ms=ls["list_s"] * 1e3,
            list_active_cpu_ms=ls["list_cpu_s"] * 1e3,
            how=ls["how"],
        )
    }


def startup_figures(size: dict[str, Any]) -> dict[str, Any]:
    """``import molq`` alone, and ``from molq import Submitor, Cluster`` against ``import submitit``."""
    from . import _figures as f
    from . import _startup

    imp = f.import_time(size["repeat"])
    out = {
        "import_molq": fig(
            imp["import_s"] * 1e3,
            "ms",
            "<= 150 ms",
            imp["import_s"] <= 0.15,
            python_c_import_ms=imp["python_c_import_s"] * 1e3,
            python_c_pass_ms=imp["python_c_pass_s"] * 1e3,
        )
    }
    target = "import CPU <= submitit's, same run (wall in detail)"
    why = _startup.peer_unavailable(PEER_PY)
    if why is not None:
        out["startup_vs_submitit"] = unavailable("ms CPU", target, why)
        return out
    st = _startup.startup(PEER_PY, size["repeat"])
    value = st.pop("molq_import_cpu_ms")
    out["startup_vs_submitit"] = fig(value, "ms CPU", target, st["import_cpu_ratio"] <= 1.0, **st)
    return out


def memory_figures(size: dict[str, Any]) -> dict[str, Any]:
    from . import _figures as f

    mem = f.memory(size["memory"])
    return {
        "watch_memory": fig(
            mem["peak_rss_mb"],
            "MB peak RSS",
            "<= 200 MB watching 10,000 jobs",
            mem["peak_rss_mb"] <= 200 if size["memory"] >= 10_000 else None,
            jobs=size["memory"],
            rss_before_watch_mb=mem["rss_before_watch_mb"],
        )
    }


def batch_figures(size: dict[str, Any]) -> dict[str, Any]:
    """Issue 20 item 4, measured only: N trivial jobs to the real Slurm, molq against a shell loop."""
    from . import _batch_submit

    target = "<= 1.15 x a shell loop of sbatch"
    why = _batch_submit.unavailable()
    if why is not None:
        return {"slurm_batch_submit": unavailable("x shell loop", target, why)}
    got = _batch_submit.submit_overhead(size["batch"])
    big = size["batch"] >= 200
    ratio = got.pop("ratio")
    return {"slurm_batch_submit": fig(ratio, "x shell loop", target, ratio <= 1.15 if big else None, **got)}


def latency_figures(size: dict[str, Any]) -> dict[str, Any]:
    from . import _figures as f

    lat = f.slurm_latency(size["slurm"])
    if "unavailable" in lat:
        return {"slurm_wait_latency": unavailable("s", "<= 1 s", str(lat["unavailable"]))}
    return {
        "slurm_wait_latency": fig(
            lat["median_s"], "s (median)", "<= 1 s", lat["median_s"] <= 1.0, max_s=lat["max_s"], jobs=lat["jobs"]
        )
    }


def idle_figures(size: dict[str, Any]) -> dict[str, Any]:
    """CPU per wall second while waiting on sleeping jobs and through a retry back-off."""
    from . import _idle

    jobs, seconds, backoff = size["idle"]
    running = _idle.waiting_on_running_jobs(jobs, seconds)
    backing_off = _idle.waiting_through_backoff(backoff)
    return {
        "wait_idle_running": fig(
            running["cpu_per_wall"] * 100, "% of a core", "<= 2 %", running["cpu_per_wall"] <= 0.02, **running
        ),
        "wait_idle_backoff": fig(
            backing_off["cpu_per_wall"] * 100, "% of a core", "<= 2 %", backing_off["cpu_per_wall"] <= 0.02, **backing_off
        ),
    }


def lsf_figures(n: int = 1000) -> dict[str, Any]:
    """LSF commands per poll for ``n`` active jobs (bench/_lsf.py): one bjobs plus at most one bhist."""
    from . import _lsf

    calls = _lsf.poll_commands(n)
    ok = calls["bjobs"] == 1 and calls["bhist"] <= 1 and calls["other"] == 0
    value = calls["bjobs"] + calls["bhist"] + calls["other"]
    return {f"lsf_poll_commands_{n}": fig(value, "commands/poll", "1 bjobs + at most 1 bhist", ok, **calls)}


def guarded(
    name_unit_target: list[tuple[str, str, str]], run: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    try:
        return run()
    except Exception as exc:
        traceback.print_exc()
        return {
            name: unavailable(unit, target, f"failed: {exc!r}") for name, unit, target in name_unit_target
        }


def machine() -> dict[str, Any]:
    model = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else ""
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


def table(figures: dict[str, Any]) -> str:
    rows = [("figure", "value", "unit", "target", "meets", "notes")]
    for name, f in figures.items():
        value = (
            "n/a"
            if f["value"] is None
            else f"{f['value']:,.3g}"
            if f["value"] < 1000
            else f"{f['value']:,.0f}"
        )
        meets = {True: "yes", False: "NO", None: "-"}[f["meets"]]
        notes = f.get("unavailable") or ", ".join(
            f"{k}={v:,.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in f["detail"].items()
        )
        rows.append((name, value, f["unit"], f["target"], meets, notes))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5] for r in rows
    )


GROUPS: dict[str, tuple[list[tuple[str, str, str]], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "functions": ([("function_job_overhead", "x command job", "<= 1.5x python -c pass")], function_figures),
    "sched": ([("sched", "commands/poll", "constant")], sched_figures),
    "polls": ([("polls", "commands/poll", "1 status + at most 1 history")], poll_figures),
    "reconcile": ([("reconcile_cpu", "s CPU", "<= 1 s")], reconcile_figures),
    "rebuild": ([("projection_rebuild", "events/s", ">= 200,000")], rebuild_figures),
    "list": ([("cli_list", "ms wall", "<= 150 ms")], list_figures),
    "startup": ([("import_molq", "ms", "<= 150 ms"), ("startup_vs_submitit", "ms CPU", "<= submitit")], startup_figures),
    "memory": ([("watch_memory", "MB", "<= 200 MB")], memory_figures),
    "latency": ([("slurm_wait_latency", "s", "<= 1 s")], latency_figures),
    "batch": ([("slurm_batch_submit", "x shell loop", "<= 1.15")], batch_figures),
    "idle": (
        [("wait_idle_running", "% of a core", "<= 2 %"), ("wait_idle_backoff", "% of a core", "<= 2 %")],
        idle_figures,
    ),
}


def _groups(only: str | None) -> list[str]:
    names = ["local", *GROUPS]
    if only is None:
        return names
    chosen = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in names]
    if unknown or not chosen:
        msg = f"--only takes a comma-separated list of {', '.join(names)}; got {only!r}"
        raise SystemExit(msg)
    return chosen


def main(argv: list[str] | None = None) -> int:
    from . import _compare

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes (< 60 s), for CI")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    parser.add_argument(
        "--only",
        metavar="GROUPS",
        help=f"run only these groups (comma-separated: local, {', '.join(GROUPS)}); "
        "writes bench/results-only.json unless --json says otherwise",
    )
    parser.add_argument("--compare", type=Path, help="the earlier run to compare with (default bench/results.json)")
    args = parser.parse_args(argv)
    groups = _groups(args.only)
    size = SMOKE if args.smoke else FULL
    load_at_start = os.getloadavg()
    started = time.perf_counter()
    peer = ensure_peer(install=not args.smoke) if {"local", "startup"} & set(groups) else None
    figures: dict[str, Any] = {}
    scratch = Path(tempfile.mkdtemp(prefix="molq-bench-local-"))
    try:
        if "local" in groups:
            figures |= guarded(
                [("local_sequential", "ms/job", "<= 3 ms/job"), ("local_bulk", "jobs/s", ">= 500")],
                lambda: local_figures(size, peer, scratch),
            )
        for name in groups:
            if name in GROUPS:
                names, run = GROUPS[name]
                figures |= guarded(names, lambda run=run: run(size))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)  # last: see bench/_local.py
    result = {
        "mode": "smoke" if args.smoke else "full",
        "groups": groups,
        "machine": machine() | {"loadavg_at_start": load_at_start},
        "seconds": time.perf_counter() - started,
        "figures": figures,
    }
    default = "results-smoke.json" if args.smoke else ("results-only.json" if args.only else "results.json")
    path = args.json or HERE / default
    previous = _compare.load(args.compare or HERE / "results.json")
    if previous is not None:
        result["compared"] = _compare.compare(previous, result)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"load average at start: {load_at_start[0]:.2f} {load_at_start[1]:.2f} {load_at_start[2]:.2f}")
    print(table(figures))
    if previous is not None:
        print()
        print(_compare.report(result["compared"]))
    print(f"\n{result['mode']} run, {result['seconds']:.1f} s; machine: {result['machine']}; JSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
