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
from molq.core._sched._pbs_parse import (
    match_ids,
    observation_from_attrs,
    parse_qstat_errors,
    parse_qstat_full,
    parse_queue,
    parse_status,
    qdel_outcome,
)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pbs"
JOB_DIR = "/scratch/molq/jobs/j1"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


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
#PBS -o /logs/out.txt
#PBS -e /logs/err.txt
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
python train.py --lr 0.1
"""


class TestRender:
    def test_pro_script_is_the_golden_one(self):
        """Every field becomes one #PBS directive in a fixed order, then the body."""
        script = render_pbs_script(full_spec(array_spec="0-7:2"), JOB_DIR)
        assert script.startswith(PRO_HEADER)
        assert script.rstrip().endswith('exit "$__molq_rc"')

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
        assert lines[1:4] == [
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
        """All options live in the script: argv ends with the script path."""
        sub = prepare_pbs(full_spec(), JOB_DIR)
        assert (
            sub.argv
            == qsub_argv(f"{JOB_DIR}/job.pbs")
            == ("qsub", f"{JOB_DIR}/job.pbs")
        )
        assert sub.script_path == f"{JOB_DIR}/job.pbs"

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
            ("qsub_pro.txt", "4711.pbs01"),
            ("qsub_torque.txt", "8123.torque-head.cluster.example.org"),
            ("qsub_array.txt", "4712[].pbs01"),
        ],
    )
    def test_golden_ids(self, name, job_id):
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


class TestStatus:
    def test_pro_history_golden(self):
        """qstat -x -f: 0 succeeded, -29 timed out, substate 91 cancelled, 3 failed."""
        seen = parse_status(fixture("qstat_xf_pro_mixed.txt"))
        summary = {k: (o.state, o.exit_code) for k, o in seen.items()}
        assert summary == {
            "4711.pbs01": (JobState.SUCCEEDED, 0),
            "4712.pbs01": (JobState.TIMED_OUT, -29),
            "4713.pbs01": (JobState.CANCELLED, None),
            "4714.pbs01": (JobState.CANCELLED, 271),
            "4715.pbs01": (JobState.FAILED, 3),
        }

    def test_wrapped_values_are_joined(self):
        """Tab continuation lines extend the previous attribute."""
        attrs = parse_qstat_full(fixture("qstat_xf_pro_mixed.txt"))["4711.pbs01"]
        assert attrs["Variable_List"].endswith("PBS_O_QUEUE=workq,PBS_O_HOST=login01")
        assert "PBS_O_LOGNAME=alice," in attrs["Variable_List"]

    def test_active_jobs_golden(self):
        """H and Q are QUEUED, R and B (array begun) are RUNNING; none terminal."""
        seen = parse_status(fixture("qstat_f_pro_active.txt"))
        assert {k: o.state for k, o in seen.items()} == {
            "4720.pbs01": JobState.QUEUED,
            "4721.pbs01": JobState.RUNNING,
            "4722[].pbs01": JobState.RUNNING,
            "4723.pbs01": JobState.QUEUED,
        }

    def test_torque_completed_golden(self):
        """Torque C with exit_status: -1 failed, -11 timed out, 0 succeeded."""
        seen = parse_status(fixture("qstat_f_torque_completed.txt"))
        assert [(o.state, o.exit_code, o.raw_state) for o in seen.values()] == [
            (JobState.FAILED, -1, "C"),
            (JobState.TIMED_OUT, -11, "C"),
            (JobState.SUCCEEDED, 0, "C"),
        ]
        variables = parse_qstat_full(fixture("qstat_f_torque_completed.txt"))
        assert (
            "PBS_O_WORKDIR=/home/dave"
            in next(iter(variables.values()))["Variable_List"]
        )

    @pytest.mark.parametrize(
        ("letter", "state"),
        [
            ("Q", JobState.QUEUED),
            ("H", JobState.QUEUED),
            ("W", JobState.QUEUED),
            ("T", JobState.QUEUED),
            ("R", JobState.RUNNING),
            ("E", JobState.RUNNING),
            ("B", JobState.RUNNING),
            ("S", JobState.RUNNING),
            ("U", JobState.RUNNING),
            ("M", JobState.SUBMITTED),
            ("Z", JobState.SUBMITTED),
        ],
    )
    def test_active_letters(self, letter, state):
        """Active letters map by table; unknown ones (M, Z) are SUBMITTED, raw kept."""
        obs = observation_from_attrs({"job_state": letter})
        assert (obs.state, obs.raw_state) == (state, letter)

    def test_signal_kill_past_walltime_is_timed_out(self):
        """Older PBS Pro reports 271 for a walltime kill: used >= limit is TIMED_OUT."""
        attrs = {
            "job_state": "F",
            "Exit_status": "271",
            "resources_used.walltime": "01:00:02",
            "Resource_List.walltime": "01:00:00",
        }
        assert observation_from_attrs(attrs).state == JobState.TIMED_OUT

    def test_signal_kill_within_walltime_is_failed(self):
        """A signal kill well inside the walltime is FAILED, naming the signal."""
        obs = observation_from_attrs(
            {
                "job_state": "F",
                "Exit_status": "265",
                "Resource_List.walltime": "01:00:00",
            }
        )
        assert (obs.state, obs.reason) == (JobState.FAILED, "killed by signal 9")

    def test_finished_without_exit_status_is_failed_without_code(self):
        """F without Exit_status cannot be called a success."""
        obs = observation_from_attrs({"job_state": "F"})
        assert (obs.state, obs.exit_code) == (JobState.FAILED, None)

    @pytest.mark.parametrize(
        "text",
        [
            "garbage",
            "Job Id: 1.x\nno equals here",
            "    a = b\n",
            "Job Id: 1.x\n    queue = q\n",
        ],
    )
    def test_garbage_is_scheduler_output_error(self, text):
        """Lines outside a job block, and blocks without job_state, are refused."""
        with pytest.raises(SchedulerOutputError):
            parse_status(text)

    def test_bad_exit_status_is_scheduler_output_error(self):
        """A non-integer Exit_status is refused, not guessed."""
        with pytest.raises(SchedulerOutputError):
            observation_from_attrs({"job_state": "F", "Exit_status": "zero"})

    def test_empty_output_is_no_jobs(self):
        """qstat prints nothing when no job matches."""
        assert parse_status("") == {}


class TestErrorsAndIds:
    def test_qstat_errors_golden(self):
        """Unknown and finished ids are told apart; nothing else is an error."""
        unknown, finished, other = parse_qstat_errors(fixture("qstat_errors.txt"))
        assert (unknown, finished, other) == (
            frozenset({"9999.pbs01"}),
            frozenset({"4711.pbs01"}),
            (),
        )

    def test_torque_unknown_error_form(self):
        """Torque says 'Unknown Job Id Error ID'."""
        unknown, _, other = parse_qstat_errors(
            "qstat: Unknown Job Id Error 77.head\nqstat: cannot connect\n"
        )
        assert (unknown, other) == (frozenset({"77.head"}), ("qstat: cannot connect",))

    def test_match_ids_by_sequence_number(self):
        """An id asked as '12' or '12.short' finds '12.server.domain'."""
        found = parse_status("Job Id: 12.server.domain\n    job_state = R\n")
        assert set(match_ids(["12", "12.server", "13"], found)) == {"12", "12.server"}

    @pytest.mark.parametrize(
        ("rc", "stderr", "outcome"),
        [
            (0, "", "deleted"),
            (35, "qdel: Job has finished 1.s", "finished"),
            (153, "qdel: Unknown Job Id 1.s", "unknown"),
            (168, "qdel: Request invalid for state of job 1.s", "finished"),
            (1, "qdel: cannot connect", "error"),
        ],
    )
    def test_qdel_outcomes(self, rc, stderr, outcome):
        """qdel's replies are classified; only real failures are errors."""
        assert qdel_outcome(rc, stderr) == outcome


class TestQueue:
    def test_queue_entries_and_user_filter(self):
        """Entries carry name, owner, queue and state; a user filter keeps theirs."""
        entries = parse_queue(fixture("qstat_f_pro_active.txt"))
        assert [(e.scheduler_job_id, e.user, e.partition) for e in entries][-1] == (
            "4723.pbs01",
            "carol",
            "short",
        )
        mine = parse_queue(fixture("qstat_f_pro_active.txt"), user="alice")
        assert [(e.name, e.state, e.raw_state) for e in mine] == [
            ("waits", JobState.QUEUED, "H"),
            ("runs", JobState.RUNNING, "R"),
        ]


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
