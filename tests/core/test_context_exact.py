"""Job context files read back into events, the probe's output, duration limits and MOLQ_* variables.

What a user sees: `molq logs`/`Job.logs()` lines, `checkpoint()`/`result()` data, the
variables `molq.context()` reads inside the job, a job cancelled at its max_duration.
"""

from __future__ import annotations

import dataclasses

from molq.core import JobSpec, JobState
from molq.core._context import (
    CHECKPOINT_FILE,
    LOG_FILE,
    PROBE_BEGIN,
    PROBE_END,
    PROBE_FILE,
    RESULT_FILE,
    context_env,
    context_events,
    duration_exceeded,
    log_events,
    parse_context_probe,
    saved_events,
    with_context_env,
)
from molq.core._events import JobCheckpointSaved, JobCreated, JobLogged, JobResultSaved
from molq.core._machine import evolve
from molq.core._spec import JobExecution


def created(**changes) -> JobCreated:
    fields = {
        "job_id": "j2", "at": 1.0, "cluster_name": "c", "scheduler": "slurm", "root_job_id": "j1",
        "attempt": 2, "spec": JobSpec("argv", argv=("true",)), "job_dir": "/w/jobs/j2",
    }
    return JobCreated(**(fields | changes))


def record(**changes):
    return dataclasses.replace(evolve(None, created()), **changes)


class TestLogLines:
    def test_json_lines_become_numbered_log_events(self):
        """Each complete JSON line is one event with its message, level, time and line number."""
        text = '{"message": "step 1", "level": "WARNING", "at": 5.5}\n{"message": "step 2"}\n'
        events = log_events(record(log_lines=3), text, now=9.0)
        assert events == (
            JobLogged(job_id="j2", at=9.0, message="step 1", level="WARNING", logged_at=5.5, line=4),
            JobLogged(job_id="j2", at=9.0, message="step 2", level="INFO", logged_at=None, line=5),
        )

    def test_a_line_that_is_not_json_is_kept_raw(self):
        """A line that is not a log record is kept as its text, level RAW."""
        events = log_events(record(), "plain text\n", now=2.0)
        assert events == (JobLogged(job_id="j2", at=2.0, message="plain text", level="RAW", logged_at=None, line=1),)

    def test_a_half_written_last_line_waits(self):
        """A last line without its newline is not read yet."""
        events = log_events(record(), '{"message": "a"}\n{"message": "b', now=2.0)
        assert [e.message for e in events] == ["a"]


class TestSavedFiles:
    def test_newer_checkpoint_is_an_event_with_its_data(self):
        """A checkpoint with a higher seq than recorded becomes job.checkpoint_saved."""
        text = '{"seq": 2, "data": {"step": 7}, "at": 3.5}'
        assert saved_events(record(checkpoint_seq=1), CHECKPOINT_FILE, text, now=4.0) == (
            JobCheckpointSaved(job_id="j2", at=4.0, seq=2, data='{"step": 7}', saved_at=3.5),
        )

    def test_an_already_recorded_checkpoint_is_not_repeated(self):
        """The same or an older seq adds nothing."""
        text = '{"seq": 2, "data": 1}'
        assert saved_events(record(checkpoint_seq=2), CHECKPOINT_FILE, text, now=4.0) == ()

    def test_newer_result_is_an_event_with_its_data(self):
        """A result with a higher seq becomes job.result_saved; an equal seq does not."""
        text = '{"seq": 1, "data": [1, 2], "at": 8.0}'
        assert saved_events(record(), RESULT_FILE, text, now=9.0) == (
            JobResultSaved(job_id="j2", at=9.0, seq=1, data="[1, 2]", saved_at=8.0),
        )
        assert saved_events(record(result_seq=1), RESULT_FILE, text, now=9.0) == ()

    def test_result_seq_does_not_gate_checkpoints(self):
        """A checkpoint is judged by the checkpoint seq, a result by the result seq."""
        text = '{"seq": 1, "data": 0}'
        assert saved_events(record(result_seq=5), CHECKPOINT_FILE, text, now=1.0) != ()
        assert saved_events(record(checkpoint_seq=5), RESULT_FILE, text, now=1.0) != ()

    def test_a_file_of_another_name_gives_nothing(self):
        """Only checkpoint.json and result.json are saves."""
        assert saved_events(record(), "other.json", '{"seq": 1, "data": 0}', now=1.0) == ()

    def test_a_half_written_file_gives_nothing(self):
        """Unreadable content is read again next pass, not an error."""
        assert saved_events(record(), RESULT_FILE, '{"seq": 1, "da', now=1.0) == ()


class TestContextEvents:
    def test_all_files_together(self):
        """Log lines, then the checkpoint, then the result, all at the same time."""
        files = {
            LOG_FILE: '{"message": "hi"}\n',
            CHECKPOINT_FILE: '{"seq": 1, "data": 1}',
            RESULT_FILE: '{"seq": 1, "data": 2}',
        }
        events = context_events(record(), files, now=6.0)
        assert [type(e) for e in events] == [JobLogged, JobCheckpointSaved, JobResultSaved]
        assert {e.at for e in events} == {6.0}

    def test_no_log_file_means_no_log_events(self):
        """Without a log file only the saves count."""
        events = context_events(record(), {RESULT_FILE: '{"seq": 1, "data": 2}'}, now=6.0)
        assert [type(e) for e in events] == [JobResultSaved]


class TestProbe:
    def test_files_of_several_dirs_are_split(self):
        """The probe output gives each job's files with their exact content (``|`` lines, ``x`` tail)."""
        text = (
            f"{PROBE_BEGIN}1\n{PROBE_FILE}{LOG_FILE}\n|line 1\n|line 2x\n{PROBE_END}\n"
            f"{PROBE_FILE}{RESULT_FILE}\n|{{}}x\n{PROBE_END}\n"
            f"{PROBE_BEGIN}2\n{PROBE_FILE}{CHECKPOINT_FILE}\n|x\n{PROBE_END}\n"
        )
        assert parse_context_probe(text) == {
            "1": {LOG_FILE: "line 1\nline 2", RESULT_FILE: "{}"},
            "2": {CHECKPOINT_FILE: ""},
        }

    def test_a_marker_inside_a_file_is_content(self):
        """A content line that looks like a marker (after its ``|``) belongs to the content."""
        text = f"{PROBE_BEGIN}1\n{PROBE_FILE}x\n|{PROBE_FILE}y\n|{PROBE_BEGIN}2x\n{PROBE_END}\n"
        assert parse_context_probe(text) == {"1": {"x": f"{PROBE_FILE}y\n{PROBE_BEGIN}2"}}

    def test_a_file_before_any_dir_is_ignored(self):
        """Output before the first dir marker is not attributed to any job."""
        text = f"{PROBE_FILE}x\nstray\n{PROBE_END}\n{PROBE_BEGIN}/a\n"
        assert parse_context_probe(text) == {"/a": {}}


class TestDuration:
    def running(self, **changes):
        fields = {"state": JobState.RUNNING, "started_at": 100.0, "max_duration_seconds": 60}
        return record(**(fields | changes))

    def test_exceeded_at_the_limit_not_before(self):
        """A job that has run exactly max_duration is over it; a second less is not."""
        assert not duration_exceeded(self.running(), now=159.0)
        assert duration_exceeded(self.running(), now=160.0)

    def test_only_running_jobs_with_a_limit(self):
        """No limit, not running, or no start time: never exceeded."""
        assert not duration_exceeded(self.running(max_duration_seconds=None), now=1e9)
        assert not duration_exceeded(self.running(state=JobState.QUEUED), now=1e9)
        assert not duration_exceeded(self.running(started_at=None), now=1e9)


class TestEnvironment:
    def test_variables_of_an_attempt(self):
        """A job reads its id, its family's first id, its attempt and its dir."""
        assert context_env(created()) == {
            "MOLQ_JOB_ID": "j2", "MOLQ_ROOT_JOB_ID": "j1", "MOLQ_ATTEMPT": "2", "MOLQ_JOB_DIR": "/w/jobs/j2",
        }

    def test_job_dir_from_metadata_when_not_set(self):
        """Without job_dir the spec's molq.job_dir is used; without either it is empty."""
        spec = JobSpec("argv", argv=("true",), metadata={"molq.job_dir": "/m"})
        assert context_env(created(job_dir=None, spec=spec))["MOLQ_JOB_DIR"] == "/m"
        assert context_env(created(job_dir=None))["MOLQ_JOB_DIR"] == ""

    def test_sweep_variables_only_for_sweep_cells(self):
        """A sweep cell also gets MOLQ_SWEEP_ID and MOLQ_SWEEP_CELL."""
        spec = JobSpec("argv", argv=("true",), metadata={"molq.sweep_id": "s1", "molq.sweep_cell": "3"})
        env = context_env(created(spec=spec))
        assert env["MOLQ_SWEEP_ID"] == "s1"
        assert env["MOLQ_SWEEP_CELL"] == "3"
        assert "MOLQ_SWEEP_ID" not in context_env(created())

    def test_molq_variables_override_the_users(self):
        """The job's env keeps the user's variables, but MOLQ_* are molq's."""
        spec = JobSpec("argv", argv=("true",), execution=JobExecution(env={"A": "1", "MOLQ_JOB_ID": "fake"}))
        env = with_context_env(created(spec=spec)).spec.execution.env
        assert env["A"] == "1"
        assert env["MOLQ_JOB_ID"] == "j2"
        assert env["MOLQ_ATTEMPT"] == "2"
