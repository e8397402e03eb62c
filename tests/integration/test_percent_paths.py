"""``%`` in a working directory or output path, on the real schedulers (issue 13, item 9).

sbatch expands ``%j``/``%J``/``%x``... in ``--output``/``--error`` (``%%`` is a ``%``)
and takes ``--chdir`` literally; OpenLava's bsub expands ``%J`` and ``%I`` in ``-o``/``-e``
and has no escape (``%%J`` gives ``%`` and the id); OpenPBS expands nothing.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
from tests.slurm import NO_SLURM, slurm_ready

from molq import Cluster, ConfigError, JobExecution, JobState, Submitor
from molq.core import JobSpec
from molq.core._sched._lsf import render_lsf_script


OPENLAVA = Path("/opt/openlava/bin/bsub")


@pytest.mark.slurm
@pytest.mark.skipif(not slurm_ready(), reason=NO_SLURM)
def test_slurm_job_in_percent_directories_runs_and_writes_where_asked(store, tmp_path):
    """cwd ``ratio%j`` and job dir ``run%J``: the job runs there and its output is read back."""
    cwd = tmp_path / "ratio%j"
    cwd.mkdir()
    hpc = Submitor(Cluster("hpc", "slurm"), store=store)
    handle = hpc.submit_job(argv=["pwd"], execution=JobExecution(cwd=str(cwd)), job_dir_name="run%J")
    try:
        record = handle.wait(timeout=120)
    finally:
        hpc.cancel_job(handle.job_id)
    assert record.state is JobState.SUCCEEDED, record
    assert Path(record.metadata["molq.stdout_path"]).read_text() == f"{cwd}\n"
    assert "%" in record.metadata["molq.stdout_path"]


def _openlava_env() -> dict[str, str]:
    env = dict(os.environ, LSB_NTRIES="1", LSF_ENVDIR="/opt/openlava/etc")
    env["PATH"] = f"/opt/openlava/bin:{env['PATH']}"
    return env


def _openlava_ready() -> bool:
    if not OPENLAVA.exists():
        return False
    done = subprocess.run(["bhosts"], capture_output=True, text=True, env=_openlava_env(), check=False, timeout=30)
    return done.returncode == 0 and " ok " in done.stdout


@pytest.mark.skipif(not _openlava_ready(), reason="no OpenLava (run shared/ci/lsf/lsf-up as root)")
def test_openlava_expands_percent_j_and_i_and_has_no_escape(tmp_path):
    """The facts the LSF renderer relies on: %J/%I are replaced even as %%J; %j, %x, %U stay."""
    out = tmp_path / "lsf-out"
    out.mkdir(mode=0o777)
    argv = ["bsub", "-o", f"{out}/a%%J", "-e", f"{out}/b%j%x%U", "/bin/true"]
    done = subprocess.run(argv, capture_output=True, text=True, env=_openlava_env(), check=True, timeout=60)
    job_id = done.stdout.split("<", 1)[1].split(">", 1)[0]
    deadline = time.monotonic() + 90
    while len(list(out.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert sorted(p.name for p in out.iterdir()) == [f"a%{job_id}", "b%j%x%U"]


class TestLsfRenderer:
    def test_percent_in_an_output_path_is_written_by_the_shell(self):
        """molq's output paths are opened by the job's shell (``exec >>``), where LSF expands nothing."""
        for path in ("/data/run%J/out", "/data/x%I", "/data/ratio%j/out"):
            spec = JobSpec("argv", argv=("true",), execution=JobExecution(output_file=path))
            script = render_lsf_script(spec, "/j/1")
            assert f"exec >>{path} " in script
            assert "#BSUB -o /j/1/lsf.stdout" in script

    def test_percent_j_or_i_in_the_job_dir_is_refused(self):
        """LSF's report files sit in the job dir on ``-o``/``-e``, which bsub would rewrite: a ConfigError first."""
        spec = JobSpec("argv", argv=("true",))
        for job_dir in ("/data/run%J/1", "/data/x%I/1"):
            with pytest.raises(ConfigError, match="LSF replaces"):
                render_lsf_script(spec, job_dir)
