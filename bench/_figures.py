"""Store, reconcile, CLI, import and SLURM figures (local-backend ones are in ``_local``)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from molq import Cluster, JobReconciler, JobStore, Submitor
from molq.shell.schedulers._slurm import SlurmScheduler

from ._fixtures import raw_log, submitted_jobs
from ._sim import SimSlurm


ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
"""Interpreters started by the bench use bytecode caches, as an installed molq does (ADR 0032)."""


def _tmp() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="molq-bench-")


def poll_commands(n: int, *, left_fraction: float = 0.05) -> dict[str, int]:
    """Scheduler commands in one reconcile pass over ``n`` active SLURM jobs, some of which left squeue."""
    with _tmp() as tmp:
        sim = SimSlurm()
        store = JobStore(Path(tmp) / "jobs.db")
        sids = submitted_jobs(store, n, cluster="sim", scheduler="slurm")
        sim.queue.update(dict.fromkeys(sids, "RUNNING"))
        sim.leave_queue(sids[: max(1, int(n * left_fraction))])
        reconciler = JobReconciler(store, SlurmScheduler(sim), "sim", transport=sim)
        reconciler.reconcile()
        store.close()
    left = max(1, int(n * left_fraction))
    return {
        "squeue": sim.calls["squeue"],
        "sacct": sim.calls["sacct"],
        "scontrol": sim.calls["scontrol"],
        "other": sum(sim.calls.values()) - sim.calls["squeue"] - sim.calls["sacct"] - sim.calls["scontrol"],
        "expected_squeue": 1,  # ADR 0031: whatever n (ceil(n / 500) before)
        "expected_sacct": 1,
        "left_queue": left,
    }


def reconcile_cpu(n: int) -> dict[str, float]:
    """CPU seconds of one reconcile pass over ``n`` active SLURM jobs (simulated output)."""
    with _tmp() as tmp:
        sim = SimSlurm()
        store = JobStore(Path(tmp) / "jobs.db")
        sids = submitted_jobs(store, n, cluster="sim", scheduler="slurm")
        sim.queue.update(dict.fromkeys(sids, "PENDING"))
        reconciler = JobReconciler(store, SlurmScheduler(sim), "sim", transport=sim)
        reconciler.reconcile()  # submitted -> queued, every job
        sim.set_all("RUNNING")
        cpu = time.process_time()
        report = reconciler.reconcile()  # queued -> running, every job changes
        changed = time.process_time() - cpu
        assert len(report.transitions) == n, report
        cpu = time.process_time()
        reconciler.reconcile()  # nothing changes
        unchanged = time.process_time() - cpu
        store.close()
    return {"all_change_s": changed, "no_change_s": unchanged}


def rebuild(n_events: int) -> dict[str, float]:
    """Events/s of ``molq replay --verify`` (wall, interpreter start included), of the audit
    itself (``verify_projections``) and of ``rebuild_projections`` over a log of ``n_events``."""
    with _tmp() as tmp:
        path = Path(tmp) / "jobs.db"
        raw_log(path, n_events // 4)
        store = JobStore(path)
        start = time.perf_counter()
        count = store.rebuild_projections()
        rebuilt = time.perf_counter() - start
        start = time.perf_counter()
        diffs = store.verify_projections()
        verified = time.perf_counter() - start
        store.close()
        if diffs:
            msg = f"verify_projections found {len(diffs)} differences after a rebuild: {diffs[:3]}"
            raise RuntimeError(msg)
        start = time.perf_counter()
        done = subprocess.run(
            [str(Path(PY).parent / "molq"), "replay", "--verify", "--db", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        cli = time.perf_counter() - start
        if done.returncode != 0:
            msg = f"molq replay --verify failed: {done.stdout[-500:]} {done.stderr[-500:]}"
            raise RuntimeError(msg)
    return {
        "events": count,
        "cli_verify_eps": count / cli,
        "rebuild_eps": count / rebuilt,
        "verify_eps": count / verified,
    }


def _wall(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> float:
    env = {**ENV, **(env or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(argv, check=True, capture_output=True, env=env)  # writes bytecode caches if missing
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _child_cpu(argv: list[str], repeat: int, env: dict[str, str]) -> float:
    """Median CPU seconds (user + system) of ``argv`` run ``repeat`` times."""
    import resource

    times = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, check=True, capture_output=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times)


def cli_list(n_jobs: int, repeat: int) -> dict[str, float | str]:
    """Wall time of ``molq list`` (interpreter start included) on a store of ``n_jobs`` finished jobs."""
    molq = str(Path(PY).parent / "molq")
    with _tmp() as tmp:
        path = Path(tmp) / "jobs.db"
        raw_log(path, n_jobs)
        with JobStore(path) as store:
            store.rebuild_projections()
        env = {**os.environ, "MOLQ_STORE": str(path), "HOME": tmp, "COLUMNS": "200"}
        default = _wall([molq, "list"], repeat, env)
        all_rows = _wall([molq, "list", "--all"], repeat, env)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cpu = _child_cpu([molq, "list"], repeat, env)
    return {"list_s": default, "list_all_s": all_rows, "list_cpu_s": cpu, "how": f"{molq} list / list --all (200 rows)"}


def import_time(repeat: int) -> dict[str, float]:
    """``import molq``: in-process seconds (median of fresh interpreters) and wall of ``python -c``."""
    code = "import time; t = time.perf_counter(); import molq; print(time.perf_counter() - t)"
    inner = []
    for _ in range(repeat):
        out = subprocess.run([PY, "-c", code], check=True, capture_output=True, text=True, env=ENV)
        inner.append(float(out.stdout))
    return {
        "import_s": statistics.median(inner),
        "python_c_import_s": _wall([PY, "-c", "import molq"], repeat),
        "python_c_pass_s": _wall([PY, "-c", "pass"], repeat),
    }


def memory(n: int) -> dict[str, float]:
    """Peak RSS (MB) of a process watching ``n`` SLURM jobs (simulated) until all finish."""
    with _tmp() as tmp:
        path = Path(tmp) / "jobs.db"
        with JobStore(path) as store:
            submitted_jobs(store, n, cluster="sim", scheduler="slurm")
        out = subprocess.run(
            [PY, "-m", "bench._memory", str(path), str(n)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    return json.loads(out.stdout)


def slurm_latency(n: int) -> dict[str, float | str]:
    """Seconds from a real Slurm job's end (its own timestamp) to ``wait()`` returning."""
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return {"unavailable": "no Slurm commands on PATH"}
    if subprocess.run(["sinfo", "-h"], capture_output=True, check=False).returncode != 0:
        return {"unavailable": "sinfo failed: Slurm is not running"}
    lags = []
    with tempfile.TemporaryDirectory(prefix="molq-bench-slurm-", dir=Path.home()) as tmp:
        submitor = Submitor(
            Cluster("bench-slurm", "slurm"), store=JobStore(Path(tmp) / "jobs.db"), jobs_dir=tmp
        )
        for i in range(n):
            stamp = Path(tmp) / f"end{i}"
            handle = submitor.submit_job(command=f"sleep 1; date +%s.%N > {stamp}")
            record = handle.wait(timeout=120)
            returned = time.time()
            if record.state.value != "succeeded":
                msg = f"slurm job ended {record.state.value}: {record.failure_reason}"
                raise RuntimeError(msg)
            lags.append(returned - float(stamp.read_text()))
        submitor.close()
    return {"median_s": statistics.median(lags), "max_s": max(lags), "jobs": n}
