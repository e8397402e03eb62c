"""LSF renderers and parsers: golden scripts and bsub/bjobs outputs, states."""

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
from molq.core._sched._lsf import (
    LSF_CAPABILITIES,
    bsub_argv,
    lsf_job_name,
    parse_bsub_output,
    prepare_lsf,
    render_lsf_script,
)
from molq.core._sched._lsf_parse import (
    BJOBS_FORMAT,
    BjobsRow,
    bkill_outcome,
    observation_from_row,
    parse_bjobs_errors,
    parse_bjobs_rows,
    parse_queue,
    parse_status,
)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lsf"
JOB_DIR = "/scratch/molq/jobs/j1"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def full_spec(**scheduling) -> JobSpec:
    return JobSpec(
        command_type="argv",
        argv=("python", "train.py"),
        cwd="/home/alice/proj",
        resources=JobResources(
            cpu_count=4, memory="8G", gpu_count=2, gpu_type="A100", time_limit="90s"
        ),
        scheduling=JobScheduling(
            partition="gpu",
            account="proj42",
            priority="50",
            dependency="done(12) && exit(13)",
            node_count=2,
            exclusive_node=True,
            email="alice@example.org",
            **scheduling,
        ),
        execution=JobExecution(job_name="train"),
        metadata={
            "molq.stdout_path": "/logs/out.txt",
            "molq.stderr_path": "/logs/err.txt",
        },
    )


LSF_HEADER = """#!/bin/bash
#BSUB -J "train[1-4]"
#BSUB -o /scratch/molq/jobs/j1/lsf.stdout
#BSUB -e /scratch/molq/jobs/j1/lsf.stderr
#BSUB -n 8
#BSUB -R "span[ptile=4]"
#BSUB -M 8388608KB
#BSUB -R "rusage[mem=8388608KB]"
#BSUB -gpu num=2:gmodel=A100
#BSUB -x
#BSUB -W 2
#BSUB -q gpu
#BSUB -P proj42
#BSUB -sp 50
#BSUB -w "done(12) && exit(13)"
#BSUB -u alice@example.org
#BSUB -N
exec >>/logs/out.txt."$LSB_JOBINDEX" 2>>/logs/err.txt."$LSB_JOBINDEX"
cd /home/alice/proj || exit 127
python train.py
"""


class TestRender:
    def test_script_is_the_golden_one(self):
        """Every field becomes one #BSUB directive in a fixed order, then the body."""
        script = render_lsf_script(full_spec(array_spec="1-4"), JOB_DIR)
        assert script.startswith(LSF_HEADER)

    def test_minimal_spec(self):
        """Without a name there is no -J; LSF's report and the job's logs go to the job dir; one slot."""
        lines = render_lsf_script(
            JobSpec(command_type="command", command="true"), JOB_DIR
        ).splitlines()
        assert lines[1:5] == [
            f"#BSUB -o {JOB_DIR}/lsf.stdout",
            f"#BSUB -e {JOB_DIR}/lsf.stderr",
            "#BSUB -n 1",
            f"exec >>{JOB_DIR}/stdout 2>>{JOB_DIR}/stderr",
        ]

    def test_no_overwrite_options_openlava_lacks(self):
        """-oo/-eo are IBM-only (OpenLava 4.0 reads ``-oo x`` as ``-o o`` plus a command)."""
        script = render_lsf_script(full_spec(), JOB_DIR)
        assert "-oo" not in script
        assert "-eo" not in script

    @pytest.mark.parametrize(
        ("name", "array", "value"),
        [
            ("train", None, "train"),
            ("my job", None, "my_job"),
            (None, "1-10:2%3", "molq[1-10:2%3]"),
            (None, None, None),
        ],
    )
    def test_job_names(self, name, array, value):
        """Arrays get name[spec]; names lose characters bsub would mangle."""
        assert lsf_job_name(name, array) == value

    @pytest.mark.parametrize(
        "scheduling",
        [
            JobScheduling(partition="q\n#BSUB -q evil"),
            JobScheduling(dependency="done(1)\0"),
            JobScheduling(account='a "b'),
            JobScheduling(priority="0"),
            JobScheduling(priority="x"),
            JobScheduling(array_spec="1-4]"),
        ],
    )
    def test_bad_values_are_config_errors(self, scheduling):
        """Newlines, NUL, unquotable text, bad priorities and arrays are refused."""
        spec = JobSpec(command_type="command", command="true", scheduling=scheduling)
        with pytest.raises(ConfigError):
            render_lsf_script(spec, JOB_DIR)

    def test_argv_is_bsub_alone_with_the_script_on_stdin(self):
        """bsub reads #BSUB lines only from a script on stdin: argv is just bsub."""
        sub = prepare_lsf(full_spec(), JOB_DIR)
        assert sub.argv == bsub_argv() == ("bsub",)
        assert sub.script_path == f"{JOB_DIR}/job.lsf"
        assert dict(sub.details) == {"stdin": f"{JOB_DIR}/job.lsf"}

    def test_capabilities_are_honest(self):
        """LSF renders GPU models, projects, arrays, email; not QoS or reservations."""
        caps = LSF_CAPABILITIES
        assert (caps.gpu_type, caps.account, caps.array_spec, caps.priority) == (
            True,
        ) * 4
        assert (caps.qos, caps.reservation) == (False, False)


class TestBsub:
    @pytest.mark.parametrize(
        ("name", "job_id"),
        [("bsub_default_queue.txt", "5301"), ("bsub_queue.txt", "5302")],
    )
    def test_golden(self, name, job_id):
        """The id comes from 'Job <id> is submitted to [default ]queue <q>.'."""
        assert parse_bsub_output(fixture(name)) == job_id

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "Job <x> is submitted",
            "Queue does not exist. Job not submitted.",
            "Job <12>",
        ],
    )
    def test_garbage(self, text):
        """Anything else is SchedulerOutputError."""
        with pytest.raises(SchedulerOutputError):
            parse_bsub_output(text)


class TestBjobs:
    def test_format_asks_for_the_parsed_fields(self):
        """The -o format names the eight fields the parser reads, '|' separated."""
        assert (
            BJOBS_FORMAT
            == "jobid jobindex stat exit_code exit_reason user queue job_name "
            "delimiter='|'"
        )

    def test_golden_rows(self):
        """DONE, EXIT with code/reason, and every active state map as documented."""
        seen = parse_status(fixture("bjobs_o_rows.txt"))
        summary = {k: (o.state, o.exit_code) for k, o in seen.items()}
        assert summary == {
            "5301": (JobState.SUCCEEDED, 0),
            "5302": (JobState.FAILED, 3),
            "5303": (JobState.TIMED_OUT, 140),
            "5304": (JobState.CANCELLED, 130),
            "5305": (JobState.CANCELLED, None),
            "5306": (JobState.QUEUED, None),
            "5307": (JobState.RUNNING, None),
            "5308": (JobState.QUEUED, None),
            "5309": (JobState.RUNNING, None),
            "5310": (JobState.RUNNING, None),
            "5311": (JobState.SUBMITTED, None),
            "5312": (JobState.SUBMITTED, None),
            "5313": (JobState.RUNNING, 1),
        }
        assert seen["5313"].raw_state == "DONE,EXIT,RUN"

    def test_exit_140_without_reason_is_failed(self):
        """Exit 140 alone does not prove a run-limit kill: FAILED, not TIMED_OUT."""
        row = BjobsRow("1", 0, "EXIT", 140, "", None, None, None)
        assert observation_from_row(row).state == JobState.FAILED

    def test_job_names_may_contain_the_delimiter(self):
        """job_name is the last field, so a '|' in a name is kept."""
        rows = parse_bjobs_rows("7|0|RUN|-|-|u|q|a|b\n")
        assert rows[0].name == "a|b"

    @pytest.mark.parametrize(
        "text",
        [
            "JOBID USER STAT",
            "x|0|RUN|-|-|u|q|n",
            "1|0|RUN|oops|-|u|q|n",
            "1|0|RUN",
            "1|a|RUN|-|-|u|q|n",
        ],
    )
    def test_garbage(self, text):
        """Headers, short rows and non-numeric ids or codes are refused."""
        with pytest.raises(SchedulerOutputError):
            parse_status(text)

    def test_errors_golden(self):
        """'is not found' names unknown ids; 'No unfinished job found' is benign."""
        unknown, other = parse_bjobs_errors(fixture("bjobs_errors.txt"))
        assert (unknown, other) == (frozenset({"4242", "4243[2]"}), ())
        assert parse_bjobs_errors("LSF is down. Please wait ...\n")[1] == (
            "LSF is down. Please wait ...",
        )

    def test_queue_entries(self):
        """Queue entries name array elements id[index] and keep the raw state."""
        entries = parse_queue(fixture("bjobs_o_rows.txt"))
        last = entries[-1]
        assert (
            last.scheduler_job_id,
            last.name,
            last.user,
            last.state,
            last.raw_state,
        ) == ("5313[3]", "arr[3]", "dave", JobState.RUNNING, "RUN")
        assert entries[0].partition == "normal"


@pytest.mark.parametrize(
    ("rc", "output", "outcome"),
    [
        (0, "Job <5> is being terminated\n", "terminating"),
        (255, "Job <5>: Job has already finished\n", "finished"),
        (255, "Job <5>: No matching job found\n", "unknown"),
        (255, "bkill: LSF is down\n", "error"),
        (0, "", "terminating"),
    ],
)
def test_bkill_outcomes(rc, output, outcome):
    """bkill's replies are classified; only real failures are errors."""
    assert bkill_outcome(rc, output) == outcome
