"""SLURM rendering and parsing, checked against output captured from a real cluster.

The files under tests/fixtures/slurm/ were printed by Slurm 22.05.8 (shared/ci/slurm-up)
with SLURM_TIME_FORMAT=%s, except sacct_finished_iso.txt (default time format).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import attrs
import pytest

from molq.core import (
    ConfigError,
    Duration,
    JobExecution,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    Memory,
    Observation,
    SchedulerCapabilities,
    SchedulerOutputError,
    Script,
    compile_dependencies,
)
from molq.core._sched._slurm import (
    SLURM_CAPABILITIES,
    chunk_ids,
    is_slurm_job_id,
    is_unknown_job_error,
    list_queue_argv,
    render_slurm_script,
    sacct_argv,
    scancel_argv,
    scontrol_argv,
    slurm_directives,
    slurm_submit_argv,
    squeue_argv,
)
from molq.core._sched._slurm_parse import (
    SLURM_STATES,
    combine,
    corroborate,
    exit_file_observation,
    needs_accounting,
    parse_exit_code,
    parse_exit_code_file,
    parse_queue,
    parse_sacct,
    parse_sbatch_output,
    parse_scontrol_show_job,
    parse_squeue,
    slurm_state,
)


FIXTURES = Path(__file__).parent.parent / "fixtures" / "slurm"
JOB_DIR = "/scratch/jobs/j1"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def spec(**changes: object) -> JobSpec:
    base = JobSpec(command_type="argv", argv=("echo", "hi"), cwd="/work")
    return attrs.evolve(base, **changes)


def directives(**changes: object) -> list[str]:
    return slurm_directives(spec(**changes), JOB_DIR)


class TestCapabilities:
    def test_everything_is_supported(self):
        """SLURM honours every field a JobSpec can ask for."""
        fields = dataclasses.fields(SchedulerCapabilities)
        assert all(getattr(SLURM_CAPABILITIES, f.name) for f in fields)


class TestRender:
    def test_minimal_script(self):
        """A bare spec gets a name, log paths in the job dir, chdir, then the body."""
        script = render_slurm_script(spec(), JOB_DIR)
        assert script == (
            "#!/bin/bash\n"
            "#SBATCH --job-name=molq-j1\n"
            "#SBATCH --output=/scratch/jobs/j1/stdout\n"
            "#SBATCH --error=/scratch/jobs/j1/stderr\n"
            "#SBATCH --chdir=/work\n"
            "\n"
            "cd /work || exit 127\n"
            "echo hi\n"
            "__molq_rc=$?\n"
            "printf '%s\\n' \"$__molq_rc\" > /scratch/jobs/j1/exit_code.tmp"
            " && mv -f /scratch/jobs/j1/exit_code.tmp /scratch/jobs/j1/exit_code\n"
            'exit "$__molq_rc"\n'
        )

    def test_every_option(self):
        """Each resource and scheduling field becomes its sbatch directive."""
        resources = JobResources(
            cpu_count=4,
            memory=Memory.gb(1.5),
            gpu_count=2,
            gpu_type="a100",
            time_limit=Duration.parse("1-02:03:04"),
        )
        scheduling = JobScheduling(
            partition="gpu",
            account="proj1",
            priority="10",
            dependency="afterok:12:13,afternotok:14",
            node_count=2,
            exclusive_node=True,
            array_spec="0-9%2",
            email="me@example.org",
            qos="high",
            reservation="maint",
        )
        got = directives(
            resources=resources,
            scheduling=scheduling,
            execution=JobExecution(job_name="train"),
        )
        assert got == [
            "--job-name=train",
            "--output=/scratch/jobs/j1/stdout.%A_%a",
            "--error=/scratch/jobs/j1/stderr.%A_%a",
            "--chdir=/work",
            "--cpus-per-task=4",
            "--mem=1536M",
            "--time=1-02:03:04",
            "--gres=gpu:a100:2",
            "--partition=gpu",
            "--account=proj1",
            "--qos=high",
            "--reservation=maint",
            "--array=0-9%2",
            "--dependency=afterok:12:13,afternotok:14",
            "--mail-user=me@example.org",
            "--kill-on-invalid-dep=yes",
            "--mail-type=END,FAIL",
            "--nice=10",
            "--nodes=2",
            "--exclusive",
        ]

    def test_gpu_without_type(self):
        """A GPU count alone asks for generic GPUs."""
        assert "--gres=gpu:1" in directives(resources=JobResources(gpu_count=1))

    def test_compiled_dependencies_render_verbatim(self):
        """The compiled native expression is the --dependency value."""
        from molq.core import DependencyRef

        refs = (DependencyRef("a", "after_success"), DependencyRef("b", "after"))
        expr, _ = compile_dependencies(refs, {"a": "12", "b": "13"}, "slurm")
        got = directives(scheduling=JobScheduling(dependency=expr))
        assert "--dependency=afterok:12,afterany:13" in got

    def test_metadata_paths_win(self):
        """molq's resolved log paths win over the spec's and the defaults."""
        got = directives(
            metadata={"molq.stdout_path": "/l/o.log", "molq.stderr_path": "/l/e.log"},
            execution=JobExecution(output_file="x.out", error_file="x.err"),
        )
        assert got[1:3] == ["--output=/l/o.log", "--error=/l/e.log"]

    def test_execution_paths_used_without_metadata(self):
        """Without metadata the spec's output and error files are used."""
        got = directives(
            execution=JobExecution(output_file="x.out", error_file="x.err")
        )
        assert got[1:3] == ["--output=x.out", "--error=x.err"]

    def test_array_keeps_task_placeholders(self):
        """An array path that already names the task is left alone."""
        got = directives(
            scheduling=JobScheduling(array_spec="1-3"),
            metadata={"molq.stdout_path": "/l/o-%A_%a.log"},
        )
        assert got[1] == "--output=/l/o-%A_%a.log"

    def test_values_with_spaces_are_quoted(self):
        """Values that sbatch would split or read specially are double-quoted."""
        got = directives(
            execution=JobExecution(job_name='my "big" job\\1'),
            cwd="/data/my dir",
        )
        assert got[0] == '--job-name="my \\"big\\" job\\\\1"'
        assert got[3] == '--chdir="/data/my dir"'

    def test_option_lookalike_stays_one_value(self):
        """A name that looks like another option is quoted, not a new directive."""
        got = directives(execution=JobExecution(job_name="x --partition=gpu"))
        assert got[0] == '--job-name="x --partition=gpu"'

    @pytest.mark.parametrize("bad", ["a\nb", "a\rb", "a\0b"])
    @pytest.mark.parametrize(
        "field",
        [
            "job_name",
            "partition",
            "account",
            "dependency",
            "email",
            "array_spec",
            "cwd",
        ],
    )
    def test_line_breaks_are_refused(self, field, bad):
        """A line break or NUL in any directive value is a ConfigError."""
        if field == "job_name":
            changes: dict[str, object] = {"execution": JobExecution(job_name=bad)}
        elif field == "cwd":
            changes = {"cwd": bad}
        else:
            changes = {"scheduling": JobScheduling(**{field: bad})}
        with pytest.raises(ConfigError):
            directives(**changes)

    def test_log_path_line_break_refused(self):
        """A line break in a log path from metadata is a ConfigError."""
        with pytest.raises(ConfigError, match="--output"):
            directives(metadata={"molq.stdout_path": "/x\n#SBATCH --exclusive"})

    @pytest.mark.parametrize("gpu_type", ["a100,foo:1", "a b", "x:y", ""])
    def test_bad_gpu_type(self, gpu_type):
        """A GPU type that would change the gres request is refused."""
        res = JobResources(gpu_count=1, gpu_type=gpu_type)
        with pytest.raises(ConfigError, match="gpu_type"):
            directives(resources=res)

    @pytest.mark.parametrize("priority", ["high", "1.5", ""])
    def test_priority_must_be_a_nice_value(self, priority):
        """Priority is rendered as --nice, so it must be an integer."""
        with pytest.raises(ConfigError, match="--nice"):
            directives(scheduling=JobScheduling(priority=priority))

    def test_negative_priority(self):
        """A negative nice value is passed through (SLURM decides who may use it)."""
        assert "--nice=-5" in directives(scheduling=JobScheduling(priority=" -5 "))

    def test_zero_memory_refused(self):
        """--mem=0 would mean a whole node, so zero memory is refused."""
        with pytest.raises(ConfigError, match="memory"):
            directives(resources=JobResources(memory=Memory(0)))

    def test_zero_time_refused(self):
        """--time=0 would mean no limit, so a zero time limit is refused."""
        with pytest.raises(ConfigError, match="time_limit"):
            directives(resources=JobResources(time_limit=Duration(0)))

    def test_memory_in_largest_exact_unit(self):
        """Memory is rendered in the largest exact unit (8G, not 8192M); bytes round up to K."""
        assert "--mem=8G" in directives(resources=JobResources(memory=Memory.gb(8)))
        assert "--mem=1025K" in directives(resources=JobResources(memory=Memory(1024**2 + 1)))

    def test_inline_script_runs_from_job_dir(self):
        """An inline script is run from <job_dir>/script.sh by the body."""
        script = render_slurm_script(
            spec(command_type="script", argv=None, script=Script.inline("echo x")),
            JOB_DIR,
        )
        assert "/scratch/jobs/j1/script.sh" in script

    def test_directives_end_before_the_body(self):
        """No #SBATCH line follows the first command, so sbatch reads them all."""
        lines = render_slurm_script(
            spec(command_type="command", argv=None, command="ls"), JOB_DIR
        ).splitlines()
        last = max(i for i, line in enumerate(lines) if line.startswith("#SBATCH"))
        assert all(line.startswith("#") for line in lines[: last + 1])


class TestCommands:
    def test_submit_argv(self):
        """sbatch reads every option from the script."""
        assert slurm_submit_argv("/j/job.sbatch") == (
            "sbatch",
            "--parsable",
            "/j/job.sbatch",
        )

    def test_submit_argv_extra_before_script(self):
        """Site options come before the script path, so sbatch applies them."""
        argv = slurm_submit_argv("/j/job.sbatch", extra=("--clusters=a",))
        assert argv == ("sbatch", "--parsable", "--clusters=a", "/j/job.sbatch")

    def test_squeue_argv(self):
        """squeue asks for all states of the listed jobs in the pipe format."""
        assert squeue_argv(["1", "2_3"]) == (
            "squeue", "-h", "-t", "all", "-j", "1,2_3", "-o", "%i|%T|%S|%e|%r",
        )  # fmt: skip

    def test_sacct_argv(self):
        """sacct asks for allocations only, parsable, without a header."""
        fields = "JobID,State,ExitCode,Start,End"
        assert sacct_argv(["7"]) == (
            "sacct", "-X", "-P", "-n", "-j", "7", "-o", fields,
        )  # fmt: skip

    def test_single_job_argv(self):
        """scontrol and scancel name one job."""
        assert scontrol_argv("5") == ("scontrol", "show", "job", "5")
        assert scancel_argv("5_1") == ("scancel", "5_1")

    @pytest.mark.parametrize("bad", ["", "abc", "1,2", "-1", "1 2", "1_[2-3]"])
    def test_bad_ids_refused(self, bad):
        """Only plain job or task ids reach the command line."""
        assert not is_slurm_job_id(bad)
        with pytest.raises(ConfigError):
            squeue_argv([bad])

    def test_empty_id_list_refused(self):
        """A query needs at least one id."""
        with pytest.raises(ConfigError):
            sacct_argv([])

    def test_queue_argv(self):
        """The queue is the caller's (--me) or a named user's."""
        assert list_queue_argv()[:3] == ("squeue", "-h", "--me")
        assert list_queue_argv("alice")[:4] == ("squeue", "-h", "-u", "alice")

    @pytest.mark.parametrize("user", ["", "-a", "a,b", "a\nb"])
    def test_bad_user_refused(self, user):
        """A user name that squeue would read as something else is refused."""
        with pytest.raises(ConfigError):
            list_queue_argv(user)

    def test_chunk_ids(self):
        """Ids are split in order, repeats dropped."""
        assert chunk_ids(["1", "2", "1", "3"], 2) == (("1", "2"), ("3",))
        assert chunk_ids([], 2) == ()

    def test_chunk_size_must_be_positive(self):
        """A chunk size below one is refused."""
        with pytest.raises(ConfigError):
            chunk_ids(["1"], 0)

    def test_unknown_job_stderr(self):
        """squeue's and scontrol's 'invalid job id' errors are recognised."""
        assert is_unknown_job_error(fixture("squeue_unknown_single.stderr"))
        assert is_unknown_job_error(fixture("scontrol_unknown.stderr"))
        assert not is_unknown_job_error(
            "slurm_load_jobs error: Unable to contact slurm controller"
        )


class TestSbatchOutput:
    def test_captured(self):
        """The id printed by a real sbatch --parsable is returned."""
        assert parse_sbatch_output(fixture("sbatch_parsable.txt")) == "19"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("123;cluster\n", "123"),
            ("  42  \n\n", "42"),
            ("sbatch: warning: something odd\n77\n", "77"),
        ],
    )
    def test_forms(self, text, expected):
        """Cluster suffixes, whitespace and warning lines are tolerated."""
        assert parse_sbatch_output(text) == expected

    @pytest.mark.parametrize("text", ["", "Submitted batch job abc", "12 13", "x;1"])
    def test_garbage(self, text):
        """Anything without an id line is a SchedulerOutputError."""
        with pytest.raises(SchedulerOutputError):
            parse_sbatch_output(text)


class TestStates:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("PENDING", JobState.QUEUED),
            ("CONFIGURING", JobState.QUEUED),
            ("REQUEUED", JobState.QUEUED),
            ("RESV_DEL_HOLD", JobState.QUEUED),
            ("SUSPENDED", JobState.RUNNING),
            ("RUNNING", JobState.RUNNING),
            ("COMPLETING", JobState.RUNNING),
            ("STAGE_OUT", JobState.RUNNING),
            ("COMPLETED", JobState.SUCCEEDED),
            ("FAILED", JobState.FAILED),
            ("CANCELLED", JobState.CANCELLED),
            ("CANCELLED by 0", JobState.CANCELLED),
            ("TIMEOUT", JobState.TIMED_OUT),
            ("DEADLINE", JobState.TIMED_OUT),
            ("NODE_FAIL", JobState.FAILED),
            ("PREEMPTED", JobState.FAILED),
            ("OUT_OF_MEMORY", JobState.FAILED),
            ("BOOT_FAIL", JobState.FAILED),
            ("RUNNING+", JobState.RUNNING),
        ],
    )
    def test_known(self, raw, expected):
        """Every native state maps to one molq state."""
        assert slurm_state(raw) is expected

    @pytest.mark.parametrize("raw", ["", "WEIRD_NEW_STATE", "completed", "PD", "CD"])
    def test_unknown_is_none(self, raw):
        """A state the table does not know is None, never a guess."""
        assert slurm_state(raw) is None

    @pytest.mark.parametrize(
        "native", ["NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY", "BOOT_FAIL"]
    )
    def test_special_failures_keep_native_reason(self, native):
        """A failure that is not a plain FAILED keeps the native state as reason."""
        obs = parse_sacct(f"9|{native}|0:9|100|200\n")["9"]
        assert (obs.state, obs.reason, obs.raw_state) == (
            JobState.FAILED,
            native,
            native,
        )

    def test_unknown_state_row_is_kept_raw(self):
        """A row with an unknown state is reported with state None and its text."""
        obs = parse_squeue("9|FROBNICATING|100|200|None\n")["9"]
        assert obs == Observation(state=None, raw_state="FROBNICATING")

    def test_table_is_complete_for_terminal_states(self):
        """Each molq terminal state except LOST has a native SLURM state."""
        terminal = {s for s in SLURM_STATES.values() if s.is_terminal}
        assert terminal == {
            JobState.SUCCEEDED,
            JobState.FAILED,
            JobState.CANCELLED,
            JobState.TIMED_OUT,
        }


class TestSqueue:
    def test_running_and_pending(self):
        """Running jobs carry a start time; pending ones their reason and no times."""
        got = parse_squeue(fixture("squeue_running_pending.txt"))
        assert got["21"] == Observation(
            state=JobState.RUNNING, raw_state="RUNNING", started_at=1795447431.0
        )
        assert got["23"] == Observation(
            state=JobState.QUEUED, raw_state="PENDING", reason="Dependency"
        )

    def test_array_in_progress(self):
        """An array with running and pending tasks is RUNNING under its base id."""
        got = parse_squeue(fixture("squeue_running_pending.txt"))
        assert got["27_[2-9%2]"].reason == "JobArrayTaskLimit"
        assert got["27"].state is JobState.RUNNING
        assert got["27"].started_at == 1795447431.0

    def test_finished(self):
        """Finished jobs still in slurmctld's memory report their end states."""
        got = parse_squeue(fixture("squeue_finished.txt"))
        assert got["19"].state is JobState.SUCCEEDED
        assert got["19"].exit_code == 0
        assert got["20"].state is JobState.FAILED
        assert got["20"].exit_code is None  # squeue prints no exit code
        assert got["20"].reason == "NonZeroExitCode"
        assert got["21"].state is JobState.CANCELLED
        assert got["21"].finished_at == 1795447433.0

    def test_finished_array_takes_worst_task(self):
        """An array whose task 2 failed is FAILED as a whole."""
        got = parse_squeue(fixture("squeue_finished.txt"))
        assert got["26_2"].state is JobState.FAILED
        assert got["26"].state is JobState.FAILED
        assert got["26"].raw_state == "COMPLETED,FAILED"

    def test_dependency_outcomes(self):
        """afterok on a failed parent is cancelled; afternotok and afterany run."""
        got = parse_squeue(fixture("squeue_dependency_done.txt"))
        assert got["23"].state is JobState.CANCELLED
        assert got["23"].reason == "DependencyNeverSatisfied"
        assert got["23"].started_at is None
        assert got["24"].state is got["25"].state is JobState.SUCCEEDED

    def test_timeout(self):
        """A job killed at its limit is TIMED_OUT with reason TimeLimit."""
        got = parse_squeue(fixture("squeue_timeout.txt"))["40"]
        assert (got.state, got.reason) == (JobState.TIMED_OUT, "TimeLimit")

    def test_skips_unreadable_lines(self):
        """Headers, blank lines and short rows are skipped."""
        text = "JOBID|STATE\n\n5|RUNNING\nx|COMPLETED|1|2|None\n6|COMPLETED|1|2|None\n"
        assert list(parse_squeue(text)) == ["6"]


class TestSacct:
    def test_finished(self):
        """sacct gives exit codes: 3:0 is 3, CANCELLED by 0 is CANCELLED."""
        got = parse_sacct(fixture("sacct_finished.txt"))
        assert got["19"] == Observation(
            state=JobState.SUCCEEDED,
            raw_state="COMPLETED",
            exit_code=0,
            started_at=1795447431.0,
            finished_at=1795447431.0,
        )
        assert (got["20"].state, got["20"].exit_code) == (JobState.FAILED, 3)
        assert got["21"].state is JobState.CANCELLED
        assert got["21"].raw_state == "CANCELLED by 0"

    def test_timeout(self):
        """A timed-out job is TIMED_OUT."""
        got = parse_sacct(fixture("sacct_timeout.txt"))["40"]
        assert got.state is JobState.TIMED_OUT
        assert got.finished_at == 1795447641.0

    def test_arrays(self):
        """Array tasks are combined under the base id: worst state, its exit code."""
        got = parse_sacct(fixture("sacct_arrays.txt"))
        assert (got["26"].state, got["26"].exit_code) == (JobState.FAILED, 3)
        assert got["26"].finished_at == 1795447432.0
        assert got["27"].state is JobState.SUCCEEDED
        assert (got["27"].started_at, got["27"].finished_at) == (
            1795447431.0,
            1795447465.0,
        )

    def test_lagging_accounting(self):
        """Right after start sacct may still say PENDING; that is what is reported."""
        got = parse_sacct(fixture("sacct_running_pending.txt"))
        assert got["21"].state is JobState.QUEUED
        assert got["21"].started_at is None

    def test_dependency_cancelled_never_started(self):
        """A job cancelled for its dependency has no start time."""
        got = parse_sacct(fixture("sacct_dependency_done.txt"))["23"]
        assert (got.state, got.started_at, got.finished_at) == (
            JobState.CANCELLED, None, 1795447435.0,
        )  # fmt: skip

    def test_iso_times_are_not_guessed(self):
        """Times without a zone (SLURM_TIME_FORMAT unset) are left unknown."""
        got = parse_sacct(fixture("sacct_finished_iso.txt"))["20"]
        assert (got.state, got.exit_code, got.started_at) == (JobState.FAILED, 3, None)


class TestScontrol:
    @pytest.mark.parametrize(
        ("name", "state", "exit_code"),
        [
            ("scontrol_completed.txt", JobState.SUCCEEDED, 0),
            ("scontrol_failed.txt", JobState.FAILED, 3),
            ("scontrol_cancelled.txt", JobState.CANCELLED, 143),
            ("scontrol_timeout.txt", JobState.TIMED_OUT, 143),
            ("scontrol_array.txt", JobState.FAILED, 3),
            ("scontrol_running.txt", JobState.RUNNING, None),
            ("scontrol_pending_dependency.txt", JobState.QUEUED, None),
        ],
    )
    def test_captured(self, name, state, exit_code):
        """State and exit code come from each captured record."""
        got = parse_scontrol_show_job(fixture(name))
        assert got is not None
        assert (got.state, got.exit_code) == (state, exit_code)

    def test_times_and_reason(self):
        """Start, end and reason are read from their own fields."""
        got = parse_scontrol_show_job(fixture("scontrol_failed.txt"))
        assert got is not None
        assert (got.started_at, got.finished_at, got.reason) == (
            1795447431.0, 1795447431.0, "NonZeroExitCode",
        )  # fmt: skip

    def test_job_name_cannot_spoof(self):
        """A job named like a state field does not change the parsed state."""
        text = fixture("scontrol_running.txt").replace(
            "JobName=sleeper", "JobName=x JobState=COMPLETED ExitCode=0:0"
        )
        got = parse_scontrol_show_job(text)
        assert got is not None
        assert got.state is JobState.RUNNING

    @pytest.mark.parametrize(
        "text",
        ["", "\n\n", "slurm_load_jobs error: Invalid job id specified\n", "JobId=1\n"],
    )
    def test_nothing_to_read(self, text):
        """No record with a JobState gives None."""
        assert parse_scontrol_show_job(text) is None


class TestQueue:
    def test_captured(self):
        """Every row is listed, including array ranges and other users' tools."""
        entries = parse_queue(fixture("squeue_queue.txt"))
        assert [e.scheduler_job_id for e in entries][:4] == [
            "23",
            "24",
            "25",
            "27_[2-9%2]",
        ]
        first = entries[0]
        assert (first.name, first.user, first.partition, first.state) == (
            "child-ok", "root", "debug", JobState.QUEUED,
        )  # fmt: skip
        assert (first.submit_time, first.start_time) == (1795447431.0, None)
        running = next(e for e in entries if e.scheduler_job_id == "18")
        assert (running.state, running.start_time) == (JobState.RUNNING, 1795447419.0)

    def test_name_with_pipes(self):
        """The name is the last field, so a | inside it is kept."""
        (entry,) = parse_queue("5|PENDING|debug|bob|100|N/A|a|b\n")
        assert entry.name == "a|b"

    def test_unknown_state_listed_as_queued(self):
        """An unknown state keeps its raw text and is listed as QUEUED."""
        (entry,) = parse_queue("5|NEWSTATE|debug|bob|100|N/A|x\n")
        assert (entry.state, entry.raw_state) == (JobState.QUEUED, "NEWSTATE")


class TestExitCodes:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("0:0", 0),
            ("3:0", 3),
            ("0:15", 143),
            ("0:9", 137),
            ("", None),
            ("x", None),
            ("1", None),
        ],
    )
    def test_exit_code(self, text, expected):
        """exit:signal becomes a shell-style status."""
        assert parse_exit_code(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("0\n", 0),
            ("3", 3),
            ("255\n", 255),
            ("256", None),
            ("", None),
            ("-1", None),
            ("x", None),
        ],
    )
    def test_exit_code_file(self, text, expected):
        """The job body's exit_code file holds one status 0-255."""
        assert parse_exit_code_file(text) == expected

    def test_exit_file_observation(self):
        """An exit code file says the script finished, with that status."""
        assert exit_file_observation("0\n") == Observation(
            state=JobState.SUCCEEDED, exit_code=0, reason="exit_code file"
        )
        failed = exit_file_observation("3\n")
        assert failed is not None
        assert (failed.state, failed.exit_code) == (JobState.FAILED, 3)
        assert exit_file_observation("garbage") is None


class TestCombining:
    def test_needs_accounting(self):
        """Absent jobs and ended jobs without an exit code need more evidence."""
        assert needs_accounting(None)
        assert needs_accounting(Observation(state=JobState.FAILED))
        assert not needs_accounting(Observation(state=JobState.FAILED, exit_code=3))
        assert not needs_accounting(Observation(state=JobState.RUNNING))
        assert not needs_accounting(Observation(state=None))

    def test_corroborate_fills_gaps_when_states_agree(self):
        """Agreeing evidence fills the exit code and times."""
        first = Observation(state=JobState.FAILED, reason="NonZeroExitCode")
        other = Observation(
            state=JobState.FAILED, exit_code=3, started_at=1.0, finished_at=2.0
        )
        assert corroborate(first, other) == Observation(
            state=JobState.FAILED,
            exit_code=3,
            started_at=1.0,
            finished_at=2.0,
            reason="NonZeroExitCode",
        )

    def test_corroborate_ignores_disagreement(self):
        """Lagging accounting that disagrees does not change the verdict."""
        first = Observation(state=JobState.FAILED)
        assert (
            corroborate(first, Observation(state=JobState.SUCCEEDED, exit_code=0))
            is first
        )
        assert corroborate(first, None) is first
        other = Observation(state=JobState.QUEUED)
        assert corroborate(None, other) is other

    def test_combine_unknown_task_blocks_terminal(self):
        """An array with a task in an unknown state is not reported finished."""
        parts = [
            Observation(state=JobState.SUCCEEDED, exit_code=0),
            Observation(state=None, raw_state="X"),
        ]
        assert combine(parts).state is None

    def test_combine_empty(self):
        """No tasks, no state."""
        assert combine([]) == Observation(state=None)
