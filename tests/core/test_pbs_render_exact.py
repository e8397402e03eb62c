"""The exact #PBS header and qsub argv molq sends for each request, on OpenPBS/PBS Pro and on Torque."""

from __future__ import annotations

import pytest

from molq.core._errors import ConfigError, SchedulerOutputError
from molq.core._sched._pbs import (
    parse_qsub_output,
    pbs_job_name,
    pbs_submit_name,
    prepare_pbs,
    qsub_argv,
    render_pbs_script,
)
from molq.core._spec import JobExecution, JobResources, JobScheduling, JobSpec


DIR = "/w/jobs/abc123"


def spec(**kw: object) -> JobSpec:
    return JobSpec("argv", argv=("true",), **kw)  # type: ignore[arg-type]


def header(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#PBS ")]


def test_default_header_pro_and_torque() -> None:
    base = ["#PBS -N molq-abc123", f"#PBS -o {DIR}/stdout", f"#PBS -e {DIR}/stderr"]
    assert header(render_pbs_script(spec(), DIR)) == [*base, "#PBS -l select=1:ncpus=1"]
    assert header(render_pbs_script(spec(), DIR, flavor="torque")) == [*base, "#PBS -l nodes=1:ppn=1"]
    assert render_pbs_script(spec(), DIR).startswith("#!/bin/bash\n#PBS -N molq-abc123\n")


def test_resources_pro() -> None:
    res = JobResources(cpu_count=8, memory="16G", gpu_count=2, time_limit="1-00:00:30")
    lines = header(render_pbs_script(spec(resources=res, scheduling=JobScheduling(node_count=3, exclusive_node=True)), DIR))
    assert lines[3:] == ["#PBS -l select=3:ncpus=8:mem=16gb:ngpus=2", "#PBS -l place=scatter:excl", "#PBS -l walltime=24:00:30"]
    one = header(render_pbs_script(spec(scheduling=JobScheduling(exclusive_node=True)), DIR))
    assert one[3:] == ["#PBS -l select=1:ncpus=1", "#PBS -l place=excl"]


def test_resources_torque() -> None:
    res = JobResources(cpu_count=4, memory="512M", gpu_count=1, time_limit="90s")
    lines = header(render_pbs_script(spec(resources=res, scheduling=JobScheduling(node_count=2, exclusive_node=True)), DIR, flavor="torque"))
    assert lines[3:] == ["#PBS -l nodes=2:ppn=4:gpus=1", "#PBS -l mem=512mb", "#PBS -n", "#PBS -l walltime=00:01:30"]


def test_scheduling_lines() -> None:
    sch = JobScheduling(partition="workq", account="proj", priority="-1024", dependency="afterok:12.srv",
                        array_spec="1-10:2%3", email="a@b.c")
    assert header(render_pbs_script(spec(scheduling=sch), DIR))[4:] == [
        "#PBS -q workq", "#PBS -A proj", "#PBS -p -1024", "#PBS -W depend=afterok:12.srv", "#PBS -J 1-10:2%3",
        "#PBS -M a@b.c", "#PBS -m ae",
    ]
    torque = JobScheduling(array_spec="1-4,7%2", priority="1023")
    assert header(render_pbs_script(spec(scheduling=torque), DIR, flavor="torque"))[4:] == ["#PBS -p 1023", "#PBS -t 1-4,7%2"]
    assert header(render_pbs_script(spec(scheduling=JobScheduling(dependency="")), DIR))[4:] == []


@pytest.mark.parametrize(
    ("flavor", "array", "ok"),
    [("pro", "1-10", True), ("pro", "0-4:2", True), ("pro", "1,2", False), ("pro", "5", False), ("pro", "1-4x", False),
     ("torque", "5", True), ("torque", "1-3,7,9-11%2", True), ("torque", "1-3:2", False), ("torque", "a", False)],
)
def test_array_forms(flavor: str, array: str, ok: bool) -> None:
    render = lambda: render_pbs_script(spec(scheduling=JobScheduling(array_spec=array)), DIR, flavor=flavor)  # type: ignore[arg-type]  # noqa: E731
    if ok:
        assert f"#PBS {'-J' if flavor == 'pro' else '-t'} {array}" in render()
    else:
        form = "start-end[:step][%max]" if flavor == "pro" else "1-4,7[%max]"
        with pytest.raises(ConfigError, match=f"is not a PBS {flavor} range: use {form}".replace("[", r"\[")):
            render()


@pytest.mark.parametrize("priority", ["1024", "-1025", "high"])
def test_priority_out_of_range(priority: str) -> None:
    with pytest.raises(ConfigError):
        render_pbs_script(spec(scheduling=JobScheduling(priority=priority)), DIR)


def test_torque_paths_refuse_percent() -> None:
    with pytest.raises(ConfigError):
        render_pbs_script(spec(execution=JobExecution(output_file="/w/out.%j")), DIR, flavor="torque")
    assert "#PBS -o /w/out.%j" in render_pbs_script(spec(execution=JobExecution(output_file="/w/out.%j")), DIR)


@pytest.mark.parametrize(
    ("name", "clean"),
    [("train", "train"), ("my job/1", "my_job_1"), ("1st", "j1st"), ("_x", "j_x"), ("", "j"), ("a" * 300, "a" * 236),
     ("9" * 300, "j" + "9" * 235), ("a.b+c-d", "a.b+c-d")],
)
def test_job_names(name: str, clean: str) -> None:
    assert pbs_job_name(name) == clean


def test_submit_name() -> None:
    assert pbs_submit_name(spec(execution=JobExecution(job_name="my run")), DIR) == "my_run"
    assert pbs_submit_name(spec(), "/w/jobs/42/") == "molq-42"
    assert pbs_submit_name(spec(), "jobdir") == "molq-jobdir"


def test_qsub_argv() -> None:
    assert qsub_argv("/w/job.pbs") == ("qsub", "/w/job.pbs")
    assert qsub_argv("/w/job.pbs", foreground=True) == ("qsub", "-f", "/w/job.pbs")
    assert qsub_argv("/w/job.pbs", flavor="torque", foreground=True) == ("qsub", "/w/job.pbs")
    assert qsub_argv("/w/job.pbs", flavor="torque", logs=("/w/o", "/w/e"), qsub="/usr/bin/qsub") == (
        "/usr/bin/qsub", "-o", "/w/o", "-e", "/w/e", "/w/job.pbs"
    )
    assert qsub_argv("/w/job.pbs", flavor="pro", logs=("/w/o", "/w/e"), qsub="q") == ("q", "/w/job.pbs")
    for logs, script in ((("/w/o o", "/w/e"), "/w/j"), (("/w/o", "/w/e;x"), "/w/j"), (("/w/o", "/w/e"), "/w/j$")):
        with pytest.raises(ConfigError, match="which Torque-style qsub wrappers cannot pass on"):
            qsub_argv(script, flavor="torque", logs=logs)


def test_prepare_pbs() -> None:
    sub = prepare_pbs(spec(), DIR, flavor="torque", qsub="qsub2")
    assert sub.script_path == f"{DIR}/job.pbs"
    assert sub.argv == ("qsub2", "-o", f"{DIR}/stdout", "-e", f"{DIR}/stderr", f"{DIR}/job.pbs")
    assert "#PBS -l nodes=1:ppn=1" in sub.script
    pro = prepare_pbs(spec(), DIR, foreground=True)
    assert pro.argv == ("qsub", "-f", f"{DIR}/job.pbs")
    assert "#PBS -l select=1:ncpus=1" in pro.script


@pytest.mark.parametrize(
    ("stdout", "job_id"),
    [("123.pbshost\n", "123.pbshost"), ("  14  \n\n", "14"), ("12[].srv", "12[].srv"), ("7[3].a-b.c", "7[3].a-b.c")],
)
def test_qsub_output(stdout: str, job_id: str) -> None:
    assert parse_qsub_output(stdout) == job_id


@pytest.mark.parametrize("stdout", ["", "1.s\n2.s\n", "qsub: error", "12.", "x12", "12[].-srv"])
def test_qsub_output_refused(stdout: str) -> None:
    with pytest.raises(SchedulerOutputError, match="qsub printed no job id"):
        parse_qsub_output(stdout)
