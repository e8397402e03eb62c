"""The exact #BSUB header and bsub call molq sends for each request (LSF and OpenLava)."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core._errors import ConfigError, SchedulerOutputError
from molq.core._sched._lsf import lsf_job_name, parse_bsub_output, prepare_lsf, render_lsf_script
from molq.core._spec import JobExecution, JobResources, JobScheduling, JobSpec


DIR = "/w/jobs/abc123"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lsf"


def spec(**kw: object) -> JobSpec:
    return JobSpec("argv", argv=("true",), **kw)  # type: ignore[arg-type]


def header(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#BSUB ")]


def test_default_header() -> None:
    text = render_lsf_script(spec(), DIR)
    assert header(text) == [f"#BSUB -o {DIR}/lsf.stdout", f"#BSUB -e {DIR}/lsf.stderr", "#BSUB -n 1"]
    assert text.startswith("#!/bin/bash\n#BSUB -o ")
    assert f"\nexec >>{DIR}/stdout 2>>{DIR}/stderr\n" in text


def test_resources() -> None:
    res = JobResources(cpu_count=4, memory="2G", gpu_count=2, gpu_type="a100", time_limit="61s")
    sch = JobScheduling(node_count=3, exclusive_node=True)
    assert header(render_lsf_script(spec(resources=res, scheduling=sch), DIR))[2:] == [
        "#BSUB -n 12", '#BSUB -R "span[ptile=4]"', "#BSUB -M 2097152KB", '#BSUB -R "rusage[mem=2097152KB]"',
        "#BSUB -gpu num=2:gmodel=a100", "#BSUB -x", "#BSUB -W 2",
    ]
    assert header(render_lsf_script(spec(resources=JobResources(cpu_count=2, gpu_count=1)), DIR))[2:] == [
        "#BSUB -n 2", "#BSUB -gpu num=1",
    ]


def test_scheduling() -> None:
    sch = JobScheduling(partition="normal", account="proj", priority="1", dependency="done(12)", email="a@b.c")
    assert header(render_lsf_script(spec(scheduling=sch), DIR))[3:] == [
        "#BSUB -q normal", "#BSUB -P proj", "#BSUB -sp 1", '#BSUB -w "done(12)"', "#BSUB -u a@b.c", "#BSUB -N",
    ]
    assert header(render_lsf_script(spec(scheduling=JobScheduling(priority=str(2**31 - 1))), DIR))[3:] == [
        f"#BSUB -sp {2**31 - 1}"
    ]
    for bad in ("0", str(2**31), "x"):
        with pytest.raises(ConfigError):
            render_lsf_script(spec(scheduling=JobScheduling(priority=bad)), DIR)


def test_names_and_arrays() -> None:
    named = render_lsf_script(spec(execution=JobExecution(job_name="my run")), DIR)
    assert header(named)[0] == "#BSUB -J my_run"
    array = render_lsf_script(spec(scheduling=JobScheduling(array_spec="1-4,7%2")), DIR)
    assert header(array)[0] == '#BSUB -J "molq[1-4,7%2]"'
    both = render_lsf_script(spec(execution=JobExecution(job_name="a b"), scheduling=JobScheduling(array_spec="3")), DIR)
    assert header(both)[0] == '#BSUB -J "a_b[3]"'
    assert lsf_job_name(None, None) is None
    assert lsf_job_name("", None) is None
    assert lsf_job_name("x" * 5000, None) == "x" * 4000
    assert lsf_job_name("n", "1-9:2") == "n[1-9:2]"
    for bad in ("1,", "a-b", "1-4%", "[1-4]"):
        with pytest.raises(ConfigError, match="is not an LSF index list"):
            lsf_job_name("n", bad)


def test_job_dir_with_lsf_patterns_is_refused() -> None:
    with pytest.raises(ConfigError):
        render_lsf_script(spec(), "/w/%J/x")
    with pytest.raises(ConfigError):
        render_lsf_script(spec(), "/w/%I")
    assert "/w/100%/lsf.stdout" in render_lsf_script(spec(), "/w/100%")


def test_prepare_lsf_feeds_the_script_on_stdin() -> None:
    sub = prepare_lsf(spec(), DIR)
    assert sub.argv == ("bsub",)
    assert sub.script_path == f"{DIR}/job.lsf"
    assert sub.details == (("stdin", f"{DIR}/job.lsf"),)
    assert sub.script == render_lsf_script(spec(), DIR)


def test_bsub_output_of_captures() -> None:
    assert parse_bsub_output((FIXTURES / "bsub_queue.txt").read_text()) == "5302"
    assert parse_bsub_output((FIXTURES / "bsub_default_queue.txt").read_text()) == "5301"
    assert parse_bsub_output("Job <123> is submitted to queue <normal>.\n") == "123"
    assert parse_bsub_output("Job <7> is submitted to default queue <normal>.") == "7"
    with pytest.raises(SchedulerOutputError, match="bsub printed no job id"):
        parse_bsub_output("Job <x> is submitted to queue <normal>.")
