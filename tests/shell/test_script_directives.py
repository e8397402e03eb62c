"""A script's own directives at submit_job: read through the transport, merged, warned about, shown in dry runs."""

from __future__ import annotations

import warnings

import pytest

from molq import Cluster, ConfigError, JobExecution, JobResources, JobScheduling, Script, Submitor
from molq.core import JobSpec
from molq.shell._script_directives import directive_header, script_file, with_script_directives
from molq.shell.transport._local import LocalTransport


SCRIPT = """#!/bin/bash
#SBATCH --comment=from-script
#SBATCH -o mine.log
#SBATCH --time=10
echo body
#SBATCH --comment=ignored
"""


@pytest.fixture
def slurm(store, tmp_path):
    sub = Submitor(Cluster("hpc", "slurm"), store=store, jobs_dir=tmp_path / "jobs")
    yield sub
    sub.close()



def test_dry_run_merges_the_scripts_directives_and_warns(slurm, tmp_path, store):
    """Non-conflicting directives are kept verbatim; molq's output and typed time win with one warning each."""
    path = tmp_path / "job.sbatch"
    path.write_text(SCRIPT)
    with pytest.warns(UserWarning, match="is not used") as caught:
        dry = slurm.submit_job(
            script=Script.path(path), resources=JobResources(time_limit="1h"), dry_run=True
        )
    assert [str(w.message) for w in caught] == [
        "script directive '#SBATCH -o mine.log' is not used: it sets --output, and molq sets the output path (use JobExecution.output_file)",
        "script directive '#SBATCH --time=10' is not used: it sets --time, and molq sets it from resources.time_limit",
    ]
    assert {w.filename for w in caught} == {__file__}  # the warning points at the submit_job call
    header = dry.details["directives"].split("\n")
    assert header[-2:] == ["#SBATCH --time=01:00:00", "#SBATCH --comment=from-script"]
    assert "#SBATCH -o mine.log" not in header
    assert "#SBATCH --comment=ignored" not in dry.details["script"]
    assert slurm.list_jobs(include_terminal=True) == []


def test_relative_script_is_read_from_the_jobs_cwd(slurm, tmp_path):
    """A relative Script.path is found where the job body runs it: under the job's cwd."""
    (tmp_path / "job.sh").write_text("#!/bin/sh\n#SBATCH --comment=relative\ntrue\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dry = slurm.submit_job(script=Script.path("job.sh"), execution=JobExecution(cwd=str(tmp_path)), dry_run=True)
    assert dry.details["directives"].endswith("#SBATCH --comment=relative")


def test_missing_script_submits_as_before(slurm, tmp_path):
    """A script molq cannot read adds no directives and no error (the job fails when it runs, as before)."""
    dry = slurm.submit_job(script=Script.path(tmp_path / "absent.sh"), dry_run=True)
    assert "#SBATCH --comment" not in dry.details["directives"]


def test_inline_script_directives_are_read_too(slurm):
    """An inline script's directives are merged the same way, without any I/O."""
    dry = slurm.submit_job(script=Script.inline("#SBATCH --comment=inline\necho hi\n"), dry_run=True)
    assert dry.details["directives"].endswith("#SBATCH --comment=inline")


def test_conflicting_extra_flag_is_refused_before_anything_is_stored(slurm, store):
    """An extra flag naming molq's job name raises ConfigError at the call; no event is written."""
    with pytest.raises(ConfigError, match="scheduler flag '--job-name=x' sets --job-name"):
        slurm.submit_job(argv=["true"], scheduling=JobScheduling(extra_flags=("--job-name=x",)))
    assert slurm.list_jobs(include_terminal=True) == []


def test_local_scheduler_refuses_extra_flags(store, tmp_path):
    """The local scheduler has no batch system: extra flags are refused with a clear message."""
    sub = Submitor(Cluster("laptop", "local"), store=store, jobs_dir=tmp_path / "jobs")
    with pytest.raises(ConfigError, match=r"does not support scheduling.extra_flags \(raw scheduler flags"):
        sub.submit_job(argv=["true"], scheduling=JobScheduling(extra_flags=("--constraint=a",)))
    assert sub.list_jobs(include_terminal=True) == []
    sub.close()


def test_local_scheduler_leaves_script_directives_alone(tmp_path):
    """For local jobs the script is not read: its #SBATCH lines are comments there."""
    path = tmp_path / "job.sh"
    path.write_text(SCRIPT)
    spec = JobSpec(command_type="script", script=Script.path(path), cwd=str(tmp_path))
    assert with_script_directives(spec, LocalTransport(), "local") is spec


class TestHelpers:
    def test_script_file_paths(self):
        """Absolute and home paths are kept; relative ones are joined to the cwd."""
        def spec(path, cwd):
            return JobSpec(command_type="script", script=Script.path(path), cwd=cwd)

        assert script_file(spec("/a/job.sh", "/w")) == "/a/job.sh"
        assert script_file(spec("~/job.sh", "/w")) == "~/job.sh"
        assert script_file(spec("job.sh", "/w/")) == "/w/job.sh"
        assert script_file(spec("job.sh", ".")) == "job.sh"
        assert script_file(JobSpec(command_type="argv", argv=("true",))) is None

    def test_header_of_local_is_none(self):
        """Local scripts have no directive header."""
        assert directive_header("#!/bin/sh\n", "local") is None
        assert directive_header("#!/bin/sh\n#PBS -N x\ntrue\n", "pbs") == "#PBS -N x"


def test_sweep_cells_carry_the_template_scripts_directives(slurm, tmp_path):
    """A sweep's template script is read once; every cell's rendered script holds its directives."""
    from molq.api._sweep_api import build_sweep
    from molq.core._sweep_state import cell_created

    path = tmp_path / "cell.sh"
    path.write_text("#!/bin/sh\n#SBATCH --comment=sweep\necho cell\n")
    created = build_sweep(
        slurm, matrix={"n": [1, 2]}, args=None, max_parallel=1, fail_fast=False,
        argv=None, command=None, script=Script.path(path), retry=None,
        options={"scheduling": JobScheduling(extra_flags=("--nice=1",))},
    )
    assert created.spec.script_directives == ("--comment=sweep",)
    for cell in created.cells:
        rendered = cell_created(created, cell, now=created.at)
        script = slurm.target.scheduler_impl.prepare(rendered.spec, rendered.job_dir or "").script
        assert "#SBATCH --comment=sweep\n#SBATCH --nice=1\n" in script


def test_profile_defaults_carry_extra_flags(tmp_path, store):
    """extra_flags in a profile's default scheduling reach every job; a job's own replace them."""
    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.hpc]\nscheduler = "slurm"\ncluster_name = "hpc"\n'
        '[profiles.hpc.defaults.scheduling]\nextra_flags = ["--constraint=intel"]\n'
    )
    sub = Submitor.from_profile("hpc", config_path=config, store=store)
    assert sub.submit_job(argv=["true"], dry_run=True).details["directives"].endswith("#SBATCH --constraint=intel")
    own = sub.submit_job(argv=["true"], scheduling=JobScheduling(extra_flags=("--nice=1",)), dry_run=True)
    assert own.details["directives"].endswith("#SBATCH --nice=1")
    assert "--constraint" not in own.details["directives"]
    sub.close()


def test_profile_extra_flags_as_one_string_is_refused(tmp_path):
    """A TOML string where a list belongs is refused by name (not split into letters)."""
    from molq.api._config import load_profile
    from molq.core import SpecError

    config = tmp_path / "config.toml"
    config.write_text(
        '[profiles.hpc]\nscheduler = "slurm"\ncluster_name = "hpc"\n'
        '[profiles.hpc.defaults.scheduling]\nextra_flags = "--constraint=intel"\n'
    )
    with pytest.raises(SpecError, match=r"extra_flags must be a list of strings .* got str '--constraint=intel'"):
        load_profile("hpc", config)
