"""Usage from the real schedulers' accounting (issue 15 item 7): Slurm (also over SSH), OpenPBS,
Slurm's Torque wrappers, OpenLava and local, each with a small CPU-burning job that asks for memory.

What the services here report (see tests/fixtures/usage/README.md): sacct has MaxRSS only for
jobs longer than JobAcctGatherFrequency (30 s); this OpenPBS MoM reports cput 0 and mem 0kb;
OpenLava keeps CPU time but no memory once a job ends; the Torque wrappers show no usage at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from tests.integration.pbs_real import cluster as pbs_cluster
from tests.integration.pbs_real import not_ready as pbs_not_ready
from tests.openlava import use_openlava

from molq import Cluster, JobExecution, JobResources, JobState, SshTransport, SshTransportOptions, Submitor
from molq.core._sched._pbs_usage import NO_RESOURCES_USED
from molq.core._usage import JobUsage
from molq.shell.schedulers._lsf import LSFScheduler
from molq.shell.transport._local import LocalTransport


SLEEP = 3
BURN = 2
MIB = 1024**2
# Burns about BURN s of CPU, holds 40 MiB, then sleeps SLEEP s: elapsed >= SLEEP whatever the load.
SCRIPT = (
    "python3 -c 'import time\n"
    'b = bytearray(40 << 20); b[::4096] = b"x" * len(b[::4096])\n'
    f"t = time.process_time()\nwhile time.process_time() - t < {BURN}: pass\n"
    f"time.sleep({SLEEP})'"
)
ALIAS = os.environ.get("MOLQ_CI_SSH_ALIAS", "molq-test")


def _ok(argv: list[str]) -> bool:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=20, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def _need(ready: bool, what: str) -> None:
    if not ready:
        pytest.skip(f"{what} is not up here (see /tmp/services.log)")


def _run_one(sub: Submitor, cwd: str, memory: str = "300M", timeout: float = 180) -> tuple[str, JobUsage]:
    handle = sub.submit_job(
        command=SCRIPT, resources=JobResources(memory=memory), execution=JobExecution(cwd=cwd)
    )
    record = handle.wait(timeout=timeout)
    assert record.state is JobState.SUCCEEDED, record
    usage = handle.usage()
    assert usage is not None
    return record.job_id, usage


def _cpu_ran(usage: JobUsage) -> None:
    """CPU time and elapsed time are plausible for the job that ran."""
    assert usage.cpu_seconds is not None
    assert usage.cpu_seconds > 0.5 * BURN
    assert usage.elapsed_seconds is not None
    assert usage.elapsed_seconds >= SLEEP
    assert usage.cpu_efficiency is not None
    assert 0 < usage.cpu_efficiency <= 1.2  # ~1 s granularity on short jobs


def _one_usage_event(sub: Submitor, job_id: str) -> None:
    tags = [type(r.event).__struct_config__.tag for r in sub.store.read_stream(job_id)]
    assert tags.count("job.usage_recorded") == 1, tags
    assert tags[-1] == "job.usage_recorded"


def _cli(store_path: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOLQ_")}
    env.update(MOLQ_STORE=str(store_path), COLUMNS="200", NO_COLOR="1", HOME=os.environ.get("HOME", "/root"))
    done = subprocess.run(
        [sys.executable, "-m", "molq.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def disk_store(tmp_path):
    from molq.shell.store._store import JobStore

    store = JobStore(tmp_path / "usage.db")
    yield store
    store.close()


# -- local ------------------------------------------------------------------------------------


def test_local_runner_usage_and_cli(disk_store, tmp_path):
    """The runner's wait4: CPU time, peak RSS over the 500M request; inspect, report and replay show it."""
    sub = Submitor(Cluster("laptop", "local"), store=disk_store, jobs_dir=tmp_path / "jobs")
    job_id, usage = _run_one(sub, str(tmp_path), memory="500M")
    _cpu_ran(usage)
    assert usage.source == "rusage"
    assert usage.max_rss_bytes is not None
    assert 40 * MIB <= usage.max_rss_bytes < 500 * MIB
    assert usage.requested_memory_bytes == 500 * MIB
    assert 0.08 < (usage.memory_efficiency or 0) < 1
    _one_usage_event(sub, job_id)
    sub.close()

    shown = _cli(disk_store.path, "inspect", job_id)
    assert "usage:             from rusage" in shown
    assert "cpu efficiency:" in shown
    assert "memory efficiency:" in shown
    assert "of 500.00 MiB" in shown
    document = json.loads(_cli(disk_store.path, "inspect", job_id, "--json"))
    assert document["usage"]["cpu_seconds"] == usage.cpu_seconds
    assert document["usage"]["memory_efficiency"] == usage.memory_efficiency
    report = json.loads(_cli(disk_store.path, "report", "--json", "--no-fetch"))
    assert (report["jobs"], report["with_usage"]) == (1, 1)
    assert report["median_cpu_efficiency"] == usage.cpu_efficiency
    assert report["core_hours"] == pytest.approx(usage.elapsed_seconds / 3600)
    table = _cli(disk_store.path, "report", "--ratio", "0.9", "--no-fetch")
    assert "Requested far more memory than used" in table
    assert job_id in table
    assert "usage.cpu_seconds=" in _cli(disk_store.path, "replay", job_id)


def test_local_wrapper_usage(store, tmp_path, monkeypatch):
    """Without a runner, the sh wrapper's ``times`` gives CPU time (no peak memory)."""
    monkeypatch.setenv("MOLQ_LOCAL_RUNNER", "0")
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    job_id, usage = _run_one(sub, str(tmp_path))
    _cpu_ran(usage)
    assert usage.max_rss_bytes is None
    assert usage.requested_memory_bytes == 300 * MIB
    _one_usage_event(sub, job_id)


# -- Slurm ------------------------------------------------------------------------------------


@pytest.mark.slurm
def test_slurm_sacct_usage(disk_store, tmp_path):
    """sacct: TotalCPU, Elapsed, ReqMem, AllocCPUS, State, NodeList for a finished job, and molq report."""
    _need(_ok(["sinfo", "-h", "-o", "%T"]), "Slurm")
    sub = Submitor(Cluster("hpc", "slurm"), store=disk_store, jobs_dir=tmp_path / "jobs")
    job_id, usage = _run_one(sub, str(tmp_path), memory="200M")
    _cpu_ran(usage)
    assert usage.source == "sacct"
    assert usage.requested_memory_bytes == 200 * MIB
    assert usage.cpus is not None
    assert usage.cpus >= 1
    assert usage.raw_state == "COMPLETED"
    assert usage.raw_exit == "0:0"
    assert usage.nodes
    _one_usage_event(sub, job_id)
    sub.close()
    report = json.loads(_cli(disk_store.path, "report", "--json"))
    assert report["with_usage"] == 1
    assert report["usage"][0]["usage"]["source"] == "sacct"


@pytest.mark.slurm
def test_slurm_max_rss_after_a_sample(store, tmp_path):
    """A job longer than JobAcctGatherFrequency (30 s) gets a MaxRSS: memory efficiency is known."""
    _need(_ok(["sinfo", "-h", "-o", "%T"]), "Slurm")
    sub = Submitor(Cluster("hpc", "slurm"), store=store, jobs_dir=tmp_path / "jobs")
    hold = "python3 -c 'import time\nb = bytearray(60 << 20); b[::4096] = b\"x\" * len(b[::4096])\ntime.sleep(36)'"
    handle = sub.submit_job(
        command=hold, resources=JobResources(memory="400M"), execution=JobExecution(cwd=str(tmp_path))
    )
    assert handle.wait(timeout=240).state is JobState.SUCCEEDED
    usage = handle.usage()
    assert usage is not None
    assert usage.max_rss_bytes is not None
    assert 60 * MIB <= usage.max_rss_bytes < 400 * MIB
    assert usage.memory_efficiency == pytest.approx(usage.max_rss_bytes / (400 * MIB))
    assert usage.elapsed_seconds is not None
    assert usage.elapsed_seconds >= 36


@pytest.mark.slurm
@pytest.mark.ssh
def test_slurm_usage_over_ssh(store):
    """The same sacct usage through the real sshd."""
    _need(
        _ok(["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", ALIAS, "sinfo", "-h"]),
        f"Slurm over ssh {ALIAS}",
    )
    remote = f"/tmp/molq-acct-{uuid.uuid4().hex[:10]}"
    subprocess.run(["ssh", ALIAS, "mkdir", "-p", remote], stdin=subprocess.DEVNULL, check=True)
    try:
        transport = SshTransport(SshTransportOptions(host=ALIAS))
        sub = Submitor(
            Cluster("hpc-remote", "slurm", transport=transport), store=store, jobs_dir=f"{remote}/jobs"
        )
        job_id, usage = _run_one(sub, remote, memory="200M")
        _cpu_ran(usage)
        assert usage.source == "sacct"
        assert usage.requested_memory_bytes == 200 * MIB
        _one_usage_event(sub, job_id)
        sub.close()
    finally:
        subprocess.run(["ssh", ALIAS, "rm", "-rf", remote], stdin=subprocess.DEVNULL, check=False)


# -- PBS ---------------------------------------------------------------------------------------


def test_openpbs_resources_used(store, tmp_path):
    """OpenPBS ``qstat -x -f``: walltime, ncpus and the request; this MoM's cput 0 / mem 0kb kept honest."""
    reason = pbs_not_ready("pbs")
    if reason:
        pytest.skip(reason)
    sub = Submitor(pbs_cluster("pbs"), store=store, jobs_dir=tmp_path / "jobs")
    job_id, usage = _run_one(sub, str(tmp_path))
    assert usage.source == "qstat"
    assert usage.elapsed_seconds is not None
    assert usage.elapsed_seconds >= SLEEP
    assert usage.cpus == 1
    assert usage.requested_memory_bytes == 300 * MIB
    assert usage.raw_state == "F"
    assert usage.cpu_seconds is not None  # 0 on this MoM, a real figure elsewhere
    if usage.max_rss_bytes is None:
        assert "0kb" in usage.note
    else:
        assert usage.max_rss_bytes > 0
    _one_usage_event(sub, job_id)


def test_torque_wrappers_say_they_have_none(store, tmp_path):
    """Slurm's Torque wrappers keep no resources_used: molq says so and keeps its own facts."""
    reason = pbs_not_ready("pbs-torque")
    if reason:
        pytest.skip(reason)
    sub = Submitor(pbs_cluster("pbs-torque"), store=store, jobs_dir=tmp_path / "jobs")
    job_id, usage = _run_one(sub, str(tmp_path))
    assert usage.source == "qstat"
    assert usage.note == NO_RESOURCES_USED
    assert usage.cpu_seconds is None
    assert usage.requested_memory_bytes == 300 * MIB  # from the spec
    assert usage.elapsed_seconds is not None  # molq's own start-to-finish
    _one_usage_event(sub, job_id)


# -- LSF ---------------------------------------------------------------------------------------


@pytest.mark.lsf
def test_openlava_cpu_time_and_run_time(store, tmp_path, monkeypatch):
    """OpenLava ``bjobs -a -l``: the CPU time and Started→Done run time of a molq job that ended.

    No memory request here: molq renders ``JobResources.memory`` as ``-M 307200KB``, which
    OpenLava 4.0 refuses ("MEMLIMT value should be a positive integer"), and
    ``extra_bsub_flags`` reach only ``prepare()``; the next test gives ``-M`` to bsub itself.
    """
    use_openlava(monkeypatch)
    sub = Submitor(Cluster("openlava", "lsf"), store=store, jobs_dir=tmp_path / "jobs")
    handle = sub.submit_job(command=SCRIPT, execution=JobExecution(cwd=str(tmp_path)))
    assert handle.wait(timeout=180).state is JobState.SUCCEEDED
    usage = handle.usage()
    assert usage is not None
    _cpu_ran(usage)
    assert usage.source == "bjobs"
    assert usage.raw_state == "DONE"
    assert usage.requested_memory_bytes is None
    assert usage.cpus == 1
    assert usage.max_rss_bytes is None  # OpenLava keeps no memory figure once a job ends
    _one_usage_event(sub, handle.job_id)


@pytest.mark.lsf
def test_openlava_memlimit_of_a_bsub_job(tmp_path, monkeypatch):
    """``bsub -M 307200`` (KiB): the adapter's one bjobs call reads MEMLIMIT back as 300 MiB."""
    use_openlava(monkeypatch)
    script = tmp_path / "burn.sh"
    script.write_text(f"#!/bin/sh\n{SCRIPT}\n")
    script.chmod(0o755)
    done = subprocess.run(
        ["bsub", "-M", str(300 * 1024), "-o", str(tmp_path / "out"), str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    job = done.stdout.split("<", 1)[1].split(">", 1)[0]
    scheduler = LSFScheduler(LocalTransport())
    deadline = time.monotonic() + 120
    while (state := scheduler.observe_many([job])[job].state) is None or not state.is_terminal:
        assert time.monotonic() < deadline, state
        time.sleep(1)
    usage = scheduler.usage_many([job, "999999"])
    assert set(usage) == {job}
    assert usage[job].requested_memory_bytes == 300 * MIB
    _cpu_ran(usage[job])
