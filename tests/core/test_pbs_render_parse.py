"""PBS renderers and parsers: golden scripts and qstat/qsub outputs, states."""

from __future__ import annotations

from pathlib import Path

import pytest

from molq.core import (
    ConfigError,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    SchedulerOutputError,
)
from molq.core._sched._batch import (
    aggregate_state,
    exit_file_observation,
    parse_exit_code_file,
    terminal_status,
)
from molq.core._sched._pbs import (
    PBS_CAPABILITIES,
    parse_qsub_output,
    pbs_job_name,
    prepare_pbs,
    qsub_argv,
    render_pbs_script,
)
from molq.core._sched._pbs_parse import observation_from_attrs


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pbs"
JOB_DIR = "/scratch/molq/jobs/j1"


def fixture(name: str) -> str:
    """A captured output without its provenance header (``# …`` lines up to ``# ---``)."""
    text = (FIXTURES / name).read_text()
    head, sep, body = text.partition("# ---\n")
    return body if sep and all(line.startswith("# ") for line in head.splitlines()) else text


def full_spec(**scheduling) -> JobSpec:
    return JobSpec(
        command_type="argv",
        argv=("python", "train.py", "--lr", "0.1"),
        cwd="/home/alice/proj",
        resources=JobResources(
            cpu_count=4, memory="8G", gpu_count=1, time_limit="2h30m"
        ),
        scheduling=JobScheduling(
            partition="gpu",
            account="proj42",
            priority="10",
            dependency="afterok:12.pbs01:13.pbs01,afternotok:14.pbs01",
            node_count=2,
            exclusive_node=True,
            email="alice@example.org",
            **scheduling,
        ),
        execution=JobExecution(job_name="train run", env={"OMP_NUM_THREADS": "4"}),
        metadata={
            "molq.stdout_path": "/logs/out.txt",
            "molq.stderr_path": "/logs/err.txt",
        },
    )


PRO_HEADER = """#!/bin/bash
#PBS -N train_run
#PBS -o "/logs/out.txt.^array_index^"
#PBS -e "/logs/err.txt.^array_index^"
#PBS -l select=2:ncpus=4:mem=8gb:ngpus=1
#PBS -l place=scatter:excl
#PBS -l walltime=02:30:00
#PBS -q gpu
#PBS -A proj42
#PBS -p 10
#PBS -W depend=afterok:12.pbs01:13.pbs01,afternotok:14.pbs01
#PBS -J 0-7:2
#PBS -M alice@example.org
#PBS -m ae
cd /home/alice/proj || exit 127
export OMP_NUM_THREADS=4
(
python train.py --lr 0.1
)
"""


class TestRender:
    def test_pro_script_is_the_golden_one(self):
        """Every field becomes one #PBS directive in a fixed order, then the body."""
        script = render_pbs_script(full_spec(array_spec="0-7:2"), JOB_DIR)
        assert script.startswith(PRO_HEADER)
        assert script.rstrip().endswith('exit "$__molq_rc"')

    def test_pro_array_names_the_subjob_in_its_paths_once(self):
        """An OpenPBS array's -o/-e end in ^array_index^ (each subjob its own files); a plain job's do not."""
        plain = render_pbs_script(full_spec(), JOB_DIR)
        assert "#PBS -o /logs/out.txt\n" in plain
        assert "array_index" not in plain
        given = JobSpec(
            "argv",
            argv=("true",),
            scheduling=JobScheduling(array_spec="1-3"),
            execution=JobExecution(output_file="/l/o.^array_index^"),
        )
        assert '#PBS -o "/l/o.^array_index^"\n' in render_pbs_script(given, JOB_DIR)

    def test_torque_uses_nodes_ppn_and_t(self):
        """Torque gets nodes=N:ppn=C, a separate mem, -n for exclusive and -t arrays."""
        script = render_pbs_script(
            full_spec(array_spec="1-3,7"), JOB_DIR, flavor="torque"
        )
        assert "#PBS -l nodes=2:ppn=4:gpus=1\n#PBS -l mem=8gb\n#PBS -n\n" in script
        assert "#PBS -t 1-3,7\n" in script
        assert "select=" not in script

    def test_minimal_spec_writes_logs_to_the_job_dir(self):
        """Without paths, stdout/stderr go to the job dir; one chunk of one cpu."""
        spec = JobSpec(command_type="command", command="true")
        lines = render_pbs_script(spec, JOB_DIR).splitlines()
        assert lines[1:5] == [
            "#PBS -N molq-j1",
            f"#PBS -o {JOB_DIR}/stdout",
            f"#PBS -e {JOB_DIR}/stderr",
            "#PBS -l select=1:ncpus=1",
        ]

    def test_paths_with_spaces_are_quoted(self):
        """A path with a space is double-quoted in its directive."""
        spec = JobSpec(
            command_type="command",
            command="true",
            execution=JobExecution(output_file="/a b/o"),
        )
        assert '#PBS -o "/a b/o"' in render_pbs_script(spec, JOB_DIR)

    @pytest.mark.parametrize(
        "scheduling",
        [
            JobScheduling(partition="gpu\n#PBS -q evil"),
            JobScheduling(account="a\rb"),
            JobScheduling(dependency="afterok:1\0"),
            JobScheduling(email="x@y\n"),
            JobScheduling(priority="5000"),
            JobScheduling(priority="high"),
            JobScheduling(array_spec="1,2,3"),
        ],
    )
    def test_bad_directive_values_are_config_errors(self, scheduling):
        """Newlines, NUL, out-of-range priorities and non-range arrays are refused."""
        spec = JobSpec(command_type="command", command="true", scheduling=scheduling)
        with pytest.raises(ConfigError):
            render_pbs_script(spec, JOB_DIR)

    def test_newline_in_output_path_is_config_error(self):
        """A newline in the stdout path cannot reach a directive line."""
        spec = JobSpec(
            command_type="command",
            command="true",
            metadata={"molq.stdout_path": "/x\n#PBS -l"},
        )
        with pytest.raises(ConfigError):
            render_pbs_script(spec, JOB_DIR)

    @pytest.mark.parametrize(
        ("name", "clean"),
        [("ok-1.x", "ok-1.x"), ("my job", "my_job"), ("9lives", "j9lives")],
    )
    def test_job_names_are_made_acceptable(self, name, clean):
        """Names lose characters qsub rejects and start with a letter."""
        assert pbs_job_name(name) == clean

    def test_argv_is_qsub_and_the_script_path_only(self):
        """pro: all options live in the script, argv ends with the script path."""
        sub = prepare_pbs(full_spec(), JOB_DIR)
        assert sub.argv == qsub_argv(f"{JOB_DIR}/job.pbs") == ("qsub", f"{JOB_DIR}/job.pbs")
        assert sub.script_path == f"{JOB_DIR}/job.pbs"

    def test_foreground_qsub_leaves_no_background_process(self):
        """OpenPBS: `-f` keeps qsub from leaving its daemon behind; torque has no such option."""
        assert prepare_pbs(full_spec(), JOB_DIR, foreground=True).argv == ("qsub", "-f", f"{JOB_DIR}/job.pbs")
        torque = prepare_pbs(full_spec(), JOB_DIR, flavor="torque", foreground=True).argv
        assert "-f" not in torque

    def test_torque_argv_repeats_the_log_paths(self):
        """torque: -o/-e on the command line, or Slurm's wrapper writes <script>.o<id>."""
        sub = prepare_pbs(full_spec(), JOB_DIR, flavor="torque", qsub="/usr/bin/qsub")
        assert sub.argv == ("/usr/bin/qsub", "-o", "/logs/out.txt", "-e", "/logs/err.txt", f"{JOB_DIR}/job.pbs")

    def test_torque_argv_refuses_paths_the_wrapper_would_split(self):
        """The wrapper pastes paths into a shell line: spaces are a ConfigError."""
        spec = JobSpec(command_type="command", command="true", execution=JobExecution(output_file="/a b/o"))
        with pytest.raises(ConfigError, match="Torque-style"):
            prepare_pbs(spec, JOB_DIR, flavor="torque")

    def test_exit_in_the_command_still_records_the_exit_code(self):
        """The command runs in a subshell: `exit 3` does not skip the exit_code file."""
        spec = JobSpec(command_type="command", command="exit 3 # done")
        body = render_pbs_script(spec, JOB_DIR).split("\n", 5)[-1]
        assert "(\nexit 3 # done\n)\n__molq_rc=$?" in body

    def test_capabilities_are_honest(self):
        """PBS renders GPUs, accounts, arrays, email; no QoS, reservation, GPU model."""
        caps = PBS_CAPABILITIES
        assert (
            caps.gpu_count,
            caps.account,
            caps.array_spec,
            caps.email,
            caps.dependencies,
        ) == (True,) * 5
        assert (caps.qos, caps.reservation, caps.gpu_type) == (False,) * 3


class TestQsub:
    @pytest.mark.parametrize(
        ("name", "job_id"),
        [
            ("openpbs_qsub.txt", "13.pbshost"),
            ("openpbs_qsub_array.txt", "19[].pbshost"),
            ("torque_qsub.txt", "19"),
        ],
    )
    def test_captured_ids(self, name, job_id):
        """qsub's one line is the job id, with the server name kept."""
        assert parse_qsub_output(fixture(name)) == job_id

    def test_bare_number_from_slurm_torque_wrappers(self):
        """slurm-wlm-torque's qsub prints a bare number."""
        assert parse_qsub_output("14\n") == "14"

    @pytest.mark.parametrize(
        "text", ["", "qsub: Unknown queue", "12.srv\n13.srv", "abc.server", "12 .x"]
    )
    def test_garbage_is_scheduler_output_error(self, text):
        """Anything but exactly one job id is refused."""
        with pytest.raises(SchedulerOutputError):
            parse_qsub_output(text)


class TestExitFile:
    @pytest.mark.parametrize(
        ("text", "code"), [("0\n", 0), ("3", 3), (" 127 \n", 127), ("-1\n", -1)]
    )
    def test_exit_code_file(self, text, code):
        """The body's exit_code file holds one integer."""
        assert parse_exit_code_file(text) == code

    @pytest.mark.parametrize("text", ["", "x", "1\n2\n", "1.5"])
    def test_bad_exit_code_file(self, text):
        """Anything else is SchedulerOutputError, and an observation with no state."""
        with pytest.raises(SchedulerOutputError):
            parse_exit_code_file(text)
        assert exit_file_observation(text).state is None

    def test_exit_file_observation_and_terminal_status(self):
        """A file saying 0 is SUCCEEDED; only terminal observations give a status."""
        obs = exit_file_observation("0\n")
        status = terminal_status(obs)
        assert status is not None
        assert (status.state, status.exit_code) == (JobState.SUCCEEDED, 0)
        assert terminal_status(observation_from_attrs({"job_state": "R"})) is None

    @pytest.mark.parametrize(
        ("states", "result"),
        [
            ((JobState.SUCCEEDED, JobState.SUCCEEDED), JobState.SUCCEEDED),
            ((JobState.SUCCEEDED, JobState.RUNNING), JobState.RUNNING),
            ((JobState.QUEUED, JobState.FAILED), JobState.QUEUED),
            ((JobState.FAILED, JobState.CANCELLED), JobState.CANCELLED),
            ((JobState.SUBMITTED,), JobState.SUBMITTED),
            ((JobState.TIMED_OUT, JobState.SUCCEEDED), JobState.TIMED_OUT),
        ],
    )
    def test_aggregate_state(self, states, result):
        """An array is active while any element is; then the worst outcome wins."""
        assert aggregate_state(states) == result
