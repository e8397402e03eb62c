"""Every Hypothesis strategy the test suite uses, built over molq's own classes."""

from __future__ import annotations

import functools
import string
from typing import TypeVar

import hypothesis.strategies as st

from molq.core import (
    ArchiveJob,
    Command,
    DependencyRef,
    Duration,
    InvalidTransition,
    JobEvent,
    JobExecution,
    JobRecord,
    JobResources,
    JobScheduling,
    JobSpec,
    JobState,
    MarkCleaned,
    MarkLost,
    Memory,
    Observation,
    Observe,
    RecordDependency,
    RecordSubmission,
    RecordSubmitFailure,
    RequestCancel,
    RetryBackoff,
    RetryPolicy,
    ScheduleRetry,
    Script,
    decide,
    evolve,
)
from molq.core._events import (
    JobArchived,
    JobCancelled,
    JobCancelRequested,
    JobCheckpointSaved,
    JobCleaned,
    JobCreated,
    JobDependencyRecorded,
    JobFailed,
    JobLogged,
    JobLost,
    JobQueued,
    JobResultSaved,
    JobRetryScheduled,
    JobSeenAgain,
    JobStarted,
    JobSubmitFailed,
    JobSubmitted,
    JobSucceeded,
    JobTaskChanged,
    JobTimedOut,
    JobUnseen,
    JobUsageRecorded,
)
from molq.core._spec import DEPENDENCY_CONDITIONS
from molq.core._state import TERMINAL_STATES
from molq.core._usage import JobUsage


T = TypeVar("T")


# -- scalars -------------------------------------------------------------------------

# Text that can be stored: UTF-8 encodable (no lone surrogates), no NUL.
texts = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=20)
job_ids = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
env_names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z")
times = st.floats(min_value=0, max_value=4e9, allow_nan=False, allow_infinity=False)
opt_times = st.none() | times
exit_codes = st.integers(min_value=0, max_value=255)
conditions = st.sampled_from(DEPENDENCY_CONDITIONS)
terminal_states = st.sampled_from(sorted(TERMINAL_STATES, key=lambda s: s.value))

# -- units -------------------------------------------------------------------------------

memories = st.builds(Memory, st.integers(min_value=1, max_value=2**62))
durations = st.builds(Duration, st.integers(min_value=0, max_value=10**12))

# -- specs -----------------------------------------------------------------------------------

scripts = st.one_of(
    st.builds(Script.inline, texts),
    st.builds(Script.path, texts.filter(bool)),
)
dependency_refs = st.builds(DependencyRef, job_ids, conditions)
resources = st.builds(
    JobResources,
    cpu_count=st.none() | st.integers(1, 128),
    memory=st.none() | memories,
    gpu_count=st.none() | st.integers(1, 8),
    time_limit=st.none() | durations,
)
scheduling = st.one_of(
    st.builds(
        JobScheduling,
        partition=st.none() | texts,
        account=st.none() | texts,
        dependency=st.none() | texts,
        node_count=st.none() | st.integers(1, 64),
        exclusive_node=st.booleans(),
    ),
    st.builds(
        JobScheduling,
        partition=st.none() | texts,
        dependencies=st.lists(dependency_refs, max_size=3).map(tuple),
    ),
)
executions = st.builds(
    JobExecution,
    env=st.none() | st.dictionaries(env_names, texts, max_size=3),
    cwd=st.none() | texts,
    job_name=st.none() | texts,
    output_file=st.none() | texts,
    error_file=st.none() | texts,
)
_spec_common = {
    "resources": resources,
    "scheduling": scheduling,
    "execution": executions,
    "metadata": st.dictionaries(texts, texts, max_size=3),
    "cwd": texts,
    "max_duration": st.none() | durations,
}
job_specs = st.one_of(
    st.builds(
        JobSpec,
        st.just("argv"),
        argv=st.lists(texts, min_size=1, max_size=4).map(tuple),
        **_spec_common,
    ),
    st.builds(JobSpec, st.just("command"), command=texts, **_spec_common),
    st.builds(JobSpec, st.just("script"), script=scripts, **_spec_common),
)
backoffs = st.builds(
    RetryBackoff,
    mode=st.sampled_from(["fixed", "exponential"]),
    initial_seconds=st.floats(0, 100),
    maximum_seconds=st.floats(0, 1000),
    factor=st.floats(1, 10),
)
retry_policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 5),
    retry_on_states=st.lists(terminal_states, max_size=3, unique=True).map(tuple),
    retry_on_exit_codes=st.none() | st.lists(exit_codes, max_size=3).map(tuple),
    backoff=backoffs,
)

# -- scheduler observations and commands -----------------------------------------------


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Pick a strategy with the given relative weights (one_of would merge repeats)."""
    return st.sampled_from([strategy for weight, strategy in choices for _ in range(weight)]).flatmap(
        lambda strategy: strategy
    )


observed_states = weighted(
    (2, st.sampled_from([JobState.QUEUED, JobState.RUNNING])),
    (1, st.none()),
    (1, st.sampled_from([JobState.SUCCEEDED, JobState.FAILED, JobState.TIMED_OUT])),
    (1, st.sampled_from(list(JobState))),
)
observations = st.builds(
    Observation,
    state=observed_states,
    raw_state=texts,
    exit_code=st.none() | exit_codes,
    started_at=opt_times,
    finished_at=opt_times,
    reason=st.none() | texts,
)
observe_commands = st.builds(
    Observe,
    observations,
    absences_before_lost=st.integers(1, 4),
    seconds_before_lost=st.floats(0, 120),
)
submissions = st.builds(RecordSubmission, job_ids, command=texts, adopted=st.booleans())
# Observations dominate, as they do in a real job's life.
commands: st.SearchStrategy[Command] = weighted(
    (12, observe_commands),
    (1, submissions),
    (1, st.builds(RecordSubmitFailure, texts)),
    (1, st.builds(MarkLost, texts)),
    (1, st.builds(RequestCancel, st.none() | texts, before_submission=st.booleans())),
    (1, st.builds(ScheduleRetry, job_ids, st.floats(0, 600))),
    (1, st.builds(RecordDependency, job_ids, conditions, texts)),
    (1, st.builds(MarkCleaned, st.lists(texts, max_size=2).map(tuple))),
    (1, st.builds(ArchiveJob, texts)),
)
steps = st.floats(0, 100, allow_nan=False)


# -- events ------------------------------------------------------------------------------------


def created_events(job_id: st.SearchStrategy[str] = job_ids) -> st.SearchStrategy[JobCreated]:
    """``job.created`` events (the first event of every valid history)."""
    return st.builds(
        JobCreated,
        job_id=job_id,
        at=times,
        cluster_name=texts,
        scheduler=st.sampled_from(["local", "slurm", "pbs", "lsf"]),
        root_job_id=job_ids,
        attempt=st.integers(1, 5),
        previous_attempt_job_id=st.none() | job_ids,
        retry_group_id=st.none() | job_ids,
        profile_name=st.none() | texts,
        spec=job_specs,
        retry=retry_policies,
        job_dir=st.none() | texts,
    )


def _finished(cls: type) -> st.SearchStrategy[JobEvent]:
    return st.builds(
        cls,
        job_id=job_ids,
        at=times,
        exit_code=st.none() | exit_codes,
        finished_at=opt_times,
        reason=st.none() | texts,
        raw_state=texts,
        started_at=opt_times,
    )


events: st.SearchStrategy[JobEvent] = st.one_of(
    created_events(),
    st.builds(
        JobSubmitted,
        job_id=job_ids,
        at=times,
        scheduler_job_id=texts,
        command=texts,
        adopted=st.booleans(),
    ),
    st.builds(JobSubmitFailed, job_id=job_ids, at=times, reason=texts),
    st.builds(
        JobDependencyRecorded,
        job_id=job_ids,
        at=times,
        dependency_job_id=job_ids,
        dependency_type=conditions,
        scheduler_dependency=texts,
    ),
    st.builds(JobQueued, job_id=job_ids, at=times, raw_state=texts),
    st.builds(JobStarted, job_id=job_ids, at=times, started_at=opt_times, raw_state=texts),
    _finished(JobSucceeded),
    _finished(JobFailed),
    _finished(JobCancelled),
    _finished(JobTimedOut),
    st.builds(JobLost, job_id=job_ids, at=times, reason=texts),
    st.builds(JobCancelRequested, job_id=job_ids, at=times, reason=st.none() | texts),
    st.builds(JobUnseen, job_id=job_ids, at=times, detail=texts),
    st.builds(JobSeenAgain, job_id=job_ids, at=times),
    st.builds(
        JobRetryScheduled,
        job_id=job_ids,
        at=times,
        due_at=times,
        next_job_id=job_ids,
        delay=st.floats(0, 600),
    ),
    st.builds(
        JobCleaned,
        job_id=job_ids,
        at=times,
        removed=st.lists(texts, max_size=3).map(tuple),
    ),
    st.builds(JobArchived, job_id=job_ids, at=times, reason=texts),
    st.builds(
        JobLogged,
        job_id=job_ids,
        at=times,
        message=texts,
        level=st.sampled_from(["DEBUG", "INFO", "WARNING", "ERROR"]),
        logged_at=opt_times,
        line=st.integers(0, 10**6),
    ),
    *(
        st.builds(
            cls,
            job_id=job_ids,
            at=times,
            seq=st.integers(0, 10**6),
            data=texts,
            saved_at=opt_times,
        )
        for cls in (JobCheckpointSaved, JobResultSaved)
    ),
)
task_states = st.sampled_from([s for s in JobState if s is not JobState.CREATED])
task_changed_events = st.builds(
    JobTaskChanged,
    job_id=job_ids,
    at=times,
    index=st.integers(0, 40),
    state=task_states,
    exit_code=st.none() | st.integers(-1, 255),
    reason=st.none() | texts,
    raw_state=texts,
    task_id=texts,
    started_at=opt_times,
    finished_at=opt_times,
)
events = st.one_of(events, task_changed_events)


finite = st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
usages: st.SearchStrategy[JobUsage] = st.builds(
    JobUsage,
    source=st.sampled_from(["sacct", "qstat", "bjobs", "rusage"]),
    elapsed_seconds=st.none() | finite,
    cpu_seconds=st.none() | finite,
    max_rss_bytes=st.none() | st.integers(0, 2**50),
    max_vmem_bytes=st.none() | st.integers(0, 2**50),
    requested_memory_bytes=st.none() | st.integers(0, 2**50),
    cpus=st.none() | st.integers(1, 4096),
    nodes=st.none() | texts,
    raw_state=texts,
    raw_exit=texts,
    note=texts,
)
events = st.one_of(events, st.builds(JobUsageRecorded, job_id=job_ids, at=times, usage=usages))


def run_commands(created: JobCreated, steps: list[tuple[Command, float]]) -> tuple[JobEvent, ...]:
    """Apply ``steps`` through decide/evolve from ``created``; rejected commands are skipped."""
    record: JobRecord | None = evolve(None, created)
    history: list[JobEvent] = [created]
    now = created.at
    for command, step in steps:
        now += step
        try:
            new = decide(record, command, now=now)
        except InvalidTransition:
            continue
        for event in new:
            record = evolve(record, event)
        history.extend(new)
    return tuple(history)


@st.composite
def command_runs(draw: st.DrawFn) -> list[tuple[Command, float]]:
    """Timed commands; most runs start with a submission so later ones reach every state."""
    run: list[tuple[Command, float]] = []
    if draw(st.integers(0, 4)):
        run.append((draw(submissions), draw(steps)))
    for _ in range(draw(st.integers(0, 25))):
        run.append(draw(st.tuples(commands, steps)))
    return run


@st.composite
def histories(draw: st.DrawFn, job_id: st.SearchStrategy[str] = job_ids) -> tuple[JobEvent, ...]:
    """A valid event history of one job: ``job.created`` then what decide produced."""
    created = draw(created_events(job_id))
    history = run_commands(created, draw(command_runs()))
    final = functools.reduce(evolve, history[1:], evolve(None, created))
    if final.state.is_terminal and draw(st.booleans()):  # the shell records usage once a job ended
        usage = JobUsageRecorded(job_id=created.job_id, at=history[-1].at, usage=draw(usages))
        history = (*history, usage)
    return history


# -- scheduler flags and script directives (issue 15 items 5-6) ---------------------------

directive_dialects = st.sampled_from(["slurm", "pbs", "lsf"])
_HOSTILE = "-=:,[]{}()<>|&;$`'\"\\#!*?~% \t\n\r\x0b\x0c\x00\x1b\x7f\x85\u2028\u2029\xa0aZ09_./"
hostile_texts = st.text(st.sampled_from(_HOSTILE), max_size=24) | st.text(
    st.characters(codec="utf-8"), max_size=24
)
"""Text built to break a directive line: quotes, escapes, separators, line breaks, NUL."""
flag_texts = st.builds(lambda sign, rest: sign + rest, st.sampled_from(["-", "--", " -", "- "]), hostile_texts)
_SCRIPT_LINES = (
    "#!/bin/bash", "", "   ", "# a comment", "  # indented comment", ":", "  :", "echo hi", "true # x",
    "#SBATCH --comment=a", "#SBATCH -J name", "  #SBATCH --nice=3", "#PBS -A acct", "  #PBS -l walltime=1:00:00",
    "#PBS -N x \\", "#BSUB -P proj", "# BSUB -q short", "#BSUB -R \"span[hosts=1]\"", "#BSUB", "#bsub -J low",
)
script_texts = st.lists(st.sampled_from(_SCRIPT_LINES) | hostile_texts, max_size=12).map("\n".join)
"""Scripts mixing directives of every dialect, comments, executable lines and noise."""
